//! Every list of moments, and the one moment by id: the only way the server reads moments to show.
//! Each list takes its visibility condition from [`super::visibility`] and applies it inside the one
//! statement that pages it, which also brings each moment's author, pin and media, so a page costs
//! the same few statements for 1 or 100 moments, and pages, cursors and `hasNextPage` only ever
//! see rows the viewer may see.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ConnectionTrait, DbBackend, FromQueryResult,
    sea_query::{
        Alias, Asterisk, Condition, Expr, ExprTrait as _, Func, JoinType, Query, SelectStatement, SubQueryStatement,
        UnionType,
    },
};

use super::{
    moments::{MediaRecord, MomentRecord},
    sql::{friend_of, hides_from, hiding_from, is_pinned, moment_col, newest_first, pin_of_moment},
    users::UserRecord,
    visibility,
};
use crate::{
    domain::{
        self, AudienceMode, MomentKind, UserId,
        model::MomentId,
        visibility::{Access, MomentFacts, Relation},
    },
    entity::{friendships, moments, moments_settings, pins, users},
    error::Result,
};

/// A keyset position: a list continues with moments strictly older than this (postedAt, id).
pub type Position = (DateTime<Utc>, MomentId);

/// Which part of a list to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// How many moments.
    pub first: u64,
    /// Start after this position (a decoded cursor).
    pub after: Option<Position>,
    /// Whether to read each moment's media too.
    pub with_media: bool,
}

/// A page of a list: its moments, newest first, and whether more follow; and what reading it
/// took, for the request's budget.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListPage {
    /// At most `first` moments.
    pub moments: Vec<MomentRecord>,
    /// Whether the list goes on after the last of them.
    pub has_next_page: bool,
    /// The statements run (none when the viewer can see nothing of the list).
    pub statements: usize,
    /// What the rows read hold ([`MomentRecord::content_bytes`]), the one past the page included.
    pub bytes_read: usize,
}

impl ListPage {
    /// The page out of up to `first + 1` rows: the extra row only tells that more follow.
    fn of(mut moments: Vec<MomentRecord>, first: u64, statements: usize) -> Self {
        let bytes_read = moments.iter().map(MomentRecord::content_bytes).sum();
        let has_next_page = moments.len() as u64 > first;
        moments.truncate(first as usize);
        Self { moments, has_next_page, statements, bytes_read }
    }
}

/// `Profile.timeline`: the author's moments the viewer can see inside the window, newest first,
/// pinned ones in their place unless `exclude_pinned` (P9); for a stranger only the ten newest (V5).
pub async fn timeline(
    db: &impl ConnectionTrait,
    access: &Access,
    page: &Page,
    exclude_pinned: bool,
    now: DateTime<Utc>,
) -> Result<ListPage> {
    let statement = timeline_statement(access, page, exclude_pinned, now, db.get_database_backend());
    run(db, statement, page).await
}

/// `Profile.pinned`: the author's pinned moments the viewer can see, whatever their age (V7),
/// newest posted first (P7).
pub async fn pinned(db: &impl ConnectionTrait, access: &Access, page: &Page) -> Result<ListPage> {
    run(db, pinned_statement(access, page, db.get_database_backend()), page).await
}

/// How far back from where a feed page starts (now, or its cursor) the page's first statement
/// reads: a page of 20 from 50 friends who each post every other day spans about a day, so a
/// slice of three covers a page with room to spare, and only what was posted in it is read.
pub const FEED_SLICE: Duration = Duration::days(3);

