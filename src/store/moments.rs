//! Moments: posting, deleting, and every list of them. Lists take their visibility condition from
//! [`super::visibility`] and apply it inside the one query that pages them, which also brings each
//! moment's author, pin and media, so a page costs the same few statements for 1 or 100 moments.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, ConnectionTrait, DbBackend, EntityTrait as _, FromQueryResult, QueryFilter as _,
    TransactionSession as _, TransactionTrait,
    sea_query::{
        Alias, Condition, Expr, ExprTrait as _, IntoColumnRef, JoinType, Order, Query, SelectStatement,
        SubQueryStatement,
    },
};

use super::{
    dedup,
    social::require_friends,
    visibility::{self, Access},
};
use crate::{
    domain::{
        self, AudienceMode, MomentKind, UserId, VisibleWindow,
        input::{MomentContent, check_audience_shape},
        model::{MomentId, TagId},
        visibility::{MomentFacts, Relation},
    },
    entity::{
        friendships, hidden_from, moment_audience_tags, moment_audience_users, moment_media, moments, moments_settings,
        pins, tags, users,
    },
    error::{Error, Result},
    store::users::{UserRecord, parse_window},
};

/// A picture or video of a moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaRecord {
    /// Where it is.
    pub url: String,
    /// Width in pixels.
    pub width: Option<i32>,
    /// Height in pixels.
    pub height: Option<i32>,
}

/// A moment with its pin state and media, as lists return it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MomentRecord {
    /// Database id.
    pub id: MomentId,
    /// The author's id.
    pub author_id: UserId,
    /// Its kind.
    pub kind: MomentKind,
    /// Its text.
    pub text: Option<String>,
    /// The shared article's URL and title.
    pub article: Option<(String, String)>,
    /// Its audience mode.
    pub audience: AudienceMode,
    /// When it was posted.
    pub posted_at: DateTime<Utc>,
    /// When it was pinned, if it is.
    pub pinned_at: Option<DateTime<Utc>>,
    /// Pictures in order, or the one video (empty when the list was asked without media).
    pub media: Vec<MediaRecord>,
    /// The author, when the query joined it (lists do).
    pub author: Option<UserRecord>,
    /// Whether the author is a friend of the viewer the list was made for, when joined.
    pub author_is_friend: Option<bool>,
}

impl MomentRecord {
    /// About how many bytes the record holds, for the request's content budget: its text, article,
    /// media URLs and author, and a fixed share for the rest.
    pub fn content_bytes(&self) -> usize {
        2 * super::users::RECORD_OVERHEAD_BYTES
            + self.text.as_ref().map_or(0, String::len)
            + self.article.as_ref().map_or(0, |(url, title)| url.len() + title.len())
            + self.media.iter().map(|m| 32 + m.url.len()).sum::<usize>()
            + self.author.as_ref().map_or(0, UserRecord::content_bytes)
    }
}

#[derive(Debug, FromQueryResult)]
struct MomentRow {
    id: i64,
    author_id: i64,
    kind: String,
    text: Option<String>,
    article_url: Option<String>,
    article_title: Option<String>,
    audience_mode: String,
    posted_at: DateTime<Utc>,
    pinned_at: Option<DateTime<Utc>>,
    author_handle: String,
    author_display_name: String,
    author_is_friend: bool,
    /// `[[url, width, height], …]` in order, when the list asked for media.
    media_json: Option<String>,
}

impl MomentRow {
    fn into_record(self) -> Result<MomentRecord> {
        let kind = MomentKind::parse(&self.kind)
            .ok_or_else(|| anyhow::anyhow!("unknown moment kind {:?} in the database", self.kind))?;
        let audience = AudienceMode::parse(&self.audience_mode)
            .ok_or_else(|| anyhow::anyhow!("unknown audience {:?} in the database", self.audience_mode))?;
        let media = match self.media_json.as_deref() {
            None => Vec::new(),
            Some(json) => serde_json::from_str::<Vec<(String, Option<i32>, Option<i32>)>>(json)
                .map_err(|e| anyhow::anyhow!("media of moment {} are not the expected JSON: {e}", self.id))?
                .into_iter()
                .map(|(url, width, height)| MediaRecord { url, width, height })
                .collect(),
        };
        Ok(MomentRecord {
            id: self.id,
            author_id: self.author_id,
            kind,
            text: self.text,
            article: self.article_url.zip(self.article_title),
            audience,
            posted_at: self.posted_at,
            pinned_at: self.pinned_at,
            media,
            author: Some(UserRecord {
                id: self.author_id,
                handle: self.author_handle,
                display_name: self.author_display_name,
            }),
            author_is_friend: Some(self.author_is_friend),
        })
    }
}

