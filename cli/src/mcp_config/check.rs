//! Checking a configured server against a verified allowlist, and describing it without its
//! secrets.

use std::collections::BTreeSet;

use mcpreg_api::Status;
use mcpreg_api::allowlist::{AllowedPackage, AllowlistDocument, AllowlistEntry, Transport};
use mcpreg_trust::Sha256Digest;
use serde::Serialize;

use super::formats::{ConfiguredServer, Launch};
use super::launchers::{ImageRef, PackageRegistry, Runs, identify};

/// The result of checking one configured server against an allowlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// An entry allows it.
    Allowed,
    /// Nothing in the allowlist names its package or image.
    Unknown,
    /// The allowlist names the package, at other versions.
    WrongVersion,
    /// Run without an exact version (newest wins): it cannot be checked.
    Unpinned,
    /// A remote URL no entry names.
    RemoteNotAllowed,
    /// An entry names it, but not for this transport.
    TransportNotAllowed,
    /// A local program: it cannot be verified.
    Local,
    /// An OCI image whose digest is not the one the allowlist pins.
    DigestMismatch,
}

impl Verdict {
    /// The name used in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Unknown => "unknown",
            Self::WrongVersion => "wrong_version",
            Self::Unpinned => "unpinned",
            Self::RemoteNotAllowed => "remote_not_allowed",
            Self::TransportNotAllowed => "transport_not_allowed",
            Self::Local => "local",
            Self::DigestMismatch => "digest_mismatch",
        }
    }
}

/// A [`Verdict`] with the entry that decided it and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The result.
    pub verdict: Verdict,
    /// The allowlist entry (`name@version`) it matched, if any.
    pub entry: Option<String>,
    /// Why, and what to do.
    pub why: String,
}

fn finding(verdict: Verdict, entry: Option<&AllowlistEntry>, why: impl Into<String>) -> Finding {
    Finding {
        verdict,
        entry: entry.map(|e| format!("{}@{}", e.name, e.version)),
        why: why.into(),
    }
}

fn allowed(entry: &AllowlistEntry, why: String) -> Finding {
    let why = if entry.status == Status::Deprecated {
        format!("{why} (deprecated: move to a newer version)")
    } else {
        why
    };
    finding(Verdict::Allowed, Some(entry), why)
}

/// What the server is, for people: the package or image it runs, or its URL without query.
pub fn describe(server: &ConfiguredServer) -> String {
    match &server.launch {
        Launch::Remote { url, kind } => format!("{kind} {}", display_url(url)),
        Launch::Stdio { command, args } => identify(command, args).to_string(),
    }
}

/// A URL without credentials, query or fragment (they may hold secrets).
fn display_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let hidden = u.query().is_some() || u.fragment().is_some();
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            if hidden {
                format!("{u}?…")
            } else {
                u.to_string()
            }
        }
        Err(_) => "(not a URL)".into(),
    }
}

/// `scheme://host:port/path` with scheme and host lowercased and the port explicit, or `None` for
/// what is not an absolute http(s) URL.
fn normalise_url(url: &str) -> Option<String> {
    let u = url::Url::parse(url.trim()).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?.to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    Some(format!(
        "{}://{host}:{}{}",
        u.scheme(),
        u.port_or_known_default()?,
        u.path()
    ))
}

/// Checks one configured server against a verified allowlist. Fails closed: only an entry that
/// names exactly what the server runs (package and exact version, image digest, or URL) allows it.
/// Entries whose status is `deleted` allow nothing.
pub fn check(server: &ConfiguredServer, doc: &AllowlistDocument) -> Finding {
    let entries: Vec<&AllowlistEntry> = doc
        .entries
        .iter()
        .filter(|e| e.status != Status::Deleted)
        .collect();
    match &server.launch {
        Launch::Remote { url, .. } => check_remote(url, &entries, &doc.allowlist),
        Launch::Stdio { command, args } => match identify(command, args) {
            Runs::Local { reason } => finding(
                Verdict::Local,
                None,
                format!(
                    "a local program ({reason}): it cannot be verified against the allowlist; run a package or image the allowlist names"
                ),
            ),
            Runs::Package {
                registry,
                identifier,
                version,
                pinned,
                launcher,
            } => check_package(
                registry,
                &identifier,
                version.as_deref(),
                pinned,
                launcher,
                &entries,
                &doc.allowlist,
            ),
            Runs::Image(image) => check_image(&image, &entries, &doc.allowlist),
        },
    }
}