/// `Query.feed`: the viewer's own moments and those of each friend the viewer can see inside that
/// friend's window, newest first; pins play no part (P8).
///
/// A page is read in two steps: first the moments posted in [`FEED_SLICE`] before where the page
/// starts, which for a lively feed fills the page; only when fewer than `first + 1` visible ones
/// are there, a second statement reads the rest of the page from before the slice. Each step is
/// one statement over the viewer's friends (see [`feed_statement`]). Whether the second runs
/// depends on how many moments the viewer may see, never on moments they may not.
pub async fn feed(db: &impl ConnectionTrait, viewer: UserId, page: &Page, now: DateTime<Utc>) -> Result<ListPage> {
    let backend = db.get_database_backend();
    let start = page.after.map_or(now, |(posted_at, _)| posted_at);
    // A cursor at the start of time has no slice before it: the page is read whole.
    let Some(slice_start) = start.checked_sub_signed(FEED_SLICE) else {
        return Ok(ListPage::of(read(db, &feed_statement(viewer, page, None, now, backend)).await?, page.first, 1));
    };
    let mut moments = read(db, &feed_statement(viewer, page, Some(slice_start), now, backend)).await?;
    if moments.len() as u64 > page.first {
        return Ok(ListPage::of(moments, page.first, 1));
    }
    // Strictly before the slice: (postedAt, id) < (slice start, the lowest id).
    let before_slice = Page {
        first: page.first - moments.len() as u64,
        after: Some((slice_start, MomentId::MIN)),
        with_media: page.with_media,
    };
    moments.extend(read(db, &feed_statement(viewer, &before_slice, None, now, backend)).await?);
    Ok(ListPage::of(moments, page.first, 2))
}

/// The statement of a timeline page; `None` when the viewer can see none of the author's moments.
pub fn timeline_statement(
    access: &Access,
    page: &Page,
    exclude_pinned: bool,
    now: DateTime<Utc>,
    backend: DbBackend,
) -> Option<SelectStatement> {
    let q = ListQuery {
        viewer: access.viewer,
        author: Some(access.author),
        filter: visibility::timeline_condition(access, now)?,
        pins: if exclude_pinned { Pins::Exclude } else { Pins::Any },
        page: *page,
    };
    Some(q.statement(backend))
}

/// The statement of a page of pinned moments; `None` when the viewer can see none of them.
pub fn pinned_statement(access: &Access, page: &Page, backend: DbBackend) -> Option<SelectStatement> {
    let q = ListQuery {
        viewer: access.viewer,
        author: Some(access.author),
        filter: visibility::pinned_condition(access)?,
        pins: Pins::Only,
        page: *page,
    };
    Some(q.statement(backend))
}

