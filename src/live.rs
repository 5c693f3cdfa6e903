//! Live changes: what happened to whose moments, published after a change commits and read by the
//! subscriptions of every viewer, who each recheck what they may see when it is delivered. A change
//! carries ids only, never content.
//!
//! On SQLite (one server) changes go through an in-process broadcast. On PostgreSQL they go through
//! `NOTIFY` on the deployment's channel (its deployment id: the servers of one database or schema
//! share it, and no other does, since notifications cross schemas), and each server's one
//! `LISTEN`ing connection (opened with its first subscription) hands every change, its own
//! included, to its subscriptions: a pin made through one server reaches the subscribers of all.
//! When that connection is lost, the subscriptions are told they missed changes.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex, PoisonError},
};

use sea_orm::{ConnectionTrait as _, DatabaseConnection, DbBackend, Statement};
use tokio::sync::{OnceCell, broadcast};

use crate::{
    domain::{UserId, model::MomentId},
    error::{Result, log_internal},
    store::moments::MomentRecord,
};

/// How many changes wait for the slowest subscription before it misses some (and is told to
/// refetch).
pub const BUS_CAPACITY: usize = 4096;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// A moment was posted.
    Posted,
    /// A moment was pinned.
    Pinned,
    /// A moment was unpinned.
    Unpinned,
}

impl ChangeKind {
    const fn letter(self) -> char {
        match self {
            Self::Posted => 'N',
            Self::Pinned => 'P',
            Self::Unpinned => 'U',
        }
    }

    fn of_letter(letter: &str) -> Option<Self> {
        match letter {
            "N" => Some(Self::Posted),
            "P" => Some(Self::Pinned),
            "U" => Some(Self::Unpinned),
            _ => None,
        }
    }
}

/// One change to an author's moments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    /// Whose moments.
    pub author: UserId,
    /// Which moment.
    pub moment: MomentId,
    /// What happened to it.
    pub kind: ChangeKind,
}

impl Change {
    /// The notification payload: `author:moment:kind`, ids only.
    fn payload(self) -> String {
        format!("{}:{}:{}", self.author, self.moment, self.kind.letter())
    }

    fn parse(payload: &str) -> Option<Self> {
        let mut parts = payload.split(':');
        let change = Self {
            author: parts.next()?.parse().ok()?,
            moment: parts.next()?.parse().ok()?,
            kind: ChangeKind::of_letter(parts.next()?)?,
        };
        parts.next().is_none().then_some(change)
    }
}

/// What a subscription hears.
#[derive(Clone, Debug)]
pub enum Signal {
    /// A change, with the rechecks made of it so far.
    Change(Arc<Heard>),
    /// Changes may have been missed (the server lost its `LISTEN` connection for a while).
    Missed,
}

/// What one viewer may see of one change's moment, shared by that viewer's subscriptions.
type Check = Arc<OnceCell<Option<Arc<MomentRecord>>>>;

/// A change as this server heard it, with what each viewer may see of its moment: a viewer with
/// many subscriptions (tabs, devices) costs one statement per change, not one per subscription.
/// It lives as long as the broadcast holds the change, so the rechecks go with it.
#[derive(Debug)]
pub struct Heard {
    /// The change.
    pub change: Change,
    checks: Mutex<HashMap<UserId, Check>>,
}

impl Heard {
    fn signal(change: Change) -> Signal {
        Signal::Change(Arc::new(Self { change, checks: Mutex::default() }))
    }

    /// What `viewer` may see of the change's moment: `check` runs once for all the viewer's
    /// subscriptions, and the answer is shared.
    pub async fn recheck<F, Fut>(&self, viewer: UserId, check: F) -> Result<Option<Arc<MomentRecord>>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<MomentRecord>>>,
    {
        let cell = self.checks.lock().unwrap_or_else(PoisonError::into_inner).entry(viewer).or_default().clone();
        cell.get_or_try_init(|| async { Ok(check().await?.map(Arc::new)) }).await.cloned()
    }
}

