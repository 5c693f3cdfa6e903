//! Friend requests and friendships, the lists of a user's own people (friends, requests, those
//! they hide from), and hiding.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, TransactionSession as _, TransactionTrait,
    sea_query::{DynIden, Expr, ExprTrait as _, IntoIden as _, OnConflict, Query},
};

use super::users::{self, UserRecord};
use crate::{
    entity::{friend_requests, friendships, hidden_from, users as user_rows},
    error::{Error, Result},
};
use rules::{
    UserId,
    input::{MAX_FRIENDS, MAX_PENDING_REQUESTS, not_a_friend},
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
    /// Not friends, and no request either way.
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
