//! The server's bounds, each default written once ([`Limits::DEFAULT`]): connections, requests,
//! queries, and the live edge. The ones an operator may set come from `config`
//! ([`crate::config::ServeArgs::limits`]) and travel with the router's options; the rest are read as
//! constants named after them where they are held. `moments limits` prints them all, and
//! docs/security.md holds that table (a test compares the two). The costs the complexity limit
//! counts are here too. This module imports nothing of the server, so every layer can read it.

use std::time::Duration;

/// Every bound of the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Time a client has to send a request's headers, to send its body, and to take each part of
    /// an answer; an idle keep-alive connection closes after it too.
    pub client_timeout: Duration,
    /// Connections served at once; more wait in the listen queue.
    pub max_connections: u32,
    /// Connections one client address (an IPv6 address by its /64) holds at once; more are
    /// closed as they arrive. Trusted proxies are not held to it.
    pub max_connections_per_client: u32,
    /// GraphQL operations executed at once, over HTTP and WebSockets, live events included; more
    /// wait their turn.
    pub max_concurrent_requests: usize,
    /// Time in-flight requests get after SIGTERM; then the server stops anyway.
    pub shutdown_grace: Duration,
    /// The slowest average rate at which a client may take its answers, after the timeout's grace.
    pub min_rate_bytes_per_sec: u64,
    /// A request's line and headers.
    pub max_header_bytes: usize,
    /// A request's body, announced or chunked; a WebSocket message too.
    pub max_body_bytes: usize,
    /// Operations in one batched request.
    pub max_batch: usize,
    /// A query's text, its variables apart, checked before it is parsed.
    pub max_query_bytes: usize,
    /// Tokens of a query's text (names, numbers, strings, punctuators), counted before it is parsed.
    pub max_tokens: usize,
    /// Brackets nested in a query's text, checked before it is parsed.
    pub max_bracket_depth: usize,
    /// Selections of a query once its fragments are expanded.
    pub max_expanded_selections: usize,
    /// Fragment definitions of a query.
    pub max_fragments: usize,
    /// Selections nested in a query, fragments included.
    pub max_nesting: usize,
    /// Characters of an alias.
    pub max_alias_chars: usize,
    /// Depth of a selection, as async-graphql counts it.
    pub max_depth: usize,
    /// Complexity of an operation: a field costs 1, a list its most items times its selection,
    /// and the costs below.
    pub max_complexity: usize,
    /// Errors listed for an operation refused before it ran; the rest are counted in one more.
    pub max_request_errors: usize,
    /// `first` of every list.
    pub max_page: usize,
    /// Content one request gathers (rows read, text and names answered), shared by a batch.
    pub max_content_bytes: usize,
    /// Statements of one request running at once.
    pub statements_in_flight: usize,
    /// Persisted query texts kept per server, least recently used out first.
    pub persisted_queries: usize,
    /// Bytes of the persisted query texts kept per server.
    pub persisted_query_bytes: usize,
    /// Operations running at once on one WebSocket.
    pub max_operations_per_socket: usize,
    /// WebSockets one user holds at once.
    pub max_sockets_per_user: usize,
    /// WebSockets of one client address not yet past `connection_init`.
    pub max_waiting_sockets_per_client: usize,
    /// Complexity of one user's live subscriptions together.
    pub live_budget_per_user: usize,
    /// Messages waiting for one WebSocket client.
    pub out_buffer_messages: usize,
    /// Bytes waiting for one WebSocket client, past the message being handed over.
    pub out_buffer_bytes: usize,
    /// Time a WebSocket has to send `connection_init`.
    pub init_timeout: Duration,
}

impl Limits {
    /// The defaults.
    pub const DEFAULT: Self = Self {
        client_timeout: Duration::from_secs(10),
        max_connections: 4096,
        max_connections_per_client: 64,
        max_concurrent_requests: 64,
        shutdown_grace: Duration::from_secs(10),
        min_rate_bytes_per_sec: 32 * 1024,
        max_header_bytes: 16 * 1024,
        max_body_bytes: 256 * 1024,
        max_batch: 10,
        max_query_bytes: 64 * 1024,
        max_tokens: 10_000,
        max_bracket_depth: 64,
        // Every field costs at least 1 in the complexity limit: nothing under it is refused for
        // its selections that would pass there.
        max_expanded_selections: 20_000,
        max_fragments: 100,
        max_nesting: 64,
        max_alias_chars: 64,
        max_depth: 15,
        max_complexity: 20_000,
        max_request_errors: 100,
        max_page: 100,
        max_content_bytes: 8 << 20,
        statements_in_flight: 2,
        persisted_queries: 10_000,
        persisted_query_bytes: 32 << 20,
        max_operations_per_socket: 20,
        max_sockets_per_user: 8,
        max_waiting_sockets_per_client: 8,
        live_budget_per_user: 20_000,
        out_buffer_messages: 256,
        out_buffer_bytes: 256 * 1024,
        init_timeout: Duration::from_secs(10),
    };

