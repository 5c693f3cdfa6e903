//! The bulk writer: rows the import has checked wait here as typed table rows and go to the
//! database in multi-row inserts, in the order the foreign keys need; and the bookkeeping around
//! them (the ids in use, PostgreSQL's sequences, the tables an import touches).

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel, Iterable as _, QueryTrait as _,
    Statement, Value, sea_query::OnConflict,
};

use rules::UserId;

use store::entity::{
    friendships, hidden_from, moment_audience_tags, moment_audience_users, moment_media, moments, moments_settings,
    pins, tag_members, tags, users,
};

use crate::error::Error;

/// The tables an import writes to.
pub const TABLES: [&str; 11] = [
    "users",
    "moments_settings",
    "friendships",
    "tags",
    "tag_members",
    "hidden_from",
    "moments",
    "moment_media",
    "moment_audience_users",
    "moment_audience_tags",
    "pins",
];

/// Rows per insert statement: well under the bound-parameter limits of SQLite and PostgreSQL.
const ROWS_PER_INSERT: usize = 1_000;
/// Bytes per insert statement. A statement that fits in one TLS record (16 KiB) goes out in one
/// write: a larger one is split, and the client's Nagle delay meeting the server's delayed ACK
/// then costs about 40 ms per statement on PostgreSQL (the driver does not set TCP_NODELAY).
const BYTES_PER_INSERT: usize = 12_000;
/// Pending rows that trigger a flush.
pub(super) const FLUSH_AT: usize = 20_000;

/// Rows waiting for the next multi-row insert, one list per table.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) users: Vec<users::Model>,
    pub(super) settings: Vec<moments_settings::Model>,
    /// Where each user of this batch has their settings row in `settings`.
    pub(super) settings_of: HashMap<UserId, usize>,
    pub(super) friendships: Vec<friendships::Model>,
    pub(super) tags: Vec<tags::Model>,
    pub(super) tag_members: Vec<tag_members::Model>,
    pub(super) hidden: Vec<hidden_from::Model>,
    pub(super) moments: Vec<moments::Model>,
    pub(super) media: Vec<moment_media::Model>,
    pub(super) audience_users: Vec<moment_audience_users::Model>,
    pub(super) audience_tags: Vec<moment_audience_tags::Model>,
    pub(super) pins: Vec<pins::Model>,
}

impl Pending {
    /// How many rows wait.
    pub(super) fn rows(&self) -> usize {
        self.users.len()
            + self.settings.len()
            + self.friendships.len()
            + self.tags.len()
            + self.tag_members.len()
            + self.hidden.len()
            + self.moments.len()
            + self.media.len()
            + self.audience_users.len()
            + self.audience_tags.len()
            + self.pins.len()
    }

    /// The multi-row inserts of every waiting row, parents before children.
    pub(super) fn statements(self, backend: DbBackend) -> Vec<Statement> {
        let mut out = Vec::new();
        let mut add = |statements: &mut dyn Iterator<Item = Statement>| out.extend(statements);
        let pair =
            OnConflict::columns([friendships::Column::UserId, friendships::Column::FriendId]).do_nothing().to_owned();
        let pin = OnConflict::column(pins::Column::MomentId).do_nothing().to_owned();
        add(&mut inserts(backend, self.users, None));
        add(&mut inserts(backend, self.settings, None));
        add(&mut inserts(backend, self.friendships, Some(pair)));
        add(&mut inserts(backend, self.tags, None));
        add(&mut inserts(backend, self.tag_members, None));
        add(&mut inserts(backend, self.hidden, None));
        add(&mut inserts(backend, self.moments, None));
        add(&mut inserts(backend, self.media, None));
        add(&mut inserts(backend, self.audience_users, None));
        add(&mut inserts(backend, self.audience_tags, None));
        add(&mut inserts(backend, self.pins, Some(pin)));
        out
    }
}

/// The inserts of rows of one table, in statements of [`statement_lengths`], built as they are
/// taken.
fn inserts<M, A>(backend: DbBackend, rows: Vec<M>, on_conflict: Option<OnConflict>) -> impl Iterator<Item = Statement>
where
    M: IntoActiveModel<A>,
    A: ActiveModelTrait,
{
    let rows: Vec<A> = rows.into_iter().map(IntoActiveModel::into_active_model).collect();
    let lengths =
        statement_lengths(rows.iter().map(|row| {
            <A::Entity as EntityTrait>::Column::iter().map(|c| encoded_size(row.get(c).into_value())).sum()
        }));
    let mut rows = rows.into_iter();
    lengths.into_iter().map(move |length| {
        let mut insert = <A::Entity as EntityTrait>::insert_many(rows.by_ref().take(length).collect::<Vec<_>>());
        if let Some(on_conflict) = on_conflict.clone() {
            insert = insert.on_conflict(on_conflict);
        }
        backend.build(&insert.into_query())
    })
}

