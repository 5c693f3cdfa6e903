//! `moments import`: the JSON Lines format of docs/rules.md §5, loaded in one transaction. Every line is
//! checked as the API would check it; the first bad line stops the import with its number and the
//! problem, and nothing of the file is kept.
//!
//! [`format`] reads the lines, [`checks`] holds each against the rules, and [`writer`] sends the
//! checked rows in multi-row inserts. Speed: checks run against what the import keeps in memory
//! (with what the database already held read once per user), ids are given out by the importer,
//! and rows go to the database a thousand at a time, so a 400,000-moment world loads in well
//! under two minutes.

mod batch;
mod checks;
mod format;
mod refs;
mod report;
mod writer;

use std::{
    io::{BufRead, IsTerminal as _, Write as _},
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait as _, DatabaseTransaction, DbBackend, TransactionTrait as _};
use tokio::sync::mpsc;

pub use format::{MAX_CLOCK_SKEW, MAX_LINE_BYTES};
pub use report::{ImportError, ImportReport};
pub use writer::TABLES;

use store::db::Db;

use crate::{clock::to_micros, error::Error};
use report::Refused;

/// Shows how far the import is, on a terminal only, at most twice a second.
struct Progress {
    show: bool,
    started: Instant,
    last: Instant,
}

impl Progress {
    fn new() -> Self {
        let now = Instant::now();
        Self { show: std::io::stderr().is_terminal(), started: now, last: now }
    }

    fn tick(&mut self, line: usize, report: &ImportReport) {
        if self.show && self.last.elapsed() >= Duration::from_millis(500) {
            self.last = Instant::now();
            let rate = line as f64 / self.started.elapsed().as_secs_f64().max(0.001);
            eprint!("\r  line {line} ({rate:.0} lines/s): {report}   ");
            let _ = std::io::stderr().flush();
        }
    }

    fn done(&self) {
        if self.show {
            eprintln!();
        }
    }
}

/// Loads `input` into the database in one transaction, at time `now` for what the file leaves out.
pub async fn import(db: &Db, input: impl BufRead, now: DateTime<Utc>) -> Result<ImportReport, ImportError> {
    // SQLite's temporary tables live in memory on the server's connections; the import's table of
    // refs goes to a file instead (SQLite's writer is one connection: this is it).
    let sqlite = db.backend() == DbBackend::Sqlite;
    if sqlite {
        db.write.execute_unprepared("PRAGMA temp_store = FILE").await.map_err(Error::from)?;
    }
    let loaded = load(db, input, now).await;
    if sqlite {
        db.write.execute_unprepared("PRAGMA temp_store = MEMORY").await.map_err(Error::from)?;
    }
    let report = loaded?;
    // Fresh statistics, so the query planner knows the new sizes.
    let analyze = match db.backend() {
        // VACUUM too: it marks the new rows visible to all, which lets the lists' index-only
        // scans skip the table.
        DbBackend::Postgres => format!("VACUUM (ANALYZE) {}", TABLES.join(", ")),
        _ => "ANALYZE".to_owned(),
    };
    // The import is committed: statistics that fail to refresh are worth a warning, not a failure.
    if let Err(e) = db.write.execute_unprepared(&analyze).await {
        tracing::warn!(error = %e, "the import is in; refreshing the planner's statistics failed");
    }
    Ok(report)
}

/// [`import`] from a string.
pub async fn import_str(db: &Db, text: &str, now: DateTime<Utc>) -> Result<ImportReport, ImportError> {
    import(db, std::io::Cursor::new(text), now).await
}

/// The import's one transaction: the lines checked here, their rows written by the writer's task
/// meanwhile ([`batch::start`]), committed once both are done.
async fn load(db: &Db, input: impl BufRead, now: DateTime<Utc>) -> Result<ImportReport, ImportError> {
    let txn = Arc::new(db.write.begin().await.map_err(Error::from)?);
    let (batches, writer) = batch::start(txn.clone());
    let loaded = fill(&txn, batches, input, now).await;
    // Its channel closed with `fill`'s end: the writer stops and lets go of the transaction.
    writer.await.map_err(|e| Error::Internal(anyhow::anyhow!("the import's writer failed: {e}")))?;
    let report = loaded?;
    let txn =
        Arc::into_inner(txn).ok_or_else(|| Error::Internal(anyhow::anyhow!("the transaction is still shared")))?;
    txn.commit().await.map_err(Error::from)?;
    Ok(report)
}

/// Everything the import writes inside its transaction.
async fn fill(
    txn: &Arc<DatabaseTransaction>,
    batches: mpsc::Sender<batch::Batch>,
    input: impl BufRead,
    now: DateTime<Utc>,
) -> Result<ImportReport, ImportError> {
    if txn.get_database_backend() == DbBackend::Postgres {
        // Ids are given out here: no other writer may add users, tags or moments meanwhile.
        txn.execute_unprepared("LOCK TABLE users, tags, moments IN SHARE ROW EXCLUSIVE MODE")
            .await
            .map_err(Error::from)?;
    }
    let held_back = writer::HeldBack::hold(&**txn).await?;
    let mut importer = checks::Importer::begin(txn.clone(), batches, to_micros(now)).await?;
    let checked = check_lines(&mut importer, input).await;
    // The rows of the lines before a failure come first: their failure is the earlier one.
    importer.settle().await?;
    importer.flush(checked?).await?;
    importer.settle().await?;
    let report = importer.report;
    drop(importer);
    held_back.add_back(&**txn).await?;
    refs::Refs::drop_table(&**txn).await?;
    writer::advance_sequences(&**txn).await?;
    Ok(report)
}

/// Checks every line of `input`, sending the rows a batch at a time while it goes on; the number of
/// the last line.
async fn check_lines(importer: &mut checks::Importer, input: impl BufRead) -> Result<usize, ImportError> {
    let mut progress = Progress::new();
    let mut last_line = 0;
    let mut lines = format::Lines::new(input);
    while let Some((line, text)) = lines.next_line()? {
        last_line = line;
        if text.trim().is_empty() {
            continue;
        }
        let parsed: format::Line = serde_json::from_str(text)
            .map_err(|e| ImportError::Line { line, message: format!("not a valid record: {e}") })?;
        importer.line_number = line;
        if let Err(Refused(message)) = importer.line(parsed).await {
            // The batch before this line may have failed; then a ref of an earlier line of this
            // batch used again is only found when the batch is written: either comes first.
            importer.settle().await?;
            let earlier = importer.refs.write(&*importer.txn).await.ok().flatten().filter(|r| r.line < line);
            return Err(earlier.map_or(ImportError::Line { line, message }, checks::reused_at));
        }
        if importer.pending.rows() >= writer::FLUSH_AT {
            importer.pending.settings_of.clear();
            importer.flush(line).await?;
        }
        progress.tick(line, &importer.report);
    }
    progress.done();
    Ok(last_line)
}