/// Which moments a list holds besides its visibility condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pins {
    /// Pinned or not.
    Any,
    /// Only pinned moments.
    Only,
    /// Only moments that are not pinned.
    Exclude,
}

/// A keyset position: the list continues with moments strictly older than this (postedAt, id).
pub type Position = (DateTime<Utc>, MomentId);

/// One list query: visibility condition, pin filter, where to start and how many.
#[derive(Clone, Debug)]
pub struct ListQuery {
    /// Who the list is for (to tell whether each author is their friend).
    pub viewer: UserId,
    /// The one author the list is of, when it is one author's (lets the pinned block start from
    /// that author's pins).
    pub author: Option<UserId>,
    /// The visibility condition (and anything else that narrows the list).
    pub filter: Condition,
    /// Pin filter.
    pub pins: Pins,
    /// Start after this position.
    pub after: Option<Position>,
    /// At most this many.
    pub limit: Option<u64>,
    /// Whether to read the media (as one JSON array per moment).
    pub with_media: bool,
    /// Choose the page's ids first, then read what they show. For lists that span authors, whose
    /// candidates the database must sort (PostgreSQL would compute every column of every candidate);
    /// a list that walks one author's index in order needs no second step.
    pub ids_first: bool,
}

/// The page's ids, newest first: the rules, the pin filter, the cursor and the limit, and nothing
/// else — what a listed moment shows is read for the page's rows only, not for every candidate the
/// database sorts (PostgreSQL computes a select list before sorting).
fn page_ids(q: &ListQuery) -> SelectStatement {
    let mut select = Query::select();
    select.column((moments::Entity, moments::Column::Id)).from(moments::Entity);
    narrow_to_page(q, select)
}

/// Adds the page's conditions, order and limit to a select over `moments`.
fn narrow_to_page(q: &ListQuery, mut select: SelectStatement) -> SelectStatement {
    // The pinned block is read in the order of the pins' own index (author, posted_at, moment):
    // the same order, since a pin keeps its moment's posting time, and a range that stops at the
    // page however many pins there are.
    let (posted_at, id) = match q.pins {
        Pins::Only => {
            (Expr::col((pins::Entity, pins::Column::PostedAt)), Expr::col((pins::Entity, pins::Column::MomentId)))
        }
        Pins::Any | Pins::Exclude => {
            (Expr::col((moments::Entity, moments::Column::PostedAt)), Expr::col((moments::Entity, moments::Column::Id)))
        }
    };
    select
        .cond_where(q.filter.clone())
        .order_by_expr(posted_at.clone(), Order::Desc)
        .order_by_expr(id.clone(), Order::Desc);
    let pin_of_moment =
        || Expr::col((pins::Entity, pins::Column::MomentId)).equals((moments::Entity, moments::Column::Id));
    match q.pins {
        Pins::Any => {}
        Pins::Only => {
            select.join(
                JoinType::InnerJoin,
                pins::Entity,
                Condition::all().add(pin_of_moment()).add(
                    Expr::col((pins::Entity, pins::Column::AuthorId))
                        .equals((moments::Entity, moments::Column::AuthorId)),
                ),
            );
            if let Some(author) = q.author {
                select.and_where(Expr::col((pins::Entity, pins::Column::AuthorId)).eq(author));
            }
        }
        Pins::Exclude => {
            // A scalar subquery, not NOT EXISTS: PostgreSQL would make that an anti-join that hashes
            // every pin, where a page needs a primary-key lookup per candidate.
            let pin = Query::select().expr(Expr::val(1)).from(pins::Entity).and_where(pin_of_moment()).to_owned();
            select.and_where(Expr::from(SubQueryStatement::from(pin)).is_null());
        }
    }
    if let Some((after_posted_at, after_id)) = q.after {
        select
            .and_where(Expr::tuple([posted_at, id]).lt(Expr::tuple([Expr::val(after_posted_at), Expr::val(after_id)])));
    }
    if let Some(limit) = q.limit {
        select.limit(limit);
    }
    select
}

