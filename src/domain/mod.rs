//! The rules of the product as plain Rust: validated input, who sees what, what can be pinned.
//! Nothing here knows about the database or GraphQL, so every rule can be tested on its own and
//! used as the reference the SQL is held against.

pub mod content;
pub mod input;
pub mod model;
pub mod pinning;
pub mod visibility;

pub use model::{AudienceMode, MomentKind, UserId, VisibleWindow};
