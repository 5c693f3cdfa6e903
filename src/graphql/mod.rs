//! The GraphQL surface: the schema, its objects and inputs, guards, loaders and cursors. Resolvers
//! read the per-request [`context::RequestContext`] and call the store; the rules live in the `rules` crate.

pub mod answer;
pub mod checks;
pub mod context;
pub mod cursor;
pub mod guards;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod scalars;
pub mod subscription;
pub mod types;

use async_graphql::{Schema, SchemaBuilder};

use crate::{
    limits::{MAX_COMPLEXITY, MAX_DEPTH},
    services::Services,
};

/// The schema type served at `/graphql`.
pub type MomentsSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

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