/// What a listed moment shows, for `viewer`: its columns, its author's handle and name, whether
/// the author is the viewer's friend, and when it was pinned (a primary-key lookup each). The
/// caller adds the tables.
fn moment_columns(viewer: UserId) -> SelectStatement {
    let pinned_at = Query::select()
        .column((pins::Entity, pins::Column::PinnedAt))
        .from(pins::Entity)
        .and_where(Expr::col((pins::Entity, pins::Column::MomentId)).equals((moments::Entity, moments::Column::Id)))
        .to_owned();
    let author_is_friend = friend_of((moments::Entity, moments::Column::AuthorId), viewer);
    Query::select()
        .columns([
            (moments::Entity, moments::Column::Id),
            (moments::Entity, moments::Column::AuthorId),
            (moments::Entity, moments::Column::Kind),
            (moments::Entity, moments::Column::Text),
            (moments::Entity, moments::Column::ArticleUrl),
            (moments::Entity, moments::Column::ArticleTitle),
            (moments::Entity, moments::Column::AudienceMode),
            (moments::Entity, moments::Column::PostedAt),
        ])
        .expr_as(Expr::col((users::Entity, users::Column::Handle)), Alias::new("author_handle"))
        .expr_as(Expr::col((users::Entity, users::Column::DisplayName)), Alias::new("author_display_name"))
        .expr_as(Expr::exists(author_is_friend), Alias::new("author_is_friend"))
        .expr_as(Expr::from(SubQueryStatement::from(pinned_at)), Alias::new("pinned_at"))
        .to_owned()
}

/// The moments of the page with what they show.
fn moments_page(q: &ListQuery) -> SelectStatement {
    let mut select = moment_columns(q.viewer);
    select.from(moments::Entity).inner_join(
        users::Entity,
        Expr::col((users::Entity, users::Column::Id)).equals((moments::Entity, moments::Column::AuthorId)),
    );
    if !q.ids_first {
        return narrow_to_page(q, select);
    }
    select
        .and_where(Expr::col((moments::Entity, moments::Column::Id)).in_subquery(page_ids(q)))
        .order_by((moments::Entity, moments::Column::PostedAt), Order::Desc)
        .order_by((moments::Entity, moments::Column::Id), Order::Desc)
        .to_owned()
}

/// Runs one list query: a single statement, media included when asked for.
pub async fn list(db: &impl ConnectionTrait, q: &ListQuery) -> Result<Vec<MomentRecord>> {
    let rows = db.query_all(&list_statement(q, db.get_database_backend())).await?;
    rows.iter().map(|r| MomentRow::from_query_result(r, "")?.into_record()).collect()
}

/// The one statement of a list query (the query-plan tests read it too): the page's ids chosen by
/// the rules, then those moments with their pins and authors, and each moment's media gathered into
/// one JSON column, so a page is one row per moment.
pub fn list_statement(q: &ListQuery, backend: DbBackend) -> SelectStatement {
    let mut page = moments_page(q);
    page.expr_as(Expr::cust(media_json(q.with_media, backend)), Alias::new("media_json"));
    page
}

/// Each moment's media as one JSON array, in order (or NULL when not asked for).
fn media_json(with_media: bool, backend: DbBackend) -> &'static str {
    if !with_media {
        "NULL"
    } else if backend == DbBackend::Postgres {
        r#"(SELECT json_agg(json_build_array("url", "width", "height") ORDER BY "position")::text FROM "moment_media" WHERE "moment_media"."moment_id" = "moments"."id")"#
    } else {
        r#"(SELECT json_group_array(json_array("url", "width", "height") ORDER BY "position") FROM "moment_media" WHERE "moment_media"."moment_id" = "moments"."id")"#
    }
}

