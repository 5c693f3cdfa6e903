//! Friend requests and friendships, tags and their members, and hidden-from lists.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, TransactionSession as _, TransactionTrait,
    sea_query::{DynIden, Expr, ExprTrait as _, IntoIden as _, OnConflict, Query},
};

use super::{
    dedup,
    users::{self, UserRecord},
};
use crate::{
    entity::{
        friend_requests, friendships, hidden_from, moment_audience_tags, moment_audience_users, tag_members, tags,
        users as user_rows,
    },
    error::{Error, Result, TakenAs as _},
};
use rules::{
    UserId,
    input::{MAX_FRIENDS, MAX_PENDING_REQUESTS, TagName, check_tag_size, not_a_friend},
};

/// Where two users stand as friends, seen from the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FriendState {
    /// Mutual friends.
    Friends,
    /// The first asked the second; no answer yet.
    RequestSent,
    /// The second asked the first; no answer yet.
    RequestReceived,
    /// Neither.
    None,
}

/// Where `me` stands with `other`.
pub async fn friend_state(db: &impl ConnectionTrait, me: UserId, other: UserId) -> Result<FriendState> {
    if are_friends(db, me, other).await? {
        return Ok(FriendState::Friends);
    }
    let requests = friend_requests::Entity::find()
        .filter(
            Condition::any()
                .add(friend_requests::Column::FromUserId.eq(me).and(friend_requests::Column::ToUserId.eq(other)))
                .add(friend_requests::Column::FromUserId.eq(other).and(friend_requests::Column::ToUserId.eq(me))),
        )
        .all(db)
        .await?;
    Ok(if requests.iter().any(|r| r.from_user_id == me) {
        FriendState::RequestSent
    } else if requests.is_empty() {
        FriendState::None
    } else {
        FriendState::RequestReceived
    })
}

/// Whether two users are friends.
pub async fn are_friends(db: &impl ConnectionTrait, a: UserId, b: UserId) -> Result<bool> {
    Ok(friendships::Entity::find_by_id((a, b)).one(db).await?.is_some())
}

