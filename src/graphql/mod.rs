//! The GraphQL surface: the schema, its objects and inputs, guards, loaders and cursors. Resolvers
//! read the per-request [`context::RequestContext`] and call the store; rules live in `domain`.

pub mod answer;
pub mod context;
pub mod cursor;
pub mod document;
pub mod guards;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod scalars;
pub mod subscription;
pub mod types;

use async_graphql::{Schema, SchemaBuilder};

use crate::app::Services;

/// The schema type served at `/graphql`.
pub type MomentsSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

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
/// ([`limits::MAX_CONTENT_BYTES`]) bounds them at run time.
pub const OWNER_LIST_COST: usize = LIST_FIELD_COST;
/// A moment holds at most this many pictures or videos: `media` costs its selection this often.
pub const MAX_IMAGES_COST: usize = crate::domain::input::MAX_IMAGES;
/// What a mutation field costs: at most forty changes in one operation.
pub const MUTATION_FIELD_COST: usize = 500;
/// The most operations in one batched request.
pub const MAX_BATCH: usize = 10;
/// The page size when `first` is left out.
pub const DEFAULT_PAGE: i32 = 20;
/// The largest `first` a connection accepts.
pub const MAX_PAGE: i32 = 100;

/// Builds the schema. Without services it can still print its SDL (`moments schema`, the snapshot
/// test), which needs no database.
pub fn build_schema(services: Option<Services>) -> MomentsSchema {
    let mut builder = limited();
    if let Some(services) = services {
        builder = builder.data(services);
    }
    builder.finish()
}

/// Builds the schema that runs subscriptions: the same types and limits, and each operation's
/// complexity handed to the request's [`limits::CostGate`] (a user's live subscriptions share one
/// budget). The other operations run on [`build_schema`]'s, which carries no extension.
pub fn build_live_schema(services: Services) -> MomentsSchema {
    limited().extension(limits::GateCost).data(services).finish()
}

/// The schema's types with the limits every operation is held to.
fn limited() -> SchemaBuilder<query::Query, mutation::Mutation, subscription::Subscription> {
    Schema::build(query::Query, mutation::Mutation, subscription::Subscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(32)
        .limit_directives(8)
}

/// The SDL the server serves: what `schema.graphql` holds.
pub fn sdl() -> String {
    build_schema(None).sdl()
}