/// For an `EXISTS`: `viewer` is a friend of the user in column `user` of the outer query.
/// (Friendships are stored both ways, so this is one primary-key lookup.)
fn friend_of(user: impl IntoColumnRef, viewer: UserId) -> SelectStatement {
    Query::select()
        .expr(Expr::val(1))
        .from(friendships::Entity)
        .and_where(Expr::col((friendships::Entity, friendships::Column::UserId)).equals(user))
        .and_where(Expr::col((friendships::Entity, friendships::Column::FriendId)).eq(viewer))
        .to_owned()
}

/// For an `EXISTS`: the user in column `owner` of the outer query hides their moments from
/// `viewer` (V3).
fn hides_from(owner: impl IntoColumnRef, viewer: UserId) -> SelectStatement {
    Query::select()
        .expr(Expr::val(1))
        .from(hidden_from::Entity)
        .and_where(Expr::col((hidden_from::Entity, hidden_from::Column::OwnerId)).equals(owner))
        .and_where(Expr::col((hidden_from::Entity, hidden_from::Column::HiddenUserId)).eq(viewer))
        .to_owned()
}

/// The facts the rules need about `viewer` and each author, selected from `moments_settings`.
fn access_select(viewer: UserId) -> SelectStatement {
    let settings_user = (moments_settings::Entity, moments_settings::Column::UserId);
    let friend = friend_of(settings_user, viewer);
    let hidden = hides_from(settings_user, viewer);
    Query::select()
        .expr_as(Expr::col(settings_user), Alias::new("author_id"))
        .column((moments_settings::Entity, moments_settings::Column::VisibleWindow))
        .column((moments_settings::Entity, moments_settings::Column::StrangersCanView))
        .expr_as(Expr::exists(friend), Alias::new("is_friend"))
        .expr_as(Expr::exists(hidden), Alias::new("is_hidden"))
        .from(moments_settings::Entity)
        .to_owned()
}

#[derive(Debug, FromQueryResult)]
struct AccessRow {
    author_id: i64,
    visible_window: String,
    strangers_can_view: bool,
    is_friend: bool,
    is_hidden: bool,
}

impl AccessRow {
    fn into_access(self, viewer: UserId) -> Result<Access> {
        let window: VisibleWindow = parse_window(&self.visible_window)?;
        Ok(Access {
            viewer,
            author: self.author_id,
            relation: Relation::of(viewer == self.author_id, self.is_hidden, self.is_friend),
            window,
            strangers_can_view: self.strangers_can_view,
        })
    }
}

/// What `viewer` may see of `author`; `None` when there is no such user.
pub async fn access(db: &impl ConnectionTrait, viewer: UserId, author: UserId) -> Result<Option<Access>> {
    let mut select = access_select(viewer);
    select.and_where(Expr::col((moments_settings::Entity, moments_settings::Column::UserId)).eq(author));
    match db.query_one(&select).await? {
        Some(row) => Ok(Some(AccessRow::from_query_result(&row, "")?.into_access(viewer)?)),
        None => Ok(None),
    }
}

/// What `viewer` may see of each of their friends, in one statement (the feed's authors).
pub async fn friends_access(db: &impl ConnectionTrait, viewer: UserId) -> Result<Vec<Access>> {
    let mut select = access_select(viewer);
    select
        .inner_join(
            friendships::Entity,
            Expr::col((friendships::Entity, friendships::Column::FriendId))
                .equals((moments_settings::Entity, moments_settings::Column::UserId)),
        )
        .and_where(Expr::col((friendships::Entity, friendships::Column::UserId)).eq(viewer));
    db.query_all(&select).await?.iter().map(|row| AccessRow::from_query_result(row, "")?.into_access(viewer)).collect()
}

