//! What an import tells: how much it loaded, or the line that stopped it and why.

use crate::error::Error;

/// How an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A line was refused; nothing was kept.
    #[error("line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// The file could not be read.
    #[error("reading the file: {0}")]
    Io(#[from] std::io::Error),
    /// The database failed.
    #[error("{0}")]
    Database(#[from] Error),
}

/// What an import loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Users created.
    pub users: usize,
    /// Friendships made.
    pub friendships: usize,
    /// Tags created.
    pub tags: usize,
    /// Settings lines applied.
    pub settings: usize,
    /// Moments created.
    pub moments: usize,
    /// Pins made.
    pub pins: usize,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} users, {} friendships, {} tags, {} settings, {} moments, {} pins",
            self.users, self.friendships, self.tags, self.settings, self.moments, self.pins
        )
    }
}

/// A problem with the current line.
pub(super) struct Refused(pub(super) String);

impl From<Error> for Refused {
    fn from(e: Error) -> Self {
        match e {
            Error::Database(_) | Error::Internal(_) => Refused(format!("the database refused it ({e})")),
            other => Refused(other.to_string()),
        }
    }
}

impl From<sea_orm::DbErr> for Refused {
    fn from(e: sea_orm::DbErr) -> Self {
        Error::from(e).into()
    }
}

impl From<rules::input::InvalidInput> for Refused {
    fn from(e: rules::input::InvalidInput) -> Self {
        Refused(e.0)
    }
}

pub(super) fn refused<T>(message: impl Into<String>) -> Result<T, Refused> {
    Err(Refused(message.into()))
}
