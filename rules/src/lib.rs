//! The rules of moments as plain Rust: validated input, a moment's content, who sees what, what can
//! be pinned. This crate knows no database, async runtime or GraphQL, so every rule can be tested on
//! its own and used as the reference the store's SQL is held against.

pub mod content;
pub mod input;
pub mod model;
pub mod pinning;
pub mod visibility;

pub use model::{AudienceMode, MomentKind, UserId, VisibleWindow};