/// Where changes are published and subscribed to.
#[derive(Clone, Debug)]
pub struct Bus {
    sender: broadcast::Sender<Signal>,
    /// PostgreSQL: the connection that notifies, the channel, and the listener, started once.
    postgres: Option<(DatabaseConnection, Arc<str>, Arc<OnceCell<()>>)>,
}

impl Bus {
    /// The bus of a server on `db` (its writing connection) in `deployment`: PostgreSQL's
    /// notifications on the deployment's channel, or an in-process broadcast.
    pub fn for_db(db: &DatabaseConnection, deployment: &str) -> Self {
        let postgres = (db.get_database_backend() == DbBackend::Postgres)
            .then(|| (db.clone(), Arc::from(deployment), Arc::default()));
        Self { sender: broadcast::channel(BUS_CAPACITY).0, postgres }
    }

    /// Tells every subscription (of every server, on PostgreSQL) about `change`.
    pub async fn publish(&self, change: Change) {
        let Some((db, channel, _)) = &self.postgres else {
            let _ = self.sender.send(Heard::signal(change));
            return;
        };
        let notify = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [channel.as_ref().into(), change.payload().into()],
        );
        if let Err(e) = db.execute_raw(notify).await {
            log_internal(&e.into());
            // The other servers' subscribers miss it; this server's still hear it.
            let _ = self.sender.send(Heard::signal(change));
        }
    }

    /// Every change published from now on (on PostgreSQL, starting this server's listener first).
    pub async fn subscribe(&self) -> broadcast::Receiver<Signal> {
        let receiver = self.sender.subscribe();
        if let Some((db, channel, started)) = &self.postgres {
            started
                .get_or_init(|| async {
                    let (ready, listening) = tokio::sync::oneshot::channel();
                    tokio::spawn(listen(db.clone(), channel.clone(), self.sender.clone(), ready));
                    // Changes published once the listener listens reach this subscription; a
                    // database that does not answer does not hold the subscription up for long.
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), listening).await;
                })
                .await;
        }
        receiver
    }
}

/// Forwards this database's notifications to the server's subscriptions, for the server's life;
/// says when it first listens.
async fn listen(
    db: DatabaseConnection,
    channel: Arc<str>,
    sender: broadcast::Sender<Signal>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    use sea_orm::sqlx::postgres::PgListener;
    let mut ready = Some(ready);
    loop {
        let mut listener = match PgListener::connect_with(db.get_postgres_connection_pool()).await {
            Ok(listener) => listener,
            Err(e) => {
                log_internal(&anyhow::anyhow!("listening for changes: {e}").into());
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(&channel).await {
            log_internal(&anyhow::anyhow!("listening for changes: {e}").into());
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            continue;
        }
        if let Some(ready) = ready.take() {
            let _ = ready.send(());
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some(change) = Change::parse(notification.payload()) {
                        let _ = sender.send(Heard::signal(change));
                    }
                }
                // The connection was lost (it reconnects on the next call): say what may be missing.
                Ok(None) => {
                    let _ = sender.send(Signal::Missed);
                }
                Err(e) => {
                    log_internal(&anyhow::anyhow!("receiving changes: {e}").into());
                    let _ = sender.send(Signal::Missed);
                    break;
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_goes_through_its_payload_unchanged() {
        for kind in [ChangeKind::Posted, ChangeKind::Pinned, ChangeKind::Unpinned] {
            let change = Change { author: 12, moment: 3_456, kind };
            assert_eq!(Change::parse(&change.payload()), Some(change));
        }
        assert_eq!(Change { author: 1, moment: 2, kind: ChangeKind::Pinned }.payload(), "1:2:P");
        for bad in ["", "1:2", "1:2:X", "a:2:P", "1:2:P:9"] {
            assert_eq!(Change::parse(bad), None, "{bad:?}");
        }
    }
}
