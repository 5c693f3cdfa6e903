//! The `ref`s of an import's moments, which later pin lines name. Those of the batch not yet
//! written wait in memory; written ones go to a temporary table of the import's transaction, so the
//! importer's memory is bounded by the batch whatever the size of the file (a ten-times world has
//! four million refs).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DbBackend, FromQueryResult, Value,
    sea_query::{Alias, Expr, ExprTrait as _, OnConflict, Query},
};

use super::writer::statement_lengths;
use crate::error::Error;
use rules::{UserId, model::MomentId};
use store::entity::columns::Kind;
use store::entity::moments;

/// The temporary table of written refs; dropped before the import commits, and with it on rollback.
const TABLE: &str = "import_refs";

/// A moment of this file that later lines may name by its `ref`.
#[derive(Clone, Copy, Debug, FromQueryResult)]
pub(super) struct ImportedMoment {
    pub(super) id: MomentId,
    pub(super) kind: Kind,
    pub(super) author: UserId,
    pub(super) posted_at: DateTime<Utc>,
}

/// A ref used twice: the line of its second use.
pub(super) struct Reused {
    pub(super) line: usize,
    pub(super) reference: String,
}

/// The refs of an import.
#[derive(Default)]
pub(super) struct Refs {
    /// Refs of moments not yet written, with the line that named each.
    waiting: HashMap<String, (usize, ImportedMoment)>,
}

impl Refs {
    /// Makes the table of written refs, inside the import's transaction.
    pub(super) async fn create(db: &impl ConnectionTrait) -> Result<(), Error> {
        let text = match db.get_database_backend() {
            DbBackend::Postgres => {
                "CREATE TEMPORARY TABLE import_refs (name TEXT PRIMARY KEY, moment_id BIGINT NOT NULL) ON COMMIT DROP"
            }
            _ => "CREATE TEMPORARY TABLE import_refs (name TEXT PRIMARY KEY, moment_id INTEGER NOT NULL) WITHOUT ROWID",
        };
        db.execute_unprepared(text).await?;
        Ok(())
    }

    /// Drops the table before the import commits (on SQLite a temporary table outlives the
    /// transaction, on the connection the pool keeps).
    pub(super) async fn drop_table(db: &impl ConnectionTrait) -> Result<(), Error> {
        db.execute_unprepared("DROP TABLE import_refs").await?;
        Ok(())
    }

    /// Keeps `reference` for the moment of `line`; false when this batch already used it (a ref
    /// of an earlier batch used again is found when the batch is written: [`Refs::write`]).
    pub(super) fn add(&mut self, reference: String, line: usize, moment: ImportedMoment) -> bool {
        match self.waiting.entry(reference) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert((line, moment));
                true
            }
        }
    }

    /// The moment a ref of the batch not yet written names.
    pub(super) fn waiting(&self, reference: &str) -> Option<ImportedMoment> {
        self.waiting.get(reference).map(|&(_, moment)| moment)
    }

    /// The moment a written ref names, read from the table with its moment, which was written
    /// before it.
    pub(super) async fn written(db: &impl ConnectionTrait, reference: &str) -> Result<Option<ImportedMoment>, Error> {
        let refs = Alias::new(TABLE);
        let select = Query::select()
            .column((moments::Entity, moments::Column::Id))
            .column((moments::Entity, moments::Column::Kind))
            .expr_as(Expr::col((moments::Entity, moments::Column::AuthorId)), Alias::new("author"))
            .column((moments::Entity, moments::Column::PostedAt))
            .from(refs.clone())
            .inner_join(
                moments::Entity,
                Expr::col((moments::Entity, moments::Column::Id)).equals((refs.clone(), Alias::new("moment_id"))),
            )
            .and_where(Expr::col((refs, Alias::new("name"))).eq(reference))
            .to_owned();
        match db.query_one(&select).await? {
            Some(row) => Ok(Some(ImportedMoment::from_query_result(&row, "")?)),
            None => Ok(None),
        }
    }

    /// The waiting refs, to be written with their batch; none wait after this.
    pub(super) fn take(&mut self) -> Self {
        std::mem::take(self)
    }

    /// Writes the waiting refs, after their moments; the first one (by line) that an earlier batch
    /// already used, if any.
    pub(super) async fn write(&mut self, db: &impl ConnectionTrait) -> Result<Option<Reused>, Error> {
        let waiting = std::mem::take(&mut self.waiting);
        let mut rows: Vec<(String, usize, MomentId)> =
            waiting.into_iter().map(|(reference, (line, moment))| (reference, line, moment.id)).collect();
        rows.sort_unstable_by_key(|&(_, line, _)| line);
        let mut reused: Option<Reused> = None;
        let mut start = 0;
        for length in statement_lengths(rows.iter().map(|(reference, ..)| reference.len() + 12 + 16)) {
            let chunk = &rows[start..start + length];
            start += length;
            let mut insert = Query::insert();
            insert.into_table(Alias::new(TABLE)).columns([Alias::new("name"), Alias::new("moment_id")]);
            for (reference, _, id) in chunk {
                insert.values_panic([Value::from(reference.as_str()).into(), Value::from(*id).into()]);
            }
            insert.on_conflict(OnConflict::column(Alias::new("name")).do_nothing().to_owned());
            insert.returning_col(Alias::new("name"));
            let written: std::collections::HashSet<String> = db
                .query_all(&insert)
                .await?
                .iter()
                .map(|row| row.try_get::<String>("", "name"))
                .collect::<Result<_, _>>()?;
            if reused.is_none()
                && let Some((reference, line, _)) = chunk.iter().find(|(reference, ..)| !written.contains(reference))
            {
                reused = Some(Reused { line: *line, reference: reference.clone() });
            }
        }
        Ok(reused)
    }
}