fn check_remote(url: &str, entries: &[&AllowlistEntry], allowlist: &str) -> Finding {
    let Some(wanted) = normalise_url(url) else {
        return finding(
            Verdict::RemoteNotAllowed,
            None,
            "the URL is not an absolute http(s) URL, so it cannot be matched",
        );
    };
    for e in entries {
        if e.remotes
            .iter()
            .any(|r| normalise_url(&r.url).as_deref() == Some(wanted.as_str()))
        {
            if !e.transports.contains(&Transport::Remote) {
                return finding(
                    Verdict::TransportNotAllowed,
                    Some(e),
                    format!(
                        "{}@{} names this URL but is not allowed over remote transport",
                        e.name, e.version
                    ),
                );
            }
            return allowed(
                e,
                format!("the URL is a remote of {}@{}", e.name, e.version),
            );
        }
    }
    finding(
        Verdict::RemoteNotAllowed,
        None,
        format!(
            "no entry of allowlist `{allowlist}` names this URL (compared by scheme, host, port and exact path)"
        ),
    )
}

fn check_package(
    registry: PackageRegistry,
    identifier: &str,
    version: Option<&str>,
    pinned: bool,
    launcher: &str,
    entries: &[&AllowlistEntry],
    allowlist: &str,
) -> Finding {
    let kind = registry.registry_type();
    let candidates: Vec<(&AllowlistEntry, &AllowedPackage)> = entries
        .iter()
        .flat_map(|e| e.packages.iter().map(move |p| (*e, p)))
        .filter(|(_, p)| p.registry_type == kind && registry.same_name(&p.identifier, identifier))
        .collect();
    if candidates.is_empty() {
        return finding(
            Verdict::Unknown,
            None,
            format!("allowlist `{allowlist}` names no {kind} package `{identifier}`"),
        );
    }
    let allowed_versions = candidates
        .iter()
        .map(|(_, p)| p.version.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>();
    let pin_hint = |v: &str| match registry {
        PackageRegistry::Npm => format!("`{launcher} -y {identifier}@{v}`"),
        PackageRegistry::Pypi => format!("`{launcher} {identifier}=={v}`"),
    };
    let newest = allowed_versions.last().copied().unwrap_or_default();
    let Some(version) = version.filter(|_| pinned) else {
        return finding(
            Verdict::Unpinned,
            Some(candidates[0].0),
            format!(
                "`{identifier}` without an exact version runs whatever is newest, so it cannot be checked; pin an allowed version ({}), e.g. {}",
                allowed_versions.join(", "),
                pin_hint(newest)
            ),
        );
    };
    let Some((entry, package)) = candidates.iter().find(|(_, p)| p.version == version) else {
        return finding(
            Verdict::WrongVersion,
            Some(candidates[0].0),
            format!(
                "allowlist `{allowlist}` allows {kind} `{identifier}` at {}, not {version}; pin it: {}",
                allowed_versions.join(", "),
                pin_hint(newest)
            ),
        );
    };
    if !entry.transports.contains(&Transport::Stdio) {
        return finding(
            Verdict::TransportNotAllowed,
            Some(entry),
            format!(
                "{}@{} is not allowed over stdio (run locally); use its remote",
                entry.name, entry.version
            ),
        );
    }
    let digest = package
        .digest
        .as_deref()
        .map(|d| format!("; {launcher} does not check the artifact digest ({d})"))
        .unwrap_or_default();
    allowed(
        entry,
        format!(
            "{kind} {identifier}@{version} is {}@{}{digest}",
            entry.name, entry.version
        ),
    )
}

fn same_digest(a: &str, b: &str) -> bool {
    matches!((Sha256Digest::parse_prefixed_or_hex(a), Sha256Digest::parse_prefixed_or_hex(b)), (Ok(a), Ok(b)) if a == b)
}

fn check_image(image: &ImageRef, entries: &[&AllowlistEntry], allowlist: &str) -> Finding {
    // (entry, tag, digest) of every allowed image of this repository.
    let candidates: Vec<(&AllowlistEntry, Option<String>, Option<String>)> = entries
        .iter()
        .flat_map(|e| e.packages.iter().map(move |p| (*e, p)))
        .filter(|(_, p)| p.registry_type == "oci")
        .filter_map(|(e, p)| {
            let allowed = ImageRef::parse(&p.identifier);
            (allowed.repository == image.repository).then(|| {
                (
                    e,
                    allowed.tag.or_else(|| Some(p.version.clone())),
                    p.digest.clone().or(allowed.digest),
                )
            })
        })
        .collect();
    if candidates.is_empty() {
        return finding(
            Verdict::Unknown,
            None,
            format!(
                "allowlist `{allowlist}` names no OCI image `{}`",
                image.repository
            ),
        );
    }
    let stdio_only = |e: &AllowlistEntry, why: String| {
        if e.transports.contains(&Transport::Stdio) {
            allowed(e, why)
        } else {
            finding(
                Verdict::TransportNotAllowed,
                Some(e),
                format!(
                    "{}@{} is not allowed over stdio (run locally)",
                    e.name, e.version
                ),
            )
        }
    };
    let pinned_digests: Vec<&str> = candidates
        .iter()
        .filter_map(|(_, _, d)| d.as_deref())
        .collect();
    if let Some(digest) = &image.digest {
        if let Some((e, _, _)) = candidates
            .iter()
            .find(|(_, _, d)| d.as_deref().is_some_and(|d| same_digest(d, digest)))
        {
            return stdio_only(
                e,
                format!("the image digest is that of {}@{}", e.name, e.version),
            );
        }
        let why = if pinned_digests.is_empty() {
            format!(
                "the allowlist pins no digest for `{}`, so {digest} cannot be confirmed",
                image.repository
            )
        } else {
            format!(
                "the image is pinned to {digest}, but the allowlist allows {}",
                pinned_digests.join(", ")
            )
        };
        return finding(Verdict::DigestMismatch, Some(candidates[0].0), why);
    }
    let tag = image.tag.as_deref().unwrap_or("latest");
    let Some((e, _, d)) = candidates
        .iter()
        .find(|(_, t, _)| t.as_deref() == Some(tag) && tag != "latest")
    else {
        let tags: Vec<&str> = candidates
            .iter()
            .filter_map(|(_, t, _)| t.as_deref())
            .collect();
        let (verdict, what) = if tag == "latest" {
            (
                Verdict::Unpinned,
                "without a tag or digest it runs whatever `latest` is, so it cannot be checked"
                    .to_owned(),
            )
        } else {
            (Verdict::WrongVersion, format!("tag `{tag}` is not allowed"))
        };
        return finding(
            verdict,
            Some(candidates[0].0),
            format!(
                "{what}; allowlist `{allowlist}` allows {} at {}",
                image.repository,
                tags.join(", ")
            ),
        );
    };
    match d {
        Some(d) => finding(
            Verdict::Unpinned,
            Some(e),
            format!(
                "a tag can be moved to another image; pin the digest the allowlist names: {}:{tag}@{d}",
                image.repository
            ),
        ),
        None => stdio_only(
            e,
            format!("the image tag is that of {}@{}", e.name, e.version),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_compared_normalised_and_shown_without_secrets() {
        assert_eq!(
            normalise_url("HTTPS://MCP.Acme.Example:443/github/mcp?x=1"),
            normalise_url("https://mcp.acme.example/github/mcp")
        );
        assert_ne!(
            normalise_url("https://mcp.acme.example/github/mcp/"),
            normalise_url("https://mcp.acme.example/github/mcp")
        );
        assert_ne!(
            normalise_url("https://mcp.acme.example/GitHub/mcp"),
            normalise_url("https://mcp.acme.example/github/mcp")
        );
        assert_ne!(
            normalise_url("http://mcp.acme.example/github/mcp"),
            normalise_url("https://mcp.acme.example/github/mcp")
        );
        assert_eq!(normalise_url("${input:url}"), None);
        assert_eq!(
            display_url("https://user:pw@h.example/p?api_key=secret"),
            "https://h.example/p?…"
        );
    }
}
