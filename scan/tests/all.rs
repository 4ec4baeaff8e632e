//! The scan crate's integration tests: every file here is a module of this one test
//! binary, because each integration-test binary links the crate and its dependencies again.

mod ingest;
mod manifest;
mod scanner;
mod util;
