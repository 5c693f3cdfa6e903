//! Users and their moments settings.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, TransactionSession as _, TransactionTrait,
};

use rules::{UserId, VisibleWindow};

use crate::{
    entity::{moments_settings, users},
    error::{Error, Result, TakenAs as _},
};

/// A user as the rest of the server reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// Database id.
    pub id: UserId,
    /// Unique handle.
    pub handle: String,
    /// Display name.
    pub display_name: String,
}

/// What any record is counted as holding besides its strings (its fields, the map entry around it).
pub const RECORD_OVERHEAD_BYTES: usize = 128;

impl UserRecord {
    /// About how many bytes the record holds, for the request's content budget.
    pub fn content_bytes(&self) -> usize {
        RECORD_OVERHEAD_BYTES + self.handle.len() + self.display_name.len()
    }
}

impl From<users::Model> for UserRecord {
    fn from(m: users::Model) -> Self {
        Self { id: m.id, handle: m.handle, display_name: m.display_name }
    }
}

/// A user's moments settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettingsRecord {
    /// How far back others may look.
    pub visible_window: VisibleWindow,
    /// Whether strangers may see the ten newest public moments.
    pub strangers_can_view: bool,
}

impl Default for SettingsRecord {
    /// A new user's settings: everything visible to friends, nothing to strangers.
    fn default() -> Self {
        Self { visible_window: VisibleWindow::All, strangers_can_view: false }
    }
}

/// Creates a user with default settings, both or neither (one transaction: a user without a
/// settings row would have a profile that cannot answer). A taken handle is `BAD_USER_INPUT`.
pub async fn create(
    db: &impl TransactionTrait,
    handle: &str,
    display_name: &str,
    password_hash: Option<String>,
    now: DateTime<Utc>,
) -> Result<UserRecord> {
    let txn = db.begin().await?;
    let inserted = users::Entity::insert(users::ActiveModel {
        handle: Set(handle.to_owned()),
        display_name: Set(display_name.to_owned()),
        password_hash: Set(password_hash),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await
    .taken_as(|| Error::handle_taken(handle))?;
    let id = inserted.last_insert_id;
    moments_settings::Entity::insert(moments_settings::ActiveModel {
        user_id: Set(id),
        visible_window: Set(SettingsRecord::default().visible_window.into()),
        strangers_can_view: Set(SettingsRecord::default().strangers_can_view),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(UserRecord { id, handle: handle.to_owned(), display_name: display_name.to_owned() })
}

/// Locks a user's row for the rest of the transaction (PostgreSQL; SQLite has a single writer), so
/// that changes to one user's moments and pins happen one at a time.
pub async fn lock(db: &impl ConnectionTrait, user: UserId) -> Result<()> {
    users::Entity::find_by_id(user).lock_exclusive().one(db).await?;
    Ok(())
}

/// The user with this id.
pub async fn by_id(db: &impl ConnectionTrait, id: UserId) -> Result<Option<UserRecord>> {
    Ok(users::Entity::find_by_id(id).one(db).await?.map(Into::into))
}

/// The user with this handle.
pub async fn by_handle(db: &impl ConnectionTrait, handle: &str) -> Result<Option<UserRecord>> {
    Ok(users::Entity::find().filter(users::Column::Handle.eq(handle)).one(db).await?.map(Into::into))
}

/// The id and password hash of the user with this handle, for signing in.
pub async fn credentials(db: &impl ConnectionTrait, handle: &str) -> Result<Option<(UserRecord, Option<String>)>> {
    Ok(users::Entity::find().filter(users::Column::Handle.eq(handle)).one(db).await?.map(|m| {
        let hash = m.password_hash.clone();
        (m.into(), hash)
    }))
}

/// Users by id, in one query.
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[UserId]) -> Result<HashMap<UserId, UserRecord>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(users::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m.into()))
        .collect())
}

/// A user's moments settings.
pub async fn settings(db: &impl ConnectionTrait, user: UserId) -> Result<SettingsRecord> {
    let row = moments_settings::Entity::find_by_id(user)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("user {user} has no settings row"))?;
    Ok(SettingsRecord { visible_window: row.visible_window.into(), strangers_can_view: row.strangers_can_view })
}

/// Changes the given settings and returns them all.
pub async fn update_settings(
    db: &impl ConnectionTrait,
    user: UserId,
    window: Option<VisibleWindow>,
    strangers_can_view: Option<bool>,
) -> Result<SettingsRecord> {
    let mut change = moments_settings::ActiveModel { user_id: Set(user), ..Default::default() };
    if let Some(window) = window {
        change.visible_window = Set(window.into());
    }
    if let Some(strangers) = strangers_can_view {
        change.strangers_can_view = Set(strangers);
    }
    if window.is_some() || strangers_can_view.is_some() {
        moments_settings::Entity::update_many()
            .set(change)
            .filter(moments_settings::Column::UserId.eq(user))
            .exec(db)
            .await?;
    }
    settings(db, user).await
}