/// How many rows of each multi-row statement, given each row's encoded size: at most
/// [`ROWS_PER_INSERT`] rows and about [`BYTES_PER_INSERT`] bytes each.
pub(super) fn statement_lengths(sizes: impl IntoIterator<Item = usize>) -> Vec<usize> {
    let mut lengths = Vec::new();
    let (mut rows, mut bytes) = (0, 0);
    for size in sizes {
        rows += 1;
        bytes += size;
        if rows == ROWS_PER_INSERT || bytes >= BYTES_PER_INSERT {
            lengths.push(rows);
            (rows, bytes) = (0, 0);
        }
    }
    if rows > 0 {
        lengths.push(rows);
    }
    lengths
}

/// About how many bytes a value takes in a statement: its placeholder in the SQL and its data.
fn encoded_size(value: Option<Value>) -> usize {
    match value {
        Some(Value::String(Some(s))) => s.len() + 12,
        _ => 16,
    }
}

/// The highest id in use in `table` (0 when it is empty): the import gives out ids after it.
pub(super) async fn max_id(db: &impl ConnectionTrait, table: &str) -> Result<i64, Error> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, format!("SELECT COALESCE(MAX(id), 0) AS m FROM {table}")))
        .await?
        .ok_or_else(|| anyhow::anyhow!("MAX(id) of {table} returned nothing"))?;
    Ok(row.try_get::<i64>("", "m")?)
}

/// Makes PostgreSQL's identity sequences continue after the ids the import gave out.
pub(super) async fn advance_sequences(db: &impl ConnectionTrait) -> Result<(), Error> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for table in ["users", "tags", "moments"] {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), m) FROM (SELECT MAX(id) AS m FROM {table}) AS t WHERE m IS NOT NULL"
        ))
        .await?;
    }
    Ok(())
}

/// The foreign keys and secondary indexes of the tables an import writes to, held off while a
/// load into an empty PostgreSQL database runs, as `pg_restore` does. PostgreSQL checks each
/// inserted row's keys one lookup at a time (over half of its work in such an import) and
/// inserts each row into `idx_moments_author_posted` at a random place; adding a key back checks
/// every row in one join, and building an index sorts once. Primary keys and unique indexes stay: the import's
/// `ON CONFLICT` and its lookups use them. All of it happens inside the import's transaction, so
/// a key that does not hold fails the import and leaves the database as it was.
#[derive(Default)]
pub(super) struct HeldBack {
    /// `CREATE INDEX …` and `ALTER TABLE … ADD CONSTRAINT …` of what was dropped, as PostgreSQL
    /// describes it, indexes first.
    add_back: Vec<String>,
}

impl HeldBack {
    /// Drops the foreign keys and secondary indexes of [`TABLES`] when `db` is PostgreSQL and
    /// holds no user yet (every table the import writes to refers to users); otherwise holds
    /// nothing. Dropping them locks their tables until the import commits, which only an empty
    /// database can afford.
    pub(super) async fn hold(db: &impl ConnectionTrait) -> Result<Self, Error> {
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(Self::default());
        }
        let empty = db
            .query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT NOT EXISTS (SELECT 1 FROM users) AS e"))
            .await?
            .ok_or_else(|| anyhow::anyhow!("SELECT NOT EXISTS returned nothing"))?
            .try_get::<bool>("", "e")?;
        if !empty {
            return Ok(Self::default());
        }
        let tables = TABLES.map(|t| format!("'{t}'")).join(", ");
        let held = db
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT format('DROP INDEX %s', i.indexrelid::regclass) AS drop_sql, \
                     pg_get_indexdef(i.indexrelid) AS add_sql, 1 AS step \
                     FROM pg_index i \
                     WHERE i.indrelid = ANY(ARRAY[{tables}]::regclass[]) AND NOT i.indisunique \
                     UNION ALL \
                     SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname), \
                     format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, \
                     pg_get_constraintdef(c.oid)), 2 \
                     FROM pg_constraint c \
                     WHERE c.contype = 'f' AND c.conrelid = ANY(ARRAY[{tables}]::regclass[]) \
                     ORDER BY step, add_sql"
                ),
            ))
            .await?;
        let mut back = Self::default();
        for row in held {
            db.execute_unprepared(&row.try_get::<String>("", "drop_sql")?).await?;
            back.add_back.push(row.try_get("", "add_sql")?);
        }
        Ok(back)
    }

    /// Builds every index held back and adds every key back, checking all rows against it.
    pub(super) async fn add_back(self, db: &impl ConnectionTrait) -> Result<(), Error> {
        for statement in self.add_back {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
