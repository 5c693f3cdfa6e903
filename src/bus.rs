//! Live changes: what happened to whose moments, and whose rights to see them may have changed,
//! published after a change commits and read by the subscriptions of every viewer, who each
//! recheck what they may see when it is delivered. A change carries ids only, never content.
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

use rules::{
    UserId,
    model::{MomentId, TagId},
    visibility::Access,
};

use store::records::MomentRecord;

use crate::error::{Result, log_internal};

/// How many changes wait for the slowest subscription before it misses some (and is told to
/// refetch).
pub(crate) const BUS_CAPACITY: usize = 4096;

/// What happened to a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// It was posted.
    Posted,
    /// It was pinned.
    Pinned,
    /// It was unpinned.
    Unpinned,
    /// It was deleted.
    Removed,
}

impl ChangeKind {
    const ALL: [Self; 4] = [Self::Posted, Self::Pinned, Self::Unpinned, Self::Removed];

    const fn letter(self) -> &'static str {
        match self {
            Self::Posted => "N",
            Self::Pinned => "P",
            Self::Unpinned => "U",
            Self::Removed => "R",
        }
    }

    fn of_letter(letter: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.letter() == letter)
    }
}

/// A change that may change what someone sees of an author's moments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Something happened to one of the author's moments.
    Moment {
        /// Whose moment.
        author: UserId,
        /// Which moment.
        moment: MomentId,
        /// What happened to it.
        kind: ChangeKind,
    },
    /// What `viewer` (every viewer, when `None`) may see of the author's moments may have changed:
    /// the author's settings, a friendship, a hide.
    Access {
        /// Whose moments.
        author: UserId,
        /// Whose view of them.
        viewer: Option<UserId>,
    },
    /// `viewer` joined or left the author's tag `tag`, which audiences may name.
    Tagged {
        /// Whose tag.
        author: UserId,
        /// Who joined or left it.
        viewer: UserId,
        /// The tag.
        tag: TagId,
    },
}

impl Change {
    /// Whose moments the change is about.
    pub const fn author(self) -> UserId {
        match self {
            Self::Moment { author, .. } | Self::Access { author, .. } | Self::Tagged { author, .. } => author,
        }
    }

    /// The notification payload, ids only: `M:author:moment:kind`, `A:author:viewer` (`*` for
    /// every viewer) or `T:author:viewer:tag`.
    fn payload(self) -> String {
        match self {
            Self::Moment { author, moment, kind } => format!("M:{author}:{moment}:{}", kind.letter()),
            Self::Access { author, viewer: Some(viewer) } => format!("A:{author}:{viewer}"),
            Self::Access { author, viewer: None } => format!("A:{author}:*"),
            Self::Tagged { author, viewer, tag } => format!("T:{author}:{viewer}:{tag}"),
        }
    }

    fn parse(payload: &str) -> Option<Self> {
        let mut parts = payload.split(':');
        let letter = parts.next()?;
        let author = parts.next()?.parse().ok()?;
        let change = match letter {
            "M" => Self::Moment {
                author,
                moment: parts.next()?.parse().ok()?,
                kind: ChangeKind::of_letter(parts.next()?)?,
            },
            "A" => Self::Access {
                author,
                viewer: match parts.next()? {
                    "*" => None,
                    viewer => Some(viewer.parse().ok()?),
                },
            },
            "T" => Self::Tagged { author, viewer: parts.next()?.parse().ok()?, tag: parts.next()?.parse().ok()? },
            _ => return None,
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

/// What a recheck of a change found for one viewer.
#[derive(Clone, Debug)]
pub enum Found {
    /// The change's moment as the viewer may see it now, or `None`.
    Moment(Option<Arc<MomentRecord>>),
    /// Yes or no: whether the viewer could see a removed moment, or whether a tag's change
    /// changed what the viewer sees.
    Whether(bool),
    /// What the viewer may see of the author now (`None`: the author is gone).
    Access(Option<Access>),
}

/// What one viewer may see of one change, shared by that viewer's subscriptions.
type Check = Arc<OnceCell<Found>>;

/// Whose recheck: the viewer's, and for a change of rights the rights it is compared with.
type CheckKey = (UserId, Option<Access>);

/// A change as this server heard it, with what each viewer may see of its moment: a viewer with
/// many subscriptions (tabs, devices) costs one statement per change, not one per subscription.
/// It lives as long as the broadcast holds the change, so the rechecks go with it.
#[derive(Debug)]
pub struct Heard {
    /// The change.
    pub change: Change,
    checks: Mutex<HashMap<CheckKey, Check>>,
}

impl Heard {
    fn signal(change: Change) -> Signal {
        Signal::Change(Arc::new(Self { change, checks: Mutex::default() }))
    }

    /// What `viewer` may see of the change (against the rights `since`, for a change of rights):
    /// `check` runs once for all the viewer's subscriptions that ask the same, and the answer is
    /// shared.
    pub async fn recheck<F, Fut>(&self, viewer: UserId, since: Option<Access>, check: F) -> Result<Found>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Found>>,
    {
        let key = (viewer, since);
        let cell = self.checks.lock().unwrap_or_else(PoisonError::into_inner).entry(key).or_default().clone();
        cell.get_or_try_init(check).await.cloned()
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
        self.publish_all(&[change]).await;
    }

    /// Tells every subscription about each of `changes`, in order (on PostgreSQL in one statement).
    pub async fn publish_all(&self, changes: &[Change]) {
        let Some((db, channel, _)) = &self.postgres else {
            self.tell_here(changes);
            return;
        };
        if changes.is_empty() {
            return;
        }
        let payloads: Vec<String> = changes.iter().map(|c| c.payload()).collect();
        let notify = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, payload) FROM unnest(string_to_array($2, ' ')) WITH ORDINALITY AS p(payload, n) ORDER BY n",
            [channel.as_ref().into(), payloads.join(" ").into()],
        );
        if let Err(e) = db.execute_raw(notify).await {
            log_internal(&e.into());
            // The other servers' subscribers miss them; this server's still hear them.
            self.tell_here(changes);
        }
    }

    /// Hands `changes` to this server's subscriptions.
    fn tell_here(&self, changes: &[Change]) {
        for &change in changes {
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
        let changes =
            ChangeKind::ALL.into_iter().map(|kind| Change::Moment { author: 12, moment: 3_456, kind }).chain([
                Change::Access { author: 7, viewer: Some(8) },
                Change::Access { author: 7, viewer: None },
                Change::Tagged { author: 7, viewer: 8, tag: 9 },
            ]);
        for change in changes {
            assert_eq!(Change::parse(&change.payload()), Some(change));
        }
        assert_eq!(Change::Moment { author: 1, moment: 2, kind: ChangeKind::Pinned }.payload(), "M:1:2:P");
        assert_eq!(Change::Access { author: 1, viewer: None }.payload(), "A:1:*");
        assert_eq!(Change::Tagged { author: 1, viewer: 2, tag: 3 }.payload(), "T:1:2:3");
        for bad in ["", "M:1:2", "M:1:2:X", "M:a:2:P", "M:1:2:P:9", "1:2:P", "A:1", "A:1:x", "T:1:2", "X:1:2"] {
            assert_eq!(Change::parse(bad), None, "{bad:?}");
        }
    }
}
