//! moments: a GraphQL server for a social profile with pinned posts, in the style of WeChat
//! Moments' "pin to top". Layers, from the edge in: [`http`] and [`graphql`] (the surface),
//! [`domain`] (the rules, pure), [`store`] (SeaORM queries), [`entity`] (tables) and the
//! `migration` crate.

pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod entity;
pub mod error;
pub mod generate;
pub mod graphql;
pub mod http;
pub mod ids;
pub mod import;
pub mod live;
pub mod rate_limit;
pub mod store;

pub use error::{Error, Result};
