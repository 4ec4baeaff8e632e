//! mcpreg-server: the registry service.
//!
//! `main.rs` is a thin command line over this library so that integration tests can build the
//! router and reach the database functions directly.

pub mod allowlists;
pub mod app;
pub mod audit_chain;
pub mod auth;
pub mod catalog;
pub mod config;
pub mod db;
pub mod embedded_pg;
pub mod error;
pub mod extract;
pub mod facts;
pub mod label;
pub mod namespaces;
pub mod official_api;
pub mod policies;
pub mod read_model;
pub mod review;
pub mod router;
pub mod routes;
pub mod scans;
pub mod server_tags;
pub mod signatures;
pub mod signing;
pub mod tokens;
pub mod tools;
pub mod trusted;
