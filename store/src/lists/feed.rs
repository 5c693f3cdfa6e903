//! The feed: the viewer's own moments and their friends' they may see, newest first, read in slices
//! of time. The statement differs by database where their planners do: one function each.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ConnectionTrait, DbBackend,
    sea_query::{
        Alias, Asterisk, Expr, ExprTrait as _, Func, JoinType, Query, SelectStatement, SubQueryStatement, UnionType,
    },
};

use super::query::{ListPage, Page, moments_with_ids, read};
use crate::{
    entity::{friendships, moments, moments_settings},
    error::Result,
    {
        sql::{hiding_from, moment_col, newest_first},
        visibility,
    },
};
use rules::{UserId, model::MomentId};

/// How far back from where a feed page starts (now, or its cursor) the page's first statement
/// reads: a page of 20 from 50 friends who each post every other day spans about a day, so a
/// slice of three covers a page with room to spare, and only what was posted in it is read.
#[cfg_attr(not(feature = "test-support"), expect(unreachable_pub, reason = "public for the plan tests"))]
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

/// The statement of a feed page, from `since` on when given: for each friend who does not hide
/// from the viewer, the moments from the cursor on that the audience lets the viewer see inside
/// that friend's window, with the viewer's own; the newest `first + 1` of those, read in full.
/// On both databases a range from a `since` no window starts after (a first page's slice) reads no
/// friend's setting; how the friends' moments are reached differs ([`friends_on_postgres`],
/// [`friends_on_sqlite`]).
#[cfg_attr(not(feature = "test-support"), expect(unreachable_pub, reason = "public for the plan tests"))]
pub fn feed_statement(
    viewer: UserId,
    page: &Page,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    backend: DbBackend,
) -> SelectStatement {
    let range = Range { viewer, page, since, now };
    let friend = Alias::new("f");
    let mut friends = Query::select();
    friends
        .from_as(friendships::Entity, friend.clone())
        .and_where(Expr::col((friend.clone(), friendships::Column::UserId)).eq(viewer))
        .and_where(Expr::col((friend.clone(), friendships::Column::FriendId)).not_in_subquery(hiding_from(viewer)));
    if backend == DbBackend::Postgres {
        friends_on_postgres(&mut friends, &friend, &range);
    } else {
        friends_on_sqlite(&mut friends, &friend, &range);
    }
    let mut own = Query::select();
    own.column((moments::Entity, moments::Column::Id))
        .column((moments::Entity, moments::Column::PostedAt))
        .from(moments::Entity)
        .and_where(moment_col(moments::Column::AuthorId).eq(viewer))
        .and_where_option(since.map(|since| moment_col(moments::Column::PostedAt).gte(since)));
    range.after_cursor(&mut own);
    let own = Query::select().column(Asterisk).from_subquery(range.newest(own), Alias::new("own")).to_owned();
    friends.union(UnionType::All, own);
    let candidates = Alias::new("candidates");
    let mut ids = Query::select();
    ids.column((candidates.clone(), moments::Column::Id)).from_subquery(friends, candidates.clone());
    newest_first(&mut ids, candidates, moments::Column::PostedAt, moments::Column::Id);
    ids.limit(range.rows());
    moments_with_ids(viewer, ids, page.with_media, backend)
}

/// What a feed statement reads: whose, which page, from when, and at what time.
struct Range<'a> {
    viewer: UserId,
    page: &'a Page,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
}

impl Range<'_> {
    /// Rows read: the page and one more, which tells whether more follow.
    fn rows(&self) -> u64 {
        self.page.first + 1
    }

    /// Adds the cursor to a range of `moments`.
    fn after_cursor(&self, select: &mut SelectStatement) {
        if let Some((after_posted_at, after_id)) = self.page.after {
            select.and_where(
                Expr::tuple([moment_col(moments::Column::PostedAt), moment_col(moments::Column::Id)])
                    .lt(Expr::tuple([Expr::val(after_posted_at), Expr::val(after_id)])),
            );
        }
    }

    /// The newest rows of a range of `moments`.
    fn newest(&self, mut select: SelectStatement) -> SelectStatement {
        newest_first(&mut select, moments::Entity, moments::Column::PostedAt, moments::Column::Id);
        select.limit(self.rows());
        select
    }

    /// Whether the range starts where the latest window does or later (a first page's slice): it
    /// then lies inside every friend's window, and no friend's setting is read.
    fn inside_windows(&self) -> bool {
        self.since.is_some_and(|since| since >= visibility::latest_window_start(self.now))
    }

    /// Where the window of the friend whose setting is in `moments_settings` starts.
    fn window_start(&self) -> Expr {
        visibility::window_start_of(
            Expr::col((moments_settings::Entity, moments_settings::Column::VisibleWindow)),
            self.now,
        )
    }
}

/// PostgreSQL reads at most the newest `first + 1` of each friend of `friends` (alias `friend`):
/// a `LATERAL` index range each, the friend's window start a primary-key lookup inside it, so the
/// reads are bounded by friends × page whatever the friends posted.
fn friends_on_postgres(friends: &mut SelectStatement, friend: &Alias, range: &Range<'_>) {
    let friend_id = (friend.clone(), friendships::Column::FriendId);
    let posted_at = moment_col(moments::Column::PostedAt);
    let mut of_friend = Query::select();
    of_friend
        .column((moments::Entity, moments::Column::Id))
        .column((moments::Entity, moments::Column::PostedAt))
        .from(moments::Entity)
        .and_where(moment_col(moments::Column::AuthorId).equals(friend_id.clone()))
        .and_where_option(range.since.map(|since| posted_at.clone().gte(since)))
        .cond_where(visibility::friend_audience(range.viewer));
    if !range.inside_windows() {
        // Where the friend's window starts, as a scalar subquery inside the lateral part: one
        // primary-key lookup per friend (as a join, PostgreSQL merged the friends with every
        // user's settings).
        let window_start = Expr::from(SubQueryStatement::from(
            Query::select()
                .expr(range.window_start())
                .from(moments_settings::Entity)
                .and_where(Expr::col((moments_settings::Entity, moments_settings::Column::UserId)).equals(friend_id))
                .to_owned(),
        ));
        of_friend.and_where(posted_at.gte(window_start));
    }
    range.after_cursor(&mut of_friend);
    let chosen = Alias::new("m");
    friends.column((chosen.clone(), moments::Column::Id)).column((chosen.clone(), moments::Column::PostedAt));
    friends.join_lateral(JoinType::InnerJoin, range.newest(of_friend), chosen, Expr::val(true));
}

/// SQLite joins each friend's settings and index range and sorts what it found: it has no
/// `LATERAL`, and a merge of one limited range per friend costs more to build than it saves
/// (docs/benchmarks.md, "The feed"). The slice bounds what it reads.
fn friends_on_sqlite(friends: &mut SelectStatement, friend: &Alias, range: &Range<'_>) {
    let friend_id = (friend.clone(), friendships::Column::FriendId);
    let inside_windows = range.inside_windows();
    // One bound for the range, the later of the window's start and the slice's, so that SQLite
    // starts each friend's index range there.
    let start = match range.since {
        Some(since) if inside_windows => Expr::val(since),
        Some(since) => Func::greatest([range.window_start(), Expr::val(since)]).into(),
        None => range.window_start(),
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
            moment_col(moments::Column::AuthorId)
                .equals(friend_id)
                .and(moment_col(moments::Column::PostedAt).gte(start)),
        )
        .cond_where(visibility::friend_audience(range.viewer));
    range.after_cursor(friends);
}
