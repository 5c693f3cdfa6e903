//! The import's writer: a task of its own that writes the checked rows a batch at a time while the
//! lines after them are checked.

use std::sync::Arc;

use sea_orm::{ConnectionTrait as _, DatabaseTransaction};
use tokio::{
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

use super::{
    refs::{Refs, Reused},
    writer::Pending,
};
use crate::error::Error;

/// A batch of checked rows, and the refs its moments gave, for the writer.
pub(super) struct Batch {
    /// The rows.
    pub(super) rows: Pending,
    /// The refs of the batch's moments.
    pub(super) refs: Refs,
    /// Told what the writing came to: the first ref an earlier batch used, if any.
    pub(super) done: oneshot::Sender<Result<Option<Reused>, Error>>,
}

/// Starts the import's writer: a task that writes each batch it is sent, in order — its inserts,
/// then its refs — while the lines after it are checked, so the database writes one batch while
/// the next is read. Its channel holds one batch more: the checks wait when two batches are ahead
/// of the database. It stops when the channel closes or a batch fails, and then lets go of the
/// transaction.
pub(super) fn start(txn: Arc<DatabaseTransaction>) -> (mpsc::Sender<Batch>, JoinHandle<()>) {
    let (batches, mut next) = mpsc::channel::<Batch>(1);
    let writer = tokio::spawn(async move {
        let backend = txn.get_database_backend();
        while let Some(Batch { rows, mut refs, done }) = next.recv().await {
            let written = async {
                for statement in rows.statements(backend) {
                    txn.execute_raw(statement).await?;
                }
                refs.write(&*txn).await
            }
            .await;
            let failed = written.is_err();
            // The checks may have stopped listening (a line was refused meanwhile).
            let _ = done.send(written);
            if failed {
                break;
            }
        }
    });
    (batches, writer)
}
