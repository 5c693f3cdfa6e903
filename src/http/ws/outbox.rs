//! What a connection's operations hand to its writer, and the bounded queue they hand it through.

use crate::limits::Limits;
use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use tokio::sync::mpsc;

/// Messages waiting for a client before it counts as too slow.
pub(crate) const OUT_BUFFER: usize = Limits::DEFAULT.out_buffer_messages;
/// Bytes of messages waiting for a client past which the next makes it too slow (one answer is
/// always taken, however large: it is bounded by the content budget, as over HTTP).
pub(crate) const OUT_BUFFER_BYTES: usize = Limits::DEFAULT.out_buffer_bytes;
/// What the operations of a connection hand to its writer.
pub(super) enum Out {
    /// A message to send.
    Send(String),
    /// Operation `id`, run by task `task`, is over: its place is free (if it is still that task's),
    /// then its last message, if any, goes out — in that order, so a client told `complete` may
    /// reuse the id at once.
    Last { id: String, task: tokio::task::Id, message: Option<String> },
}

/// Where a connection's operations leave their messages for its writer, and what counts them.
#[derive(Clone)]
pub(super) struct Outbox {
    pub(super) sender: mpsc::Sender<Out>,
    /// Bytes handed over and not yet written.
    pub(super) waiting: Arc<AtomicUsize>,
    /// Set when a message could not be handed over: the client is too slow.
    pub(super) slow: Arc<AtomicBool>,
}

impl Outbox {
    /// Hands over an answer at once; false, and the client marked too slow, when too much waits
    /// for it already.
    pub(super) fn offer(&self, text: String) -> bool {
        let bytes = text.len();
        if self.waiting.load(Ordering::Relaxed) >= OUT_BUFFER_BYTES {
            self.slow.store(true, Ordering::Relaxed);
            return false;
        }
        self.waiting.fetch_add(bytes, Ordering::Relaxed);
        if self.sender.try_send(Out::Send(text)).is_err() {
            self.waiting.fetch_sub(bytes, Ordering::Relaxed);
            self.slow.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// An operation's last word (its `complete` or `error`, or nothing), waiting for room: the
    /// connection learns the operation is over.
    pub(super) async fn last(&self, id: String, task: tokio::task::Id, message: Option<String>) {
        let bytes = message.as_ref().map_or(0, String::len);
        self.waiting.fetch_add(bytes, Ordering::Relaxed);
        if self.sender.send(Out::Last { id, task, message }).await.is_err() {
            self.waiting.fetch_sub(bytes, Ordering::Relaxed);
        }
    }

    pub(super) fn is_slow(&self) -> bool {
        self.slow.load(Ordering::Relaxed)
    }
}
