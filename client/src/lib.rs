//! A typed client for the mcpreg registry: one method per endpoint, taking and returning the
//! wire types of `mcpreg-api`, so that a change of the server's contract that the client does
//! not follow is a compile error rather than a `body["x"]` that is silently `null`.
//!
//! The CLI is built on it; tests that are not about the raw wire use it too. Every registry URL
//! is built here, with each path segment percent-encoded (a server name's `/` travels as `%2F`,
//! as the official registry API expects).

#![forbid(unsafe_code)]

mod error;
mod transport;

mod access;
mod allowlists;
mod official;
mod policy;
mod reviews;
mod versions;

pub use access::AuditQuery;
pub use error::{ApiFailure, ClientError};
pub use official::ServerListQuery;
pub use reviews::ReviewQuery;
pub use transport::{Client, Fetched};

/// What every call returns.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