/// The statement of a feed page, from `since` on when given: for each friend who does not hide
/// from the viewer, the moments from the cursor on that the audience lets the viewer see inside
/// that friend's window, with the viewer's own; the newest `first + 1` of those, read in full.
///
/// - PostgreSQL reads at most the newest `first + 1` of each friend (a `LATERAL` index range
///   each, the friend's window start a primary-key lookup inside it), so the reads are bounded
///   by friends × page whatever the friends posted.
/// - SQLite joins each friend's settings and index range and sorts what it found: it has no
///   `LATERAL`, and a merge of one limited range per friend costs more to build than it saves
///   (docs/benchmarks.md, "The feed"). The slice bounds what it reads.
/// - On both, a range from a `since` no window starts after (a first page's slice) reads no
///   friend's setting.
pub fn feed_statement(
    viewer: UserId,
    page: &Page,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    backend: DbBackend,
) -> SelectStatement {
    let rows = page.first + 1;
    let friend = Alias::new("f");
    let friend_id = (friend.clone(), friendships::Column::FriendId);
    let posted_at = moment_col(moments::Column::PostedAt);
    // The cursor of a range of `moments`.
    let from_cursor = |select: &mut SelectStatement| {
        if let Some((after_posted_at, after_id)) = page.after {
            select.and_where(
                Expr::tuple([moment_col(moments::Column::PostedAt), moment_col(moments::Column::Id)])
                    .lt(Expr::tuple([Expr::val(after_posted_at), Expr::val(after_id)])),
            );
        }
    };
    let newest = |mut select: SelectStatement| {
        newest_first(&mut select, moments::Entity, moments::Column::PostedAt, moments::Column::Id);
        select.limit(rows);
        select
    };
    let mut friends = Query::select();
    friends
        .from_as(friendships::Entity, friend.clone())
        .and_where(Expr::col((friend.clone(), friendships::Column::UserId)).eq(viewer))
        .and_where(Expr::col(friend_id.clone()).not_in_subquery(hiding_from(viewer)));
    // A range that starts where the latest window does or later (a first page's slice) lies inside
    // every friend's window: then no friend's setting is read.
    let inside_windows = since.is_some_and(|since| since >= visibility::latest_window_start(now));
    // Where the window of the friend whose setting is in `moments_settings` starts.
    let window_start = || {
        visibility::window_start_of(Expr::col((moments_settings::Entity, moments_settings::Column::VisibleWindow)), now)
    };
    if backend == DbBackend::Postgres {
        let mut of_friend = Query::select();
        of_friend
            .column((moments::Entity, moments::Column::Id))
            .column((moments::Entity, moments::Column::PostedAt))
            .from(moments::Entity)
            .and_where(moment_col(moments::Column::AuthorId).equals(friend_id.clone()))
            .and_where_option(since.map(|since| posted_at.clone().gte(since)))
            .cond_where(visibility::friend_audience(viewer));
        if !inside_windows {
            // Where the friend's window starts, as a scalar subquery inside the lateral part: one
            // primary-key lookup per friend (as a join, PostgreSQL merged the friends with every
            // user's settings).
            let window_start = Expr::from(SubQueryStatement::from(
                Query::select()
                    .expr(window_start())
                    .from(moments_settings::Entity)
                    .and_where(
                        Expr::col((moments_settings::Entity, moments_settings::Column::UserId)).equals(friend_id),
                    )
                    .to_owned(),
            ));
            of_friend.and_where(posted_at.clone().gte(window_start));
        }
        from_cursor(&mut of_friend);
        let chosen = Alias::new("m");
        friends.column((chosen.clone(), moments::Column::Id)).column((chosen.clone(), moments::Column::PostedAt));
        friends.join_lateral(JoinType::InnerJoin, newest(of_friend), chosen, Expr::val(true));
    } else {
        // One bound for the range, the later of the window's start and the slice's, so that
        // SQLite starts each friend's index range there.
        let start = match since {
            Some(since) if inside_windows => Expr::val(since),
            Some(since) => Func::greatest([window_start(), Expr::val(since)]).into(),
            None => window_start(),
        };
        if !inside_windows {
            friends.inner_join(
                moments_settings::Entity,
                Expr::col((moments_settings::Entity, moments_settings::Column::UserId)).equals(friend_id.clone()),
            );
        }
        friends
            .column((moments::Entity, moments::Column::Id))
            .column((moments::Entity, moments::Column::PostedAt))
            .inner_join(
                moments::Entity,
                moment_col(moments::Column::AuthorId).equals(friend_id).and(posted_at.clone().gte(start)),
            )
            .cond_where(visibility::friend_audience(viewer));
        from_cursor(&mut friends);
    }
    let mut own = Query::select();
    own.column((moments::Entity, moments::Column::Id))
        .column((moments::Entity, moments::Column::PostedAt))
        .from(moments::Entity)
        .and_where(moment_col(moments::Column::AuthorId).eq(viewer))
        .and_where_option(since.map(|since| posted_at.gte(since)));
    from_cursor(&mut own);
    let own = Query::select().column(Asterisk).from_subquery(newest(own), Alias::new("own")).to_owned();
    friends.union(UnionType::All, own);
    let candidates = Alias::new("candidates");
    let mut ids = Query::select();
    ids.column((candidates.clone(), moments::Column::Id)).from_subquery(friends, candidates.clone());
    newest_first(&mut ids, candidates, moments::Column::PostedAt, moments::Column::Id);
    ids.limit(rows);
    moments_with_ids(viewer, ids, page.with_media, backend)
}

/// The moments whose ids `ids` selects, newest first, with what a list shows of each.
fn moments_with_ids(viewer: UserId, ids: SelectStatement, with_media: bool, backend: DbBackend) -> SelectStatement {
    let mut select = moment_columns(viewer);
    select
        .from(moments::Entity)
        .inner_join(
            users::Entity,
            Expr::col((users::Entity, users::Column::Id)).equals((moments::Entity, moments::Column::AuthorId)),
        )
        .and_where(moment_col(moments::Column::Id).in_subquery(ids));
    newest_first(&mut select, moments::Entity, moments::Column::PostedAt, moments::Column::Id);
    select.expr_as(Expr::cust(media_json("moments", with_media, backend)), Alias::new("media_json"));
    select
}

/// Runs a page's statement (none: the viewer can see nothing of the list).
async fn run(db: &impl ConnectionTrait, statement: Option<SelectStatement>, page: &Page) -> Result<ListPage> {
    let Some(statement) = statement else {
        return Ok(ListPage::default());
    };
    Ok(ListPage::of(read(db, &statement).await?, page.first, 1))
}

