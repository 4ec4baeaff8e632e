//! The registry's integration and end-to-end tests, one binary: a module per part of the
//! registry, and `util` with the one test application, the one request helper and problem
//! assertion, the fresh database per test, and the real binaries and OpenID provider as processes.
//!
//! One binary rather than one per file, because each integration-test binary links the whole
//! workspace again (crates.io's `src/tests/all.rs` does the same).

mod util;

mod allowlists;
mod api;
mod audit;
mod bulk;
mod e2e;
mod identity;
mod openapi;
mod policies;
mod read_model;
mod reviews;
mod scans;
mod signatures;
mod validation;
