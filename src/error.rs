//! How the store's errors reach clients: messages as they are, `extensions.code` set here and nowhere
//! else; internal errors logged with their cause and shown only as `INTERNAL`.

use async_graphql::ErrorExtensions as _;
use rules::input::InvalidInput;
use sea_orm::DbErr;
pub(crate) use store::error::{Error, Result, code};

/// Logs an internal failure. While the database is down every request fails the same way: those
/// are logged at most once every [`UNAVAILABLE_LOG_EVERY`], with how many were not, so a client
/// cannot flood the log.
pub(crate) fn log_internal(error: &Error) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    static SUPPRESSED: AtomicU64 = AtomicU64::new(0);
    if !error.is_unavailable() {
        tracing::error!(error = %error, "request failed inside the server");
        return;
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let last = LAST.load(Ordering::Relaxed);
    if now >= last + UNAVAILABLE_LOG_EVERY.as_secs()
        && LAST.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    {
        let suppressed = SUPPRESSED.swap(0, Ordering::Relaxed);
        tracing::error!(error = %error, suppressed, "the database is unavailable");
    } else {
        SUPPRESSED.fetch_add(1, Ordering::Relaxed);
    }
}

/// How often "the database is unavailable" is logged at most.
pub(crate) const UNAVAILABLE_LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The error as clients read it: internal ones logged and masked, every one with its `extensions.code`.
pub(crate) fn to_graphql(error: &Error) -> async_graphql::Error {
    let message = match error {
        Error::Database(_) | Error::Internal(_) => {
            log_internal(error);
            if error.is_unavailable() {
                "the service is unavailable: its database did not answer in time; try again shortly".to_owned()
            } else {
                "internal error: the server could not answer this; it has been logged".to_owned()
            }
        }
        other => other.to_string(),
    };
    let code = error.code();
    let retry_after = match error {
        Error::RateLimited { retry_after, .. } => Some(*retry_after),
        _ => None,
    };
    async_graphql::Error::new(message).extend_with(|_, ext| {
        ext.set("code", code);
        if let Some(seconds) = retry_after {
            ext.set("retryAfter", seconds);
        }
    })
}

/// The error type of resolvers: an [`Error`] already turned into its client-facing form (masked when
/// internal, with its `extensions.code`). Resolvers return it so that `?` can never take
/// async-graphql's blanket conversion, which would copy any message verbatim and set no code.
#[derive(Clone, Debug)]
pub struct ApiError(pub async_graphql::Error);

/// What resolvers return.
pub(crate) type ApiResult<T> = std::result::Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(to_graphql(&e))
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
