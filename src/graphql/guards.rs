//! Guards. `OwnerOnly` protects fields only their owner may read (`Moment.pinnedAt`,
//! `Moment.audience`, `Profile.settings`, a user's friends and tags). For anyone else such a field
//! reads as `null` rather than as an error: the guard refuses, and [`OwnerOnlyReadsAsNull`] turns
//! that one refusal into a plain `null`, so a front-end can ask for the fields on any profile.

use std::sync::Arc;

use async_graphql::{
    Context, ErrorExtensions as _, Guard, ServerError, ServerResult, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo},
};

use super::context::request;
use crate::{auth::Viewer, domain::UserId, error::code};

/// Lets only `owner` read the field.
pub struct OwnerOnly(pub UserId);

impl Guard for OwnerOnly {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        if request(ctx)?.viewer == Viewer::User(self.0) {
            Ok(())
        } else {
            Err(async_graphql::Error::new("only the owner can read this field")
                .extend_with(|_, e| e.set("code", code::OWNER_ONLY)))
        }
    }
}

fn is_owner_only_refusal(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .is_some_and(|c| matches!(c, Value::String(s) if s == code::OWNER_ONLY))
}

/// Makes an `OwnerOnly` refusal read as `null` instead of an error.
pub struct OwnerOnlyReadsAsNull;

impl ExtensionFactory for OwnerOnlyReadsAsNull {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OwnerOnlyReadsAsNull)
    }
}

#[async_trait::async_trait]
impl Extension for OwnerOnlyReadsAsNull {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        match next.run(ctx, info).await {
            Err(e) if is_owner_only_refusal(&e) => Ok(None),
            other => other,
        }
    }
}
