//! The GraphQL surface: the schema, its objects and inputs, guards, loaders and cursors. Resolvers
//! read the per-request [`context::RequestContext`] and call the store; the rules live in the `rules` crate.

pub(crate) mod answer;
pub(crate) mod budget;
pub(crate) mod checks;
pub(crate) mod context;
pub(crate) mod cursor;
pub(crate) mod guards;
pub(crate) mod loaders;
pub(crate) mod mutation;
pub(crate) mod query;
pub(crate) mod scalars;
pub(crate) mod subscription;
pub(crate) mod types;

use async_graphql::{Schema, SchemaBuilder};

use crate::{
    limits::{MAX_COMPLEXITY, MAX_DEPTH},
    services::Services,
};

/// The schema type served at `/graphql`.
pub(crate) type MomentsSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// Builds the schema. Without services it can still print its SDL (`moments schema`, the snapshot
/// test), which needs no database.
pub(crate) fn build_schema(services: Option<Services>) -> MomentsSchema {
    let mut builder = limited();
    if let Some(services) = services {
        builder = builder.data(services);
    }
    builder.finish()
}

/// Builds the schema that runs subscriptions: the same types and limits, and each operation's
/// complexity handed to the request's [`budget::CostGate`] (a user's live subscriptions share one
/// budget). The other operations run on [`build_schema`]'s, which carries no extension.
pub(crate) fn build_live_schema(services: Services) -> MomentsSchema {
    limited().extension(budget::GateCost).data(services).finish()
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