/// A user found by handle together with what `viewer` may see of them, in one statement.
pub async fn profile_by_handle(
    db: &impl ConnectionTrait,
    viewer: UserId,
    handle: &str,
) -> Result<Option<(UserRecord, Access)>> {
    let mut select = access_select(viewer);
    select
        .column((users::Entity, users::Column::Handle))
        .column((users::Entity, users::Column::DisplayName))
        .inner_join(
            users::Entity,
            Expr::col((users::Entity, users::Column::Id))
                .equals((moments_settings::Entity, moments_settings::Column::UserId)),
        )
        .and_where(Expr::col((users::Entity, users::Column::Handle)).eq(handle));
    let Some(row) = db.query_one(&select).await? else {
        return Ok(None);
    };
    let access = AccessRow::from_query_result(&row, "")?.into_access(viewer)?;
    let user = UserRecord {
        id: access.author,
        handle: row.try_get("", "handle")?,
        display_name: row.try_get("", "display_name")?,
    };
    Ok(Some((user, access)))
}

/// The one statement of `moment(id)`: the moment with what a list shows of it, and every fact the
/// rules decide on — the author's settings, whether the author hides from the viewer, whether the
/// viewer is listed in its audience, and whether ten newer public moments of the author exist (a
/// stranger's cap). It starts from a one-row table and joins the moment, so a missing moment
/// gives a row of nulls after the same lookups as an existing one.
pub fn visible_moment_statement(viewer: UserId, id: MomentId, with_media: bool, backend: DbBackend) -> SelectStatement {
    let author = (moments::Entity, moments::Column::AuthorId);
    let newer = Alias::new("newer");
    let tenth_newer_public = Query::select()
        .column((newer.clone(), moments::Column::Id))
        .from_as(moments::Entity, newer.clone())
        .and_where(Expr::col((newer.clone(), moments::Column::AuthorId)).equals(author))
        .and_where(Expr::col((newer.clone(), moments::Column::AudienceMode)).eq(AudienceMode::Public.as_str()))
        .and_where(
            Expr::tuple([
                Expr::col((newer.clone(), moments::Column::PostedAt)),
                Expr::col((newer.clone(), moments::Column::Id)),
            ])
            .gt(Expr::tuple([
                Expr::col((moments::Entity, moments::Column::PostedAt)),
                Expr::col((moments::Entity, moments::Column::Id)),
            ])),
        )
        .order_by((newer.clone(), moments::Column::PostedAt), Order::Asc)
        .order_by((newer, moments::Column::Id), Order::Asc)
        .limit(1)
        .offset(visibility::STRANGER_CAP_OFFSET)
        .to_owned();
    let hidden = hides_from(author, viewer);
    let one_row = Query::select().expr_as(Expr::val(1), Alias::new("one")).to_owned();
    let mut select = moment_columns(viewer);
    select
        .column((moments_settings::Entity, moments_settings::Column::VisibleWindow))
        .column((moments_settings::Entity, moments_settings::Column::StrangersCanView))
        .expr_as(Expr::exists(hidden), Alias::new("is_hidden"))
        .expr_as(Expr::case(visibility::listed(viewer), true).finally(false), Alias::new("viewer_listed"))
        .expr_as(Expr::from(SubQueryStatement::from(tenth_newer_public)), Alias::new("tenth_newer_public"))
        .from_subquery(one_row, Alias::new("w"))
        .join(JoinType::LeftJoin, moments::Entity, Expr::col((moments::Entity, moments::Column::Id)).eq(id))
        .join(
            JoinType::LeftJoin,
            users::Entity,
            Expr::col((users::Entity, users::Column::Id)).equals((moments::Entity, moments::Column::AuthorId)),
        )
        .join(
            JoinType::LeftJoin,
            moments_settings::Entity,
            Expr::col((moments_settings::Entity, moments_settings::Column::UserId)).equals(author),
        );
    select.expr_as(Expr::cust(media_json(with_media, backend)), Alias::new("media_json"));
    select
}

