//! Owner-only fields (`Moment.pinnedAt`, `Moment.audience`, `Profile.settings`, a user's friends,
//! friend requests and tags): [`OwnerOnly`] is the one place that decides who may read them, and
//! each such field asks it first and reads as `null` for anyone else (docs/rules.md §4: "the author only",
//! "null for others").
//!
//! Why not `#[graphql(guard = ...)]`: an async-graphql guard refuses with an error, and a refused
//! field is then left out of its object (and an object whose fields all failed becomes `null`), not
//! set to `null`; turning the refusals back into `null` takes an extension, which wraps every field
//! of every response in one more boxed future — a third of the profile page's throughput in the
//! load benchmark (`docs/benchmarks.md`).

use async_graphql::Context;

use super::context::request;
use crate::{auth::Viewer, error::Result};
use rules::UserId;

/// Lets only the user `0` read a field.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OwnerOnly(pub UserId);

impl OwnerOnly {
    /// Whether the viewer of this request is the owner.
    pub(crate) fn admits(self, ctx: &Context<'_>) -> Result<bool> {
        Ok(request(ctx)?.viewer == Viewer::User(self.0))
    }
}