/// The moments a list statement selects.
async fn read(db: &impl ConnectionTrait, statement: &SelectStatement) -> Result<Vec<MomentRecord>> {
    let rows = db.query_all(statement).await?;
    rows.iter().map(|r| MomentRow::from_query_result(r, "")?.into_record()).collect()
}

#[derive(Debug, FromQueryResult)]
struct MomentRow {
    id: i64,
    author_id: i64,
    kind: MomentKind,
    text: Option<String>,
    article_url: Option<String>,
    article_title: Option<String>,
    audience_mode: AudienceMode,
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
            kind: self.kind,
            text: self.text,
            article: self.article_url.zip(self.article_title),
            audience: self.audience_mode,
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
enum Pins {
    /// Pinned or not.
    Any,
    /// Only pinned moments (the list is joined with `pins`).
    Only,
    /// Only moments that are not pinned.
    Exclude,
}

/// One list query: visibility condition, pin filter and page.
struct ListQuery {
    /// Who the list is for (to tell whether each author is their friend).
    viewer: UserId,
    /// The one author the list is of, when it is one author's (lets the pinned block start from
    /// that author's pins).
    author: Option<UserId>,
    /// The visibility condition.
    filter: Condition,
    /// Pin filter.
    pins: Pins,
    /// Where to start, how many, and whether with media.
    page: Page,
}

impl ListQuery {
    /// The one statement of the list: the page's ids chosen by the rules, then those moments with
    /// their pins and authors, and each moment's media gathered into one JSON column, so a page is
    /// one row per moment. It reads one row more than the page, which tells whether more follow.
    fn statement(&self, backend: DbBackend) -> SelectStatement {
        let mut select = moment_columns(self.viewer);
        select.from(moments::Entity).inner_join(
            users::Entity,
            Expr::col((users::Entity, users::Column::Id)).equals((moments::Entity, moments::Column::AuthorId)),
        );
        let mut select = self.narrow_to_page(select);
        select.expr_as(Expr::cust(media_json("moments", self.page.with_media, backend)), Alias::new("media_json"));
        select
    }

    /// Adds the page's conditions, order and limit to a select over `moments`.
    fn narrow_to_page(&self, mut select: SelectStatement) -> SelectStatement {
        select.cond_where(self.filter.clone());
        // The pinned block is read in the order of the pins' own index (author, posted_at, moment):
        // the same order, since a pin keeps its moment's posting time, and a range that stops at the
        // page however many pins there are.
        let (posted_at, id) = match self.pins {
            Pins::Only => {
                newest_first(&mut select, pins::Entity, pins::Column::PostedAt, pins::Column::MomentId);
                (Expr::col((pins::Entity, pins::Column::PostedAt)), Expr::col((pins::Entity, pins::Column::MomentId)))
            }
            Pins::Any | Pins::Exclude => {
                newest_first(&mut select, moments::Entity, moments::Column::PostedAt, moments::Column::Id);
                (moment_col(moments::Column::PostedAt), moment_col(moments::Column::Id))
            }
        };
        match self.pins {
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
                if let Some(author) = self.author {
                    select.and_where(Expr::col((pins::Entity, pins::Column::AuthorId)).eq(author));
                }
            }
            Pins::Exclude => {
                // A scalar subquery, not NOT EXISTS: PostgreSQL would make that an anti-join that
                // hashes every pin, where a page needs a primary-key lookup per candidate.
                select.and_where(Expr::from(SubQueryStatement::from(is_pinned())).is_null());
            }
        }
        if let Some((after_posted_at, after_id)) = self.page.after {
            select.and_where(
                Expr::tuple([posted_at, id]).lt(Expr::tuple([Expr::val(after_posted_at), Expr::val(after_id)])),
            );
        }
        select.limit(self.page.first + 1);
        select
    }
}

