//! The GraphQL surface: the schema, its objects and inputs, guards, loaders and cursors. Resolvers
//! read the per-request [`context::RequestContext`] and call the store; rules live in `domain`.

pub mod context;
pub mod cursor;
pub mod guards;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod scalars;
pub mod types;

use async_graphql::{EmptySubscription, Schema};

use crate::app::Services;

/// The schema type served at `/graphql`.
pub type MomentsSchema = Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// The deepest selection accepted.
pub const MAX_DEPTH: usize = 15;
/// The most complex operation accepted; see [`LIST_FIELD_COST`].
pub const MAX_COMPLEXITY: usize = 10_000;
/// What a field that runs a list query costs before its items: at most a hundred such fields fit in
/// one operation, however small their pages.
pub const LIST_FIELD_COST: usize = 100;
/// The most operations in one batched request.
pub const MAX_BATCH: usize = 10;
/// The page size when `first` is left out.
pub const DEFAULT_PAGE: i32 = 20;
/// The largest `first` a connection accepts.
pub const MAX_PAGE: i32 = 100;

/// Builds the schema. Without services it can still print its SDL (`moments schema`, the snapshot
/// test), which needs no database.
pub fn build_schema(services: Option<Services>) -> MomentsSchema {
    let mut builder = Schema::build(query::Query, mutation::Mutation, EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(32)
        .limit_directives(8);
    if let Some(services) = services {
        builder = builder.data(services);
    }
    builder.finish()
}

/// The SDL the server serves: what `schema.graphql` holds.
pub fn sdl() -> String {
    build_schema(None).sdl()
}
