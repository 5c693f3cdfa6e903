//! Live changes: what happened to whose moments, published after a change commits and read by the
//! subscriptions of every viewer, who each recheck what they may see when it is delivered. A change
//! carries ids only, never content. On one server the changes go through an in-process broadcast.

use tokio::sync::broadcast;

use crate::domain::{UserId, model::MomentId};

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

/// Where changes are published and subscribed to.
#[derive(Clone, Debug)]
pub struct Bus {
    sender: broadcast::Sender<Change>,
}

impl Default for Bus {
    fn default() -> Self {
        Self { sender: broadcast::channel(BUS_CAPACITY).0 }
    }
}

impl Bus {
    /// Tells every subscription of this server about `change` (nobody listening is fine).
    pub fn publish(&self, change: Change) {
        let _ = self.sender.send(change);
    }

    /// Every change published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }
}
