//! The integration tests: one binary, one fresh database per test (SQLite by default, PostgreSQL
//! when `MOMENTS_TEST_DATABASE_URL` is set).

mod helpers;

mod auth;
mod demo;
mod http;
mod import;
mod limits;
mod schema;
mod validation;
