//! What the router's handlers share: the schema, the services, the turns, the pages' settings and
//! the live edge's.

use std::{sync::Arc, time::Duration};

use axum::extract::FromRef;

use super::{browser, client_address::TrustedProxies, persisted::PersistedQueries, ws};
use crate::{
    graphql::{MomentsSchema, answer::Shapes, budget::Turns},
    services::Services,
};

/// What every handler of the router shares.
#[derive(Clone)]
pub(super) struct HttpState {
    pub(super) schema: MomentsSchema,
    pub(super) services: Services,
    pub(super) trusted_proxies: Arc<TrustedProxies>,
    pub(super) body_timeout: Duration,
    pub(super) turns: Turns,
    pub(super) shapes: Arc<Shapes>,
    pub(super) persisted: Arc<PersistedQueries>,
    pub(super) pages: browser::Pages,
    pub(super) live: ws::Live,
}

impl FromRef<HttpState> for browser::Pages {
    fn from_ref(state: &HttpState) -> Self {
        state.pages.clone()
    }
}