/// Of `others`, those who are friends of `me`, in one query.
pub async fn friends_among(db: &impl ConnectionTrait, me: UserId, others: &[UserId]) -> Result<HashSet<UserId>> {
    if others.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(friendships::Entity::find()
        .filter(friendships::Column::UserId.eq(me))
        .filter(friendships::Column::FriendId.is_in(others.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.friend_id)
        .collect())
}

/// How many friends a user has.
pub async fn friend_count(db: &impl ConnectionTrait, user: UserId) -> Result<u64> {
    Ok(friendships::Entity::find().filter(friendships::Column::UserId.eq(user)).count(db).await?)
}

/// Makes `me` and `other` friends, in both directions, and clears requests between them.
/// Idempotent; refused when either already has [`MAX_FRIENDS`].
pub async fn befriend(db: &impl ConnectionTrait, me: UserId, other: UserId, now: DateTime<Utc>) -> Result<()> {
    if !are_friends(db, me, other).await? {
        if friend_count(db, me).await? >= MAX_FRIENDS {
            return Err(Error::bad_input(format!(
                "you have {MAX_FRIENDS} friends, the most one may have: remove one first"
            )));
        }
        if friend_count(db, other).await? >= MAX_FRIENDS {
            return Err(Error::bad_input(format!(
                "userId: this user has {MAX_FRIENDS} friends, the most one may have"
            )));
        }
    }
    let (a, b) = (me, other);
    friendships::Entity::insert_many([
        friendships::ActiveModel { user_id: Set(a), friend_id: Set(b), created_at: Set(now) },
        friendships::ActiveModel { user_id: Set(b), friend_id: Set(a), created_at: Set(now) },
    ])
    .on_conflict(
        OnConflict::columns([friendships::Column::UserId, friendships::Column::FriendId]).do_nothing().to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    clear_requests(db, a, b).await
}

async fn clear_requests(db: &impl ConnectionTrait, a: UserId, b: UserId) -> Result<()> {
    friend_requests::Entity::delete_many()
        .filter(
            Condition::any()
                .add(friend_requests::Column::FromUserId.eq(a).and(friend_requests::Column::ToUserId.eq(b)))
                .add(friend_requests::Column::FromUserId.eq(b).and(friend_requests::Column::ToUserId.eq(a))),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// `me` asks `other` to be friends. If `other` had already asked `me`, they become friends at once.
pub async fn request_friend(
    db: &impl TransactionTrait,
    me: UserId,
    other: UserId,
    now: DateTime<Utc>,
) -> Result<FriendState> {
    if me == other {
        return Err(Error::bad_input("userId: you cannot send a friend request to yourself"));
    }
    let txn = db.begin().await?;
    let state = match friend_state(&txn, me, other).await? {
        FriendState::Friends => FriendState::Friends,
        FriendState::RequestReceived => {
            befriend(&txn, me, other, now).await?;
            FriendState::Friends
        }
        FriendState::RequestSent => FriendState::RequestSent,
        FriendState::None => {
            let waiting =
                friend_requests::Entity::find().filter(friend_requests::Column::FromUserId.eq(me)).count(&txn).await?;
            if waiting >= MAX_PENDING_REQUESTS {
                return Err(Error::bad_input(format!(
                    "you have {MAX_PENDING_REQUESTS} friend requests waiting for an answer, the most one may have: \
                     withdraw some first"
                )));
            }
            friend_requests::Entity::insert(friend_requests::ActiveModel {
                from_user_id: Set(me),
                to_user_id: Set(other),
                created_at: Set(now),
            })
            .on_conflict(
                OnConflict::columns([friend_requests::Column::FromUserId, friend_requests::Column::ToUserId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
            FriendState::RequestSent
        }
    };
    txn.commit().await?;
    Ok(state)
}

/// `me` accepts the request `other` sent; `NOT_FOUND` when there is none (already friends is fine).
pub async fn accept_friend(db: &impl TransactionTrait, me: UserId, other: UserId, now: DateTime<Utc>) -> Result<()> {
    let txn = db.begin().await?;
    match friend_state(&txn, me, other).await? {
        FriendState::Friends => {}
        FriendState::RequestReceived => befriend(&txn, me, other, now).await?,
        FriendState::RequestSent | FriendState::None => {
            return Err(Error::NotFound("userId: there is no friend request from this user to accept".into()));
        }
    }
    txn.commit().await?;
    Ok(())
}

/// Ends a friendship, or declines or withdraws a request, between `me` and `other`. Idempotent.
/// The other becomes a stranger at once (V8); tags and audiences keep their names, which only count
/// for friends.
pub async fn remove_friend(db: &impl TransactionTrait, me: UserId, other: UserId) -> Result<()> {
    let txn = db.begin().await?;
    friendships::Entity::delete_many()
        .filter(
            Condition::any()
                .add(friendships::Column::UserId.eq(me).and(friendships::Column::FriendId.eq(other)))
                .add(friendships::Column::UserId.eq(other).and(friendships::Column::FriendId.eq(me))),
        )
        .exec(&txn)
        .await?;
    clear_requests(&txn, me, other).await?;
    txn.commit().await?;
    Ok(())
}

/// Where a page of a list ordered by name (a handle, a tag's name) starts, and how long it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamePage {
    /// At most this many.
    pub first: u64,
    /// Only names after this one.
    pub after: Option<String>,
}

/// The lists of users a user keeps: each is the owner's own, read only by the owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Related {
    /// The user's friends.
    Friends,
    /// Users who asked the user to be friends.
    RequestsIn,
    /// Users the user asked to be friends.
    RequestsOut,
    /// Users the user hides their moments from.
    HiddenFrom,
}

/// A page of one of `user`'s lists of users, by handle: one statement, however long the list.
pub async fn related_users(
    db: &impl ConnectionTrait,
    user: UserId,
    related: Related,
    page: &NamePage,
) -> Result<Vec<UserRecord>> {
    let (table, mine, theirs): (DynIden, DynIden, DynIden) = match related {
        Related::Friends => (
            friendships::Entity.into_iden(),
            friendships::Column::UserId.into_iden(),
            friendships::Column::FriendId.into_iden(),
        ),
        Related::RequestsIn => (
            friend_requests::Entity.into_iden(),
            friend_requests::Column::ToUserId.into_iden(),
            friend_requests::Column::FromUserId.into_iden(),
        ),
        Related::RequestsOut => (
            friend_requests::Entity.into_iden(),
            friend_requests::Column::FromUserId.into_iden(),
            friend_requests::Column::ToUserId.into_iden(),
        ),
        Related::HiddenFrom => (
            hidden_from::Entity.into_iden(),
            hidden_from::Column::OwnerId.into_iden(),
            hidden_from::Column::HiddenUserId.into_iden(),
        ),
    };
    let ids = Query::select().column(theirs).from(table).and_where(Expr::col(mine).eq(user)).to_owned();
    let mut find = user_rows::Entity::find()
        .filter(user_rows::Column::Id.in_subquery(ids))
        .order_by_asc(user_rows::Column::Handle)
        .limit(page.first);
    if let Some(after) = &page.after {
        find = find.filter(user_rows::Column::Handle.gt(after.as_str()));
    }
    Ok(find.all(db).await?.into_iter().map(Into::into).collect())
}

/// Checks that every one of `members` is a friend of `owner`; the message names the first who is not.
pub async fn require_friends(db: &impl ConnectionTrait, owner: UserId, members: &[UserId], field: &str) -> Result<()> {
    let friends = friends_among(db, owner, members).await?;
    if let Some(stranger) = members.iter().find(|m| !friends.contains(m)) {
        let who = users::by_ids(db, &[*stranger]).await?;
        let name =
            who.get(stranger).map_or_else(|| "a user who does not exist".to_owned(), |u| format!("@{}", u.handle));
        return Err(not_a_friend(field, &name).into());
    }
    Ok(())
}

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

/// `owner` hides all their moments from `user` (V3), or shows them again.
pub async fn set_hidden(db: &impl ConnectionTrait, owner: UserId, user: UserId, hidden: bool) -> Result<()> {
    if owner == user {
        return Err(Error::bad_input("userId: you cannot hide your moments from yourself"));
    }
    if hidden {
        hidden_from::Entity::insert(hidden_from::ActiveModel { owner_id: Set(owner), hidden_user_id: Set(user) })
            .on_conflict(
                OnConflict::columns([hidden_from::Column::OwnerId, hidden_from::Column::HiddenUserId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    } else {
        hidden_from::Entity::delete_by_id((owner, user)).exec(db).await?;
    }
    Ok(())
}