/// Moment `id` if `viewer` may see it (in its author's timeline or pinned set as the viewer sees
/// them), with media. One statement whether the moment exists, is invisible or is missing; the
/// rules are applied to its facts by [`domain::visibility::moment_visible`].
pub async fn visible_moment(
    db: &impl ConnectionTrait,
    viewer: UserId,
    id: MomentId,
    now: DateTime<Utc>,
    with_media: bool,
) -> Result<Option<MomentRecord>> {
    let statement = visible_moment_statement(viewer, id, with_media, db.get_database_backend());
    let Some(row) = db.query_one(&statement).await? else {
        return Ok(None);
    };
    if row.try_get::<Option<i64>>("", "id")?.is_none() {
        return Ok(None);
    }
    let window: String = row.try_get("", "visible_window")?;
    let tenth: Option<i64> = row.try_get("", "tenth_newer_public")?;
    let record = MomentRow::from_query_result(&row, "")?.into_record()?;
    let facts = MomentFacts {
        relation: Relation::of(
            viewer == record.author_id,
            row.try_get("", "is_hidden")?,
            record.author_is_friend.unwrap_or(false),
        ),
        audience: record.audience,
        listed: row.try_get("", "viewer_listed")?,
        strangers_can_view: row.try_get("", "strangers_can_view")?,
        window: parse_window(&window)?,
        posted_at: record.posted_at,
        pinned: record.pinned_at.is_some(),
        newer_public_fill_the_cap: tenth.is_some(),
    };
    Ok(domain::visibility::moment_visible(&facts, now).then_some(record))
}

/// A moment to post, checked: content and audience.
#[derive(Clone, Debug)]
pub struct NewMoment {
    /// What it holds.
    pub content: MomentContent,
    /// Its audience mode.
    pub audience: AudienceMode,
    /// Friends named in the audience.
    pub audience_users: Vec<UserId>,
    /// The author's tags named in the audience.
    pub audience_tags: Vec<TagId>,
}

/// Checks an audience against the author's friends and tags. Lists go with `INCLUDE` and `EXCLUDE`
/// only, and those need at least one name.
pub async fn check_audience(
    db: &impl ConnectionTrait,
    author: UserId,
    mode: AudienceMode,
    users: &[UserId],
    tags_named: &[TagId],
) -> Result<()> {
    check_audience_shape(mode, users.len(), tags_named.len())?;
    require_friends(db, author, users, "audience.userIds").await?;
    if !tags_named.is_empty() {
        let owned: Vec<i64> = tags::Entity::find()
            .filter(tags::Column::Id.is_in(tags_named.iter().copied()))
            .filter(tags::Column::OwnerId.eq(author))
            .all(db)
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
        if tags_named.iter().any(|t| !owned.contains(t)) {
            return Err(Error::bad_input("audience.tagIds: you can only name your own tags"));
        }
    }
    Ok(())
}

