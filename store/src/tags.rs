//! Tags: a user's named groups of friends, their members, and what deleting one leaves in the
//! audiences that named it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
    TransactionSession as _, TransactionTrait,
    sea_query::{Expr, OnConflict},
};

use super::{
    dedup,
    friends::{NamePage, require_friends},
    users::{self},
};
use crate::{
    entity::{moment_audience_tags, moment_audience_users, tag_members, tags},
    error::{Error, Result, TakenAs as _},
};
use rules::{
    UserId,
    input::{TagName, check_tag_size},
};

/// A tag as listed to its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagRecord {
    /// Database id.
    pub id: i64,
    /// Whose tag.
    pub owner_id: UserId,
    /// Its name.
    pub name: String,
}

impl TagRecord {
    /// About how many bytes the record holds, for the request's content budget.
    pub fn content_bytes(&self) -> usize {
        users::RECORD_OVERHEAD_BYTES + self.name.len()
    }
}

impl From<tags::Model> for TagRecord {
    fn from(m: tags::Model) -> Self {
        Self { id: m.id, owner_id: m.owner_id, name: m.name }
    }
}

async fn set_members(db: &impl ConnectionTrait, tag: i64, members: &[UserId]) -> Result<Vec<UserId>> {
    let before: HashSet<UserId> = tag_members::Entity::find()
        .select_only()
        .column(tag_members::Column::UserId)
        .filter(tag_members::Column::TagId.eq(tag))
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let after: HashSet<UserId> = members.iter().copied().collect();
    let mut joined_or_left: Vec<UserId> = before.symmetric_difference(&after).copied().collect();
    joined_or_left.sort_unstable();
    tag_members::Entity::delete_many().filter(tag_members::Column::TagId.eq(tag)).exec(db).await?;
    if !members.is_empty() {
        tag_members::Entity::insert_many(
            members.iter().map(|&user_id| tag_members::ActiveModel { tag_id: Set(tag), user_id: Set(user_id) }),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(joined_or_left)
}

/// Creates a tag of `owner` holding `members` (who must be the owner's friends).
pub async fn create_tag(
    db: &impl TransactionTrait,
    owner: UserId,
    name: &TagName,
    members: &[UserId],
    now: DateTime<Utc>,
) -> Result<TagRecord> {
    let members = dedup(members.iter().copied());
    check_tag_size("memberIds", members.len())?;
    let txn = db.begin().await?;
    require_friends(&txn, owner, &members, "memberIds").await?;
    let inserted = tags::Entity::insert(tags::ActiveModel {
        owner_id: Set(owner),
        name: Set(name.as_str().to_owned()),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await
    .taken_as(|| Error::tag_name_taken(name.as_str()))?;
    let id = inserted.last_insert_id;
    set_members(&txn, id, &members).await?;
    txn.commit().await?;
    Ok(TagRecord { id, owner_id: owner, name: name.as_str().to_owned() })
}

/// The tag `id` if `owner` owns it.
pub async fn owned_tag(db: &impl ConnectionTrait, owner: UserId, id: i64) -> Result<Option<TagRecord>> {
    Ok(tags::Entity::find_by_id(id).one(db).await?.filter(|t| t.owner_id == owner).map(Into::into))
}

fn no_such_tag() -> Error {
    Error::NotFound("tagId: you have no such tag".into())
}

/// Replaces the members of `owner`'s tag (and renames it, if a name is given); says who joined
/// or left it.
pub async fn update_tag(
    db: &impl TransactionTrait,
    owner: UserId,
    id: i64,
    name: Option<&TagName>,
    members: Option<&[UserId]>,
) -> Result<(TagRecord, Vec<UserId>)> {
    let txn = db.begin().await?;
    let mut tag = owned_tag(&txn, owner, id).await?.ok_or_else(no_such_tag)?;
    let mut joined_or_left = Vec::new();
    if let Some(name) = name {
        tags::Entity::update_many()
            .col_expr(tags::Column::Name, Expr::val(name.as_str()))
            .filter(tags::Column::Id.eq(id))
            .exec(&txn)
            .await
            .taken_as(|| Error::tag_name_taken(name.as_str()))?;
        tag.name = name.as_str().to_owned();
    }
    if let Some(members) = members {
        let members = dedup(members.iter().copied());
        check_tag_size("memberIds", members.len())?;
        require_friends(&txn, owner, &members, "memberIds").await?;
        joined_or_left = set_members(&txn, id, &members).await?;
    }
    txn.commit().await?;
    Ok((tag, joined_or_left))
}

/// Deletes `owner`'s tag. Moments whose audience named the tag keep the audience they had: the
/// tag's members at this moment are written into those audiences as users, so an `EXCLUDE` never
/// opens up and an `INCLUDE` never closes because a tag went away.
pub async fn delete_tag(db: &impl TransactionTrait, owner: UserId, id: i64) -> Result<()> {
    let txn = db.begin().await?;
    owned_tag(&txn, owner, id).await?.ok_or_else(no_such_tag)?;
    let moment_ids: Vec<i64> = moment_audience_tags::Entity::find()
        .select_only()
        .column(moment_audience_tags::Column::MomentId)
        .filter(moment_audience_tags::Column::TagId.eq(id))
        .into_tuple()
        .all(&txn)
        .await?;
    let members: Vec<UserId> = tag_members::Entity::find()
        .select_only()
        .column(tag_members::Column::UserId)
        .filter(tag_members::Column::TagId.eq(id))
        .into_tuple()
        .all(&txn)
        .await?;
    let rows: Vec<_> = moment_ids
        .iter()
        .flat_map(|&m| {
            members.iter().map(move |&u| moment_audience_users::ActiveModel { moment_id: Set(m), user_id: Set(u) })
        })
        .collect();
    for chunk in rows.chunks(500) {
        moment_audience_users::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([moment_audience_users::Column::MomentId, moment_audience_users::Column::UserId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    tags::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// A page of a user's tags, by name.
pub async fn tags_of(db: &impl ConnectionTrait, owner: UserId, page: &NamePage) -> Result<Vec<TagRecord>> {
    let mut find = tags::Entity::find().filter(tags::Column::OwnerId.eq(owner));
    if let Some(after) = &page.after {
        find = find.filter(tags::Column::Name.gt(after.as_str()));
    }
    Ok(find.order_by_asc(tags::Column::Name).limit(page.first).all(db).await?.into_iter().map(Into::into).collect())
}

/// Tags by id, in one query.
pub async fn tags_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<HashMap<i64, TagRecord>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(tags::Entity::find()
        .filter(tags::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.into()))
        .collect())
}

/// The member ids of several tags, in one query.
pub async fn tag_member_ids(db: &impl ConnectionTrait, tags: &[i64]) -> Result<HashMap<i64, Vec<UserId>>> {
    let mut out: HashMap<i64, Vec<UserId>> = tags.iter().map(|t| (*t, Vec::new())).collect();
    if tags.is_empty() {
        return Ok(out);
    }
    for m in tag_members::Entity::find().filter(tag_members::Column::TagId.is_in(tags.iter().copied())).all(db).await? {
        out.entry(m.tag_id).or_default().push(m.user_id);
    }
    Ok(out)
}
