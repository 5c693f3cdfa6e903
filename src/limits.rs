//! Bounds that more than one layer reads: what an operation may ask for (the schema, the checks of
//! a query's text and the live edge read these) and the connection limits (`config` sets them,
//! `http` holds connections to them). This module imports nothing of the server, so every layer
//! can read it without a circle.

use std::time::Duration;

/// The deepest selection accepted.
pub const MAX_DEPTH: usize = 15;
/// The most complex operation accepted. Every field costs 1; a list costs what it can return
/// times its selection, plus what it costs to query (see [`LIST_FIELD_COST`]).
pub const MAX_COMPLEXITY: usize = 20_000;
/// What a field that runs a list query costs before its items: at most a hundred such fields fit in
/// one operation, however small their pages.
pub const LIST_FIELD_COST: usize = 200;
/// What a field that runs a statement of its own costs (`profile`, `moment`, `User.profile`…): at
/// most two hundred in one operation.
pub const STATEMENT_FIELD_COST: usize = 100;
/// What a list of the owner's own (friends, requests, tags, hidden-from) costs before its items.
/// Their length depends on the data, not on the query: the request's content budget
/// ([`crate::graphql::budget::MAX_CONTENT_BYTES`]) bounds them at run time.
pub const OWNER_LIST_COST: usize = LIST_FIELD_COST;
/// A moment holds at most this many pictures or videos: `media` costs its selection this often.
pub const MAX_IMAGES_COST: usize = rules::input::MAX_IMAGES;
/// What a mutation field costs: at most forty changes in one operation.
pub const MUTATION_FIELD_COST: usize = 500;
/// The most operations in one batched request.
pub const MAX_BATCH: usize = 10;
/// The page size when `first` is left out.
pub const DEFAULT_PAGE: i32 = 20;
/// The largest `first` a connection accepts.
pub const MAX_PAGE: i32 = 100;

/// GraphQL requests executed at once by default.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 64;

/// Timeouts and the connection limit of the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a client has to send a request's headers (an idle keep-alive connection is closed
    /// after this long too), to send its body, and to take each part of a response.
    pub client_timeout: Duration,
    /// Connections served at once; further ones wait in the listen queue.
    pub max_connections: u32,
    /// Connections one client address (an IPv6 address by its /64) may hold at once; more are
    /// closed as they arrive. Trusted proxies are not held to it.
    pub max_connections_per_client: u32,
    /// How long in-flight requests may take to finish once shutdown starts.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            client_timeout: Duration::from_secs(10),
            max_connections: 4096,
            max_connections_per_client: 64,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}