/// Inserts a checked moment and everything that belongs to it; the caller holds the transaction.
pub async fn insert(
    db: &impl ConnectionTrait,
    author: UserId,
    moment: &NewMoment,
    posted_at: DateTime<Utc>,
) -> Result<MomentRecord> {
    let content = &moment.content;
    let id = moments::Entity::insert(moments::ActiveModel {
        author_id: Set(author),
        kind: Set(content.kind.as_str().to_owned()),
        text: Set(content.text.clone()),
        article_url: Set(content.article.as_ref().map(|a| a.url.as_str().to_owned())),
        article_title: Set(content.article.as_ref().map(|a| a.title.clone())),
        audience_mode: Set(moment.audience.as_str().to_owned()),
        posted_at: Set(posted_at),
        ..Default::default()
    })
    .exec(db)
    .await?
    .last_insert_id;
    if !content.media.is_empty() {
        moment_media::Entity::insert_many(content.media.iter().enumerate().map(|(i, m)| moment_media::ActiveModel {
            moment_id: Set(id),
            position: Set(i as i16),
            url: Set(m.url.as_str().to_owned()),
            width: Set(m.width),
            height: Set(m.height),
        }))
        .exec_without_returning(db)
        .await?;
    }
    let users = dedup(moment.audience_users.iter().copied());
    if !users.is_empty() {
        moment_audience_users::Entity::insert_many(
            users.iter().map(|&u| moment_audience_users::ActiveModel { moment_id: Set(id), user_id: Set(u) }),
        )
        .exec_without_returning(db)
        .await?;
    }
    let tags_named = dedup(moment.audience_tags.iter().copied());
    if !tags_named.is_empty() {
        moment_audience_tags::Entity::insert_many(
            tags_named.iter().map(|&t| moment_audience_tags::ActiveModel { moment_id: Set(id), tag_id: Set(t) }),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(MomentRecord {
        id,
        author_id: author,
        kind: content.kind,
        text: content.text.clone(),
        article: content.article.as_ref().map(|a| (a.url.as_str().to_owned(), a.title.clone())),
        audience: moment.audience,
        posted_at,
        pinned_at: None,
        media: content
            .media
            .iter()
            .map(|m| MediaRecord { url: m.url.as_str().to_owned(), width: m.width, height: m.height })
            .collect(),
        author: None,
        author_is_friend: None,
    })
}

/// Posts a moment now: checks the audience and inserts it, in one transaction.
pub async fn post(
    db: &impl TransactionTrait,
    author: UserId,
    moment: &NewMoment,
    now: DateTime<Utc>,
) -> Result<MomentRecord> {
    let txn = db.begin().await?;
    check_audience(&txn, author, moment.audience, &moment.audience_users, &moment.audience_tags).await?;
    let record = insert(&txn, author, moment, now).await?;
    txn.commit().await?;
    Ok(record)
}

/// Finds moment `id` for a change by `viewer`: `NOT_FOUND` when the viewer cannot see it (or it does
/// not exist), `FORBIDDEN` when they can but did not write it (P1).
pub async fn own_moment_for_change(
    db: &impl ConnectionTrait,
    viewer: UserId,
    id: MomentId,
    now: DateTime<Utc>,
) -> Result<MomentRecord> {
    match visible_moment(db, viewer, id, now, true).await? {
        None => Err(Error::NotFound("momentId: no moment with this id".into())),
        Some(m) if m.author_id != viewer => Err(Error::Forbidden("only the author can do this to a moment".into())),
        Some(m) => Ok(m),
    }
}

/// Opens the transaction of a change to the viewer's own moment: locks the viewer's row, so that
/// changes to one user's moments and pins happen one at a time (the pin limit relies on it), then
/// finds the moment as [`own_moment_for_change`] does.
pub async fn begin_change<D: TransactionTrait>(
    db: &D,
    viewer: UserId,
    id: MomentId,
    now: DateTime<Utc>,
) -> Result<(D::Transaction, MomentRecord)> {
    let txn = db.begin().await?;
    super::users::lock(&txn, viewer).await?;
    let moment = own_moment_for_change(&txn, viewer, id, now).await?;
    Ok((txn, moment))
}

/// Deletes the viewer's moment with its media, audience lists and pin (V8, P10).
pub async fn delete(db: &impl TransactionTrait, viewer: UserId, id: MomentId, now: DateTime<Utc>) -> Result<()> {
    let (txn, _) = begin_change(db, viewer, id, now).await?;
    moments::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// The audience lists of several moments, in two queries: user ids and tag ids per moment.
pub async fn audience_lists(
    db: &impl ConnectionTrait,
    ids: &[MomentId],
) -> Result<HashMap<MomentId, (Vec<UserId>, Vec<TagId>)>> {
    let mut out: HashMap<MomentId, (Vec<UserId>, Vec<TagId>)> =
        ids.iter().map(|id| (*id, (Vec::new(), Vec::new()))).collect();
    if ids.is_empty() {
        return Ok(out);
    }
    for row in moment_audience_users::Entity::find()
        .filter(moment_audience_users::Column::MomentId.is_in(ids.iter().copied()))
        .all(db)
        .await?
    {
        out.entry(row.moment_id).or_default().0.push(row.user_id);
    }
    for row in moment_audience_tags::Entity::find()
        .filter(moment_audience_tags::Column::MomentId.is_in(ids.iter().copied()))
        .all(db)
        .await?
    {
        out.entry(row.moment_id).or_default().1.push(row.tag_id);
    }
    Ok(out)
}
