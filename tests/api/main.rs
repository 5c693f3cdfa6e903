//! The integration tests: one binary, one fresh database per test (SQLite by default, PostgreSQL
//! when `MOMENTS_TEST_DATABASE_URL` is set).

// A test's helpers are `pub` for the other test modules, and a test may unwrap: a panic is its failure.
#![allow(unreachable_pub, clippy::unwrap_used)]

mod binary;
mod helpers;
mod socket;
mod world;

pub use world::reference_from_import;

mod access;
mod answers;
mod auth;
mod bad_input;
mod bounds;
mod demo;
mod exhaustion;
mod house;
mod http;
mod import;
mod limits;
mod live;
mod live_edge;
mod operations;
mod operators;
mod pinning;
mod plans;
mod properties;
mod properties_live;
mod schema;
mod server;
mod statements;
mod validation;
mod vectors;
mod visibility;
mod worlds;
