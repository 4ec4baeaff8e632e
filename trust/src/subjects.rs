//! What a signature of a server.json can be over: the digest of its canonical form and each
//! package's artifact digest. The one reading of a document's subjects, used by the registry
//! when it verifies a signature and by the CLI when it checks one offline.

use mcpreg_api::trust::SignatureTarget;
use serde_json::Value;

use crate::{PackageDigestError, Sha256Digest, package_digest, server_json_digest};

/// Everything a signature of a server.json can be over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subjects {
    /// `sha256:` of the RFC 8785 canonical form of the server.json.
    pub server_json: Sha256Digest,
    /// The packages, in document order.
    pub packages: Vec<SubjectPackage>,
}

/// One package of a server.json and the digest it pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectPackage {
    /// `registryType`.
    pub registry_type: String,
    /// `identifier`.
    pub identifier: String,
    /// The artifact digest; `None` when the package pins none (unpinned).
    pub digest: Option<Sha256Digest>,
}

/// A package whose digest field does not parse.
#[derive(Debug, Clone)]
pub struct SubjectError {
    /// The package's index in `packages`.
    pub index: usize,
    /// What is wrong, and in which field.
    pub error: PackageDigestError,
}

impl SubjectError {
    /// Where the problem is in the document: `packages[0].fileSha256`.
    pub fn location(&self) -> String {
        format!("packages[{}].{}", self.index, self.error.field)
    }
}

impl Subjects {
    /// The subjects of a server.json, by the registry's rules (`fileSha256`, or `@sha256:` for
    /// OCI images); every package whose digest does not parse, when any does not.
    pub fn of(document: &Value) -> Result<Self, Vec<SubjectError>> {
        let list = document
            .get("packages")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut packages = Vec::with_capacity(list.len());
        let mut errors = Vec::new();
        for (index, package) in list.iter().enumerate() {
            let text = |keys: &[&str]| {
                keys.iter()
                    .find_map(|k| package.get(*k).and_then(Value::as_str))
                    .unwrap_or_default()
                    .to_owned()
            };
            let digest = package_digest(package).unwrap_or_else(|error| {
                errors.push(SubjectError { index, error });
                None
            });
            packages.push(SubjectPackage {
                // `registry_type`: the 2025-07-09 schema's spelling.
                registry_type: text(&["registryType", "registry_type"]),
                identifier: text(&["identifier"]),
                digest,
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            server_json: server_json_digest(document),
            packages,
        })
    }

    /// Every subject that has a digest, server.json first.
    pub fn candidates(&self) -> Vec<(SignatureTarget, Sha256Digest)> {
        let mut all = vec![(SignatureTarget::ServerJson, self.server_json)];
        for (i, p) in self.packages.iter().enumerate() {
            if let (Some(d), Ok(i)) = (p.digest, u32::try_from(i)) {
                all.push((SignatureTarget::Package(i), d));
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_malformed_package_digest_is_named_and_unpinned_packages_are_not_candidates() {
        let bad = json!({"packages": [
            {"registryType": "npm", "identifier": "a", "version": "1", "fileSha256": "nope"},
            {"registryType": "npm", "identifier": "b", "version": "1"},
            {"registryType": "pypi", "identifier": "c", "version": "1", "fileSha256": "12"},
        ]});
        let errors = Subjects::of(&bad).unwrap_err();
        let locations: Vec<String> = errors.iter().map(SubjectError::location).collect();
        assert_eq!(
            locations,
            ["packages[0].fileSha256", "packages[2].fileSha256"]
        );

        let digest = "a".repeat(64);
        let good = json!({"packages": [
            {"registryType": "npm", "identifier": "a", "version": "1"},
            {"registryType": "npm", "identifier": "b", "version": "1", "fileSha256": digest},
        ]});
        let subjects = Subjects::of(&good).expect("valid digests");
        assert_eq!(subjects.packages[0].digest, None);
        assert_eq!(subjects.server_json, server_json_digest(&good));
        let targets: Vec<SignatureTarget> =
            subjects.candidates().into_iter().map(|(t, _)| t).collect();
        assert_eq!(
            targets,
            [SignatureTarget::ServerJson, SignatureTarget::Package(1)]
        );
    }
}