    /// The bounds as docs/security.md lists them: a Markdown table of what each bounds, its value,
    /// and the setting that changes it.
    pub fn table(&self) -> String {
        let rows: [(&str, String, &str); 31] = [
            (
                "time to send a request's headers, or its body, or to take each part of an answer; an idle keep-alive connection closes after it too",
                secs(self.client_timeout),
                "`MOMENTS_CLIENT_TIMEOUT_SECS`",
            ),
            (
                "connections served at once (more wait in the listen queue)",
                count(self.max_connections as usize),
                "`MOMENTS_MAX_CONNECTIONS`",
            ),
            (
                "connections one client address holds at once (an IPv6 address by its /64; trusted proxies are exempt)",
                count(self.max_connections_per_client as usize),
                "`MOMENTS_MAX_CONNECTIONS_PER_CLIENT`",
            ),
            (
                "GraphQL operations executed at once, over HTTP and WebSockets, live events included",
                count(self.max_concurrent_requests),
                "`MOMENTS_MAX_CONCURRENT_REQUESTS`",
            ),
            ("time in-flight requests get after SIGTERM", secs(self.shutdown_grace), "`MOMENTS_SHUTDOWN_GRACE_SECS`"),
            (
                "slowest average rate at which a client may take its answers",
                format!("{}/s", bytes(self.min_rate_bytes_per_sec as usize)),
                "—",
            ),
            ("request line and headers", bytes(self.max_header_bytes), "—"),
            ("request body, announced or chunked; a WebSocket message", bytes(self.max_body_bytes), "—"),
            ("operations in a batch", count(self.max_batch), "—"),
            ("a query's text, its variables apart", bytes(self.max_query_bytes), "—"),
            ("tokens of a query's text", count(self.max_tokens), "—"),
            ("brackets nested in a query's text", count(self.max_bracket_depth), "—"),
            ("selections once fragments are expanded", count(self.max_expanded_selections), "—"),
            ("fragment definitions of a query", count(self.max_fragments), "—"),
            ("selections nested, fragments included", count(self.max_nesting), "—"),
            ("characters of an alias", count(self.max_alias_chars), "—"),
            ("depth of a selection", count(self.max_depth), "—"),
            ("complexity of an operation", count(self.max_complexity), "—"),
            ("errors listed for an operation refused before it ran", count(self.max_request_errors), "—"),
            ("`first` of every list", count(self.max_page), "—"),
            ("content one request gathers, shared by a batch", bytes(self.max_content_bytes), "—"),
            ("statements of one request running at once", count(self.statements_in_flight), "—"),
            ("persisted query texts kept per server", count(self.persisted_queries), "—"),
            ("bytes of the persisted query texts kept per server", bytes(self.persisted_query_bytes), "—"),
            ("operations at once on one WebSocket", count(self.max_operations_per_socket), "—"),
            ("WebSockets one user holds at once", count(self.max_sockets_per_user), "—"),
            (
                "WebSockets of one client address not yet past `connection_init`",
                count(self.max_waiting_sockets_per_client),
                "—",
            ),
            ("complexity of one user's live subscriptions together", count(self.live_budget_per_user), "—"),
            ("messages waiting for one WebSocket client", count(self.out_buffer_messages), "—"),
            ("bytes waiting for one WebSocket client", bytes(self.out_buffer_bytes), "—"),
            ("time a WebSocket has to send `connection_init`", secs(self.init_timeout), "—"),
        ];
        let mut out = String::from("| bound | value | setting |\n| --- | --- | --- |\n");
        for (what, value, setting) in rows {
            out.push_str(&format!("| {what} | {value} | {setting} |\n"));
        }
        out
    }
}

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs())
}

/// A count with thousands separated by commas.
fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bytes(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{} bytes", count(n))
    }
}

/// The deepest selection accepted.
pub const MAX_DEPTH: usize = Limits::DEFAULT.max_depth;
/// The most complex operation accepted (see [`Limits::max_complexity`] and the costs below).
pub const MAX_COMPLEXITY: usize = Limits::DEFAULT.max_complexity;
/// The most operations in one batched request.
pub const MAX_BATCH: usize = Limits::DEFAULT.max_batch;
/// The largest `first` a connection accepts.
pub const MAX_PAGE: i32 = Limits::DEFAULT.max_page as i32;

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
/// The page size when `first` is left out.
pub const DEFAULT_PAGE: i32 = 20;
