//! The server's one error type. Its messages are what clients read; `extensions.code` is set here and
//! nowhere else. Internal errors are logged with their cause and reach clients only as `INTERNAL`.

use async_graphql::ErrorExtensions;
use sea_orm::DbErr;

use crate::domain::input::InvalidInput;

/// The codes clients find in `extensions.code` (SPEC §5).
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
    /// A database failure.
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    /// Any other failure inside the server.
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

/// `Result` with this module's error by default.
pub type Result<T, E = Error> = std::result::Result<T, E>;

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
            Self::Database(_) | Self::Internal(_) => code::INTERNAL,
        }
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
            Self::Database(_) | Self::Internal(_) => return None,
        })
    }

    /// Whether a database error is a unique-key violation (a concurrent insert won a race).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Database(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))))
    }
}

impl From<InvalidInput> for Error {
    fn from(e: InvalidInput) -> Self {
        Self::BadUserInput(e.0)
    }
}

impl ErrorExtensions for Error {
    fn extend(&self) -> async_graphql::Error {
        let message = match self {
            Self::Database(_) | Self::Internal(_) => {
                tracing::error!(error = %self, "request failed inside the server");
                "internal error: the server could not answer this; it has been logged".to_owned()
            }
            other => other.to_string(),
        };
        let code = self.code();
        async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", code))
    }
}

/// The error type of resolvers: an [`Error`] already turned into its client-facing form (masked when
/// internal, with its `extensions.code`). Resolvers return it so that `?` can never take
/// async-graphql's blanket conversion, which would copy any message verbatim and set no code.
#[derive(Clone, Debug)]
pub struct ApiError(pub async_graphql::Error);

/// What resolvers return.
pub type ApiResult<T> = std::result::Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e.extend())
    }
}

impl From<InvalidInput> for ApiError {
    fn from(e: InvalidInput) -> Self {
        Error::from(e).into()
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        Error::from(e).into()
    }
}

impl From<DbErr> for ApiError {
    fn from(e: DbErr) -> Self {
        Error::from(e).into()
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        e.0
    }
}
