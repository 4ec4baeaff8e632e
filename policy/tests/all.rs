//! The policy engine's integration tests: every file here is a module of this one test
//! binary, because each integration-test binary links the crate and its dependencies again.

mod diff;
mod docs;
mod evaluate;
mod parse;
mod util;
