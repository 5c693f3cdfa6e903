//! The server's services, built once at start and shared by every request: the database, the keys
//! derived from the server secret, the clock, the pinning policy, the rate limits and the bus of live
//! changes.

use std::sync::Arc;

use rules::pinning::PinPolicy;

use store::db::Db;

use crate::{auth::Keys, bus::Bus, clock::Clock, config::Config, error::Result, rate_limit::AuthLimiter};

/// Everything resolvers need besides the request.
#[derive(Clone, Debug)]
pub struct Services {
    /// The database.
    pub db: Db,
    /// Token and cursor keys.
    pub keys: Keys,
    /// Where `now` comes from.
    pub clock: Clock,
    /// Rollout and limit of pinning.
    pub pin_policy: Arc<PinPolicy>,
    /// Rate limits on signing in and up.
    pub auth_limiter: Arc<AuthLimiter>,
    /// Live changes, for subscriptions.
    pub bus: Bus,
}

impl Services {
    /// Connects to the configured database, migrates it and loads the secret.
    pub async fn start(config: &Config, clock: Clock) -> Result<Self> {
        let db = Db::connect(&config.database_url, config.pool()).await?;
        db.migrate().await?;
        Self::with_db(config, db, clock).await
    }

    /// Services over an already migrated database (tests use this to watch the connections).
    pub async fn with_db(config: &Config, db: Db, clock: Clock) -> Result<Self> {
        let keys = Keys::load(config.jwt_secret.as_deref(), &db.write).await?;
        let bus = Bus::for_db(&db.write, keys.deployment());
        Ok(Self {
            db,
            keys,
            clock,
            pin_policy: Arc::new(config.pin_policy()),
            auth_limiter: AuthLimiter::start(config.rate_limits()),
            bus,
        })
    }
}
