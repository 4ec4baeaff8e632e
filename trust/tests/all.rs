//! The trust crate's integration tests: every file here is a module of this one test
//! binary, because each integration-test binary links the crate and its dependencies again.

mod allowlist;
mod key_signatures;
mod sigstore_bundles;
mod trust_roots;
mod util;
