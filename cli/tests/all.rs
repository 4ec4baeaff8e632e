//! The CLI's integration tests: every file here is a module of this one test binary, because
//! each integration-test binary links the crate and its dependencies again.

mod check;
mod mcp_servers;
mod scan;
mod sigstore_conformance;
mod tools;
