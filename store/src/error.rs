//! The server's one error type. Its messages are what clients read; `extensions.code` is set here and
//! nowhere else. Internal errors are logged with their cause and reach clients only as `INTERNAL`.

use sea_orm::DbErr;

use rules::input::InvalidInput;

/// The codes clients find in `extensions.code` (docs/rules.md §4).
pub mod code {
    /// No valid token (rule V2).
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// The viewer may see the thing but not do this to it.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// Missing, or invisible to the viewer: the two are never told apart.
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// The input was refused; the message says why.
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    /// Text and articles cannot be pinned (P2).
    pub const PIN_UNSUPPORTED_KIND: &str = "PIN_UNSUPPORTED_KIND";
    /// Posted more than six calendar months ago (P3).
    pub const PIN_TOO_OLD: &str = "PIN_TOO_OLD";
    /// The operator's pin limit is reached (P5).
    pub const PIN_LIMIT_REACHED: &str = "PIN_LIMIT_REACHED";
    /// Pinning is not rolled out to the viewer (P4).
    pub const PINNING_NOT_ENABLED: &str = "PINNING_NOT_ENABLED";
    /// Something failed inside the server; details are in its log.
    pub const INTERNAL: &str = "INTERNAL";
    /// The request itself was refused before it ran (syntax, unknown fields, limits).
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// Too many attempts: `extensions.retryAfter` (and the `Retry-After` header) says when to retry.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// The request would gather more content than one response may hold.
    pub const RESPONSE_TOO_LARGE: &str = "RESPONSE_TOO_LARGE";
    /// A query named by its hash alone is not known here: send its text with the hash.
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
}

/// Everything that can go wrong while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No valid token.
    #[error("{0}")]
    Unauthenticated(String),
    /// Visible, but not the viewer's to change.
    #[error("{0}")]
    Forbidden(String),
    /// Missing or not visible.
    #[error("{0}")]
    NotFound(String),
    /// Refused input.
    #[error("{0}")]
    BadUserInput(String),
    /// P2.
    #[error("only moments with pictures or a video can be pinned; text and articles cannot")]
    PinUnsupportedKind,
    /// P3.
    #[error("only moments posted in the last six months can be pinned")]
    PinTooOld,
    /// P5.
    #[error("you have reached the limit of {limit} pinned moments; unpin one first")]
    PinLimitReached {
        /// The operator's limit.
        limit: u32,
    },
    /// P4.
    #[error("pinning is not available to you yet")]
    PinningNotEnabled,
    /// Too many attempts of something rate-limited.
    #[error("too many {what}: try again in {retry_after} s")]
    RateLimited {
        /// What was counted.
        what: &'static str,
        /// Seconds until the next attempt is let through.
        retry_after: u64,
    },
    /// The per-request content budget is spent.
    #[error("this request asks for more than {limit_mib} MiB of content: ask for fewer or smaller pages")]
    ResponseTooLarge {
        /// The budget, in MiB.
        limit_mib: usize,
    },
    /// A database failure.
    #[error("database error: {0}")]
    Database(DbErr),
    /// Any other failure inside the server: its message is its cause's, with the causes behind it.
    /// (Neither variant names its cause as a `source`: a report that prints the chain would print
    /// the message twice.)
    #[error("{0:#}")]
    Internal(anyhow::Error),
}

impl From<DbErr> for Error {
    fn from(e: DbErr) -> Self {
        Self::Database(e)
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        Self::Internal(e)
    }
}

/// `Result` with this module's error by default.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turns a unique-key violation of a write into the client's error: the value is taken (or a
/// concurrent write took it first). Other database errors stay internal.
pub trait TakenAs<T> {
    /// `taken()` on a unique-key violation, the database error otherwise.
    fn taken_as(self, taken: impl FnOnce() -> Error) -> Result<T>;
}

impl<T> TakenAs<T> for std::result::Result<T, DbErr> {
    fn taken_as(self, taken: impl FnOnce() -> Error) -> Result<T> {
        self.map_err(|e| {
            let e = Error::from(e);
            if e.is_unique_violation() { taken() } else { e }
        })
    }
}

impl Error {
    /// The `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => code::UNAUTHENTICATED,
            Self::Forbidden(_) => code::FORBIDDEN,
            Self::NotFound(_) => code::NOT_FOUND,
            Self::BadUserInput(_) => code::BAD_USER_INPUT,
            Self::PinUnsupportedKind => code::PIN_UNSUPPORTED_KIND,
            Self::PinTooOld => code::PIN_TOO_OLD,
            Self::PinLimitReached { .. } => code::PIN_LIMIT_REACHED,
            Self::PinningNotEnabled => code::PINNING_NOT_ENABLED,
            Self::RateLimited { .. } => code::RATE_LIMITED,
            Self::ResponseTooLarge { .. } => code::RESPONSE_TOO_LARGE,
            Self::Database(_) | Self::Internal(_) => code::INTERNAL,
        }
    }

    /// The `FORBIDDEN` of a change to someone else's moment (P1).
    pub fn not_author() -> Self {
        Self::Forbidden("only the author can do this to a moment".into())
    }

    /// The `BAD_USER_INPUT` of a handle someone already has.
    pub fn handle_taken(handle: &str) -> Self {
        Self::bad_input(format!("handle: {handle:?} is already taken"))
    }

    /// The `BAD_USER_INPUT` of a tag name the owner already uses.
    pub fn tag_name_taken(name: &str) -> Self {
        Self::bad_input(format!("name: you already have a tag named {name:?}"))
    }

    /// A `BAD_USER_INPUT` error.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput(message.into())
    }

    /// A copy of an error a client may read (everything but internal failures, which are logged
    /// where they happen and stay unique).
    pub fn clone_for_client(&self) -> Option<Self> {
        Some(match self {
            Self::Unauthenticated(m) => Self::Unauthenticated(m.clone()),
            Self::Forbidden(m) => Self::Forbidden(m.clone()),
            Self::NotFound(m) => Self::NotFound(m.clone()),
            Self::BadUserInput(m) => Self::BadUserInput(m.clone()),
            Self::PinUnsupportedKind => Self::PinUnsupportedKind,
            Self::PinTooOld => Self::PinTooOld,
            Self::PinLimitReached { limit } => Self::PinLimitReached { limit: *limit },
            Self::PinningNotEnabled => Self::PinningNotEnabled,
            Self::RateLimited { what, retry_after } => Self::RateLimited { what, retry_after: *retry_after },
            Self::ResponseTooLarge { limit_mib } => Self::ResponseTooLarge { limit_mib: *limit_mib },
            Self::Database(_) | Self::Internal(_) => return None,
        })
    }

    /// Whether a database error is a unique-key violation (a concurrent insert won a race).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Database(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))))
    }
}

impl Error {
    /// Whether this is the database not answering (no connection within the acquire timeout, or
    /// a connection that broke), as opposed to a statement that failed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Database(DbErr::ConnectionAcquire(_) | DbErr::Conn(_)))
    }
}

impl From<InvalidInput> for Error {
    fn from(e: InvalidInput) -> Self {
        Self::BadUserInput(e.0)
    }
}
