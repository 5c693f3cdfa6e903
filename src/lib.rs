//! moments: a GraphQL server for a social profile with pinned posts, in the style of WeChat
//! Moments' "pin to top". This crate is the server — [`http`] and [`graphql`] (the surface),
//! [`bus`] (changes as they happen), [`cli`] — over the workspace's other layers: the `store`
//! crate (tables, queries and records), the `rules` crate (the rules, pure) and `migration`.

pub mod auth;
pub mod bus;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod error;
pub mod generate;
pub mod graphql;
pub mod http;
pub mod ids;
pub mod import;
pub mod limits;
pub mod rate_limit;
pub mod services;

pub use error::{Error, Result};
