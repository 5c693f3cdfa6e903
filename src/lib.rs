//! moments: a GraphQL server for a social profile with pinned posts, in the style of WeChat
//! Moments' "pin to top". This crate is the server — `http` and `graphql` (the surface), `bus`
//! (changes as they happen), [`cli`] — over the workspace's other layers: the `store`
//! crate (tables, queries and records), the `rules` crate (the rules, pure) and `migration`.

// The library's interface: the command line, its settings, the import, the world generator, ids,
// the bounds, and what an embedding (or a test) needs to build and serve the router. The rest is
// the crate's own.
pub mod cli;
pub mod config;
pub mod demo;
pub mod generate;
pub mod ids;
pub mod import;
pub mod limits;

mod auth;
mod bus;
mod clock;
mod error;
mod graphql;
mod http;
mod rate_limit;
mod services;

pub use auth::{Keys, TOKEN_LIFETIME_DAYS};
pub use clock::Clock;
pub use graphql::{
    budget::{MAX_CONTENT_BYTES, turns_per_owner},
    sdl,
};
pub use http::{
    HttpOptions, MAX_BODY_BYTES,
    client_address::TrustedProxies,
    cors::CorsOrigin,
    router, serve,
    ws::{MAX_CONNECTIONS_PER_USER, MAX_OPERATIONS, MAX_WAITING_PER_CLIENT},
};
pub use services::Services;