/// What a listed moment shows, for `viewer`: its columns, its author's handle and name, whether
/// the author is the viewer's friend, and when it was pinned (a primary-key lookup each). The
/// caller adds the tables.
fn moment_columns(viewer: UserId) -> SelectStatement {
    let pinned_at = Query::select()
        .column((pins::Entity, pins::Column::PinnedAt))
        .from(pins::Entity)
        .and_where(pin_of_moment())
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

/// The media of each row of `table` (`moments`, or an alias of it) as one JSON array, in order
/// (or NULL when not asked for).
fn media_json(table: &str, with_media: bool, backend: DbBackend) -> String {
    if !with_media {
        "NULL".to_owned()
    } else if backend == DbBackend::Postgres {
        format!(
            r#"(SELECT json_agg(json_build_array("url", "width", "height") ORDER BY "position")::text FROM "moment_media" WHERE "moment_media"."moment_id" = "{table}"."id")"#
        )
    } else {
        format!(
            r#"(SELECT json_group_array(json_array("url", "width", "height") ORDER BY "position") FROM "moment_media" WHERE "moment_media"."moment_id" = "{table}"."id")"#
        )
    }
}

/// The one statement of `moment(id)`. First every fact the rules decide on — the moment's author,
/// audience and time, its pin, the author's settings, whether the author hides from the viewer or
/// is their friend, whether the viewer is listed in its audience, and whether ten newer public
/// moments of the author exist (a stranger's cap) — read from a one-row table that the moment is
/// joined to, so a missing moment gives a row of nulls after the same lookups as an existing one.
/// Then the moment's content (text, article, media) is joined only where the rules, as
/// [`visibility::visible_from_facts`] states them, let the viewer see it: an invisible moment's
/// content is never read, and it costs what a missing one does.
pub fn visible_moment_statement(
    viewer: UserId,
    id: MomentId,
    now: DateTime<Utc>,
    with_media: bool,
    backend: DbBackend,
) -> SelectStatement {
    use visibility::fact;
    let author = (moments::Entity, moments::Column::AuthorId);
    let tenth_newer_public = visibility::tenth_newer_public(
        moments::Entity,
        moments::Column::AuthorId,
        moments::Column::PostedAt,
        moments::Column::Id,
    );
    let pinned_at = Query::select()
        .column((pins::Entity, pins::Column::PinnedAt))
        .from(pins::Entity)
        .and_where(pin_of_moment())
        .to_owned();
    let one_row = Query::select().expr_as(Expr::val(1), Alias::new("one")).to_owned();
    let facts = Query::select()
        .columns([
            (moments::Entity, moments::Column::Id),
            (moments::Entity, moments::Column::AuthorId),
            (moments::Entity, moments::Column::Kind),
            (moments::Entity, moments::Column::AudienceMode),
            (moments::Entity, moments::Column::PostedAt),
        ])
        .expr_as(Expr::col((users::Entity, users::Column::Handle)), Alias::new("author_handle"))
        .expr_as(Expr::col((users::Entity, users::Column::DisplayName)), Alias::new("author_display_name"))
        .expr_as(Expr::exists(friend_of(author, viewer)), Alias::new(fact::AUTHOR_IS_FRIEND))
        .expr_as(Expr::from(SubQueryStatement::from(pinned_at)), Alias::new(fact::PINNED_AT))
        .expr_as(
            Expr::col((moments_settings::Entity, moments_settings::Column::VisibleWindow)),
            Alias::new(fact::VISIBLE_WINDOW),
        )
        .expr_as(
            Expr::col((moments_settings::Entity, moments_settings::Column::StrangersCanView)),
            Alias::new(fact::STRANGERS_CAN_VIEW),
        )
        .expr_as(Expr::exists(hides_from(author, viewer)), Alias::new(fact::IS_HIDDEN))
        .expr_as(Expr::case(visibility::listed(viewer), true).finally(false), Alias::new(fact::VIEWER_LISTED))
        .expr_as(Expr::from(SubQueryStatement::from(tenth_newer_public)), Alias::new(fact::TENTH_NEWER_PUBLIC))
        .from_subquery(one_row, Alias::new("w"))
        .join(JoinType::LeftJoin, moments::Entity, moment_col(moments::Column::Id).eq(id))
        .join(
            JoinType::LeftJoin,
            users::Entity,
            Expr::col((users::Entity, users::Column::Id)).equals((moments::Entity, moments::Column::AuthorId)),
        )
        .join(
            JoinType::LeftJoin,
            moments_settings::Entity,
            Expr::col((moments_settings::Entity, moments_settings::Column::UserId)).equals(author),
        )
        .to_owned();
    let (f, content) = (Alias::new("f"), Alias::new("content"));
    Query::select()
        .column((f.clone(), Asterisk))
        .columns([
            (content.clone(), moments::Column::Text),
            (content.clone(), moments::Column::ArticleUrl),
            (content.clone(), moments::Column::ArticleTitle),
        ])
        .expr_as(Expr::cust(media_json("content", with_media, backend)), Alias::new("media_json"))
        .expr_as(Expr::col((content.clone(), moments::Column::Id)).is_not_null(), Alias::new("content_read"))
        .from_subquery(facts, f.clone())
        .join_as(
            JoinType::LeftJoin,
            moments::Entity,
            content.clone(),
            Condition::all()
                .add(Expr::col((content, moments::Column::Id)).equals((f.clone(), moments::Column::Id)))
                .add(visibility::visible_from_facts(&f, viewer, now)),
        )
        .to_owned()
}

/// Moment `id` if `viewer` may see it (in its author's timeline or pinned set as the viewer sees
/// them), with media when asked. One statement whether the moment exists, is invisible or is
/// missing; the rules are applied to its facts by [`domain::visibility::moment_visible`].
pub async fn visible_moment(
    db: &impl ConnectionTrait,
    viewer: UserId,
    id: MomentId,
    now: DateTime<Utc>,
    with_media: bool,
) -> Result<Option<MomentRecord>> {
    Ok(moment_with_facts(db, viewer, id, now, with_media)
        .await?
        .and_then(|(record, facts)| domain::visibility::moment_visible(&facts, now).then_some(record)))
}

/// Moment `id` with every fact the rules decide on for `viewer` at `now`, whether or not they let
/// the viewer see it: only for deciding, never to show as it is. Its content (text, article,
/// media) is read only when the viewer may see it, and left empty otherwise. One statement;
/// `None` when there is no such moment. The statement's decision and the rules' are compared: a
/// disagreement is an error, never an answer.
pub async fn moment_with_facts(
    db: &impl ConnectionTrait,
    viewer: UserId,
    id: MomentId,
    now: DateTime<Utc>,
    with_media: bool,
) -> Result<Option<(MomentRecord, MomentFacts)>> {
    let statement = visible_moment_statement(viewer, id, now, with_media, db.get_database_backend());
    let Some(row) = db.query_one(&statement).await? else {
        return Ok(None);
    };
    if row.try_get::<Option<i64>>("", "id")?.is_none() {
        return Ok(None);
    }
    let tenth: Option<i64> = row.try_get("", visibility::fact::TENTH_NEWER_PUBLIC)?;
    let content_read: bool = row.try_get("", "content_read")?;
    let record = MomentRow::from_query_result(&row, "")?.into_record()?;
    let facts = MomentFacts {
        relation: Relation::of(
            viewer == record.author_id,
            row.try_get("", visibility::fact::IS_HIDDEN)?,
            record.author_is_friend.unwrap_or(false),
        ),
        audience: record.audience,
        listed: row.try_get("", visibility::fact::VIEWER_LISTED)?,
        strangers_can_view: row.try_get("", visibility::fact::STRANGERS_CAN_VIEW)?,
        window: row.try_get("", visibility::fact::VISIBLE_WINDOW)?,
        posted_at: record.posted_at,
        pinned: record.pinned_at.is_some(),
        newer_public_fill_the_cap: tenth.is_some(),
    };
    if content_read != domain::visibility::moment_visible(&facts, now) {
        return Err(anyhow::anyhow!(
            "moment {id}: the statement and the rules disagree on whether user {viewer} may see it ({facts:?})"
        )
        .into());
    }
    Ok(Some((record, facts)))
}

/// Whether some moment of the author shows to the viewer (in the timeline or the pinned block, at
/// `now`) under one of two accesses of that viewer and not under the other: whether a change of
/// rights changes what the viewer sees. At most one statement, none when the two views are the
/// same.
pub async fn view_differs(db: &impl ConnectionTrait, old: &Access, new: &Access, now: DateTime<Utc>) -> Result<bool> {
    if old.view() == new.view() {
        return Ok(false);
    }
    let (before, after) = (visibility::shown_condition(old, now), visibility::shown_condition(new, now));
    let differs = Condition::any()
        .add(Condition::all().add(before.clone()).add(after.clone().not()))
        .add(Condition::all().add(after).add(before.not()));
    let select = Query::select()
        .expr(Expr::val(1))
        .from(moments::Entity)
        .and_where(moment_col(moments::Column::AuthorId).eq(new.author))
        .cond_where(differs)
        .limit(1)
        .to_owned();
    Ok(db.query_one(&select).await?.is_some())
}
