//! What every list shares: the page asked for and the page read, and the one statement every list
//! is built from (a moment's columns, its author, its pin and its media, newest first).

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DbBackend, FromQueryResult,
    sea_query::{Alias, Condition, Expr, ExprTrait as _, JoinType, Query, SelectStatement, SubQueryStatement},
};

use crate::{
    entity::{moments, pins, users},
    error::Result,
};
use crate::{
    records::{MomentRecord, MomentRow},
    sql::{friend_of, is_pinned, moment_col, newest_first, pin_of_moment},
};
use rules::{UserId, model::MomentId};

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
    pub(super) fn of(mut moments: Vec<MomentRecord>, first: u64, statements: usize) -> Self {
        let bytes_read = moments.iter().map(MomentRecord::content_bytes).sum();
        let has_next_page = moments.len() as u64 > first;
        moments.truncate(first as usize);
        Self { moments, has_next_page, statements, bytes_read }
    }
}

/// The moments whose ids `ids` selects, newest first, with what a list shows of each.
pub(super) fn moments_with_ids(
    viewer: UserId,
    ids: SelectStatement,
    with_media: bool,
    backend: DbBackend,
) -> SelectStatement {
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
pub(super) async fn run(
    db: &impl ConnectionTrait,
    statement: Option<SelectStatement>,
    page: &Page,
) -> Result<ListPage> {
    let Some(statement) = statement else {
        return Ok(ListPage::default());
    };
    Ok(ListPage::of(read(db, &statement).await?, page.first, 1))
}

/// The moments a list statement selects.
pub(super) async fn read(db: &impl ConnectionTrait, statement: &SelectStatement) -> Result<Vec<MomentRecord>> {
    let rows = db.query_all(statement).await?;
    rows.iter().map(|r| MomentRow::from_query_result(r, "")?.into_record()).collect()
}

/// Which moments a list holds besides its visibility condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pins {
    /// Pinned or not.
    Any,
    /// Only pinned moments (the list is joined with `pins`).
    Only,
    /// Only moments that are not pinned.
    Exclude,
}

/// One list query: visibility condition, pin filter and page.
pub(super) struct ListQuery {
    /// Who the list is for (to tell whether each author is their friend).
    pub(super) viewer: UserId,
    /// The one author the list is of, when it is one author's (lets the pinned block start from
    /// that author's pins).
    pub(super) author: Option<UserId>,
    /// The visibility condition.
    pub(super) filter: Condition,
    /// Pin filter.
    pub(super) pins: Pins,
    /// Where to start, how many, and whether with media.
    pub(super) page: Page,
}

impl ListQuery {
    /// The one statement of the list: the page's ids chosen by the rules, then those moments with
    /// their pins and authors, and each moment's media gathered into one JSON column, so a page is
    /// one row per moment. It reads one row more than the page, which tells whether more follow.
    pub(super) fn statement(&self, backend: DbBackend) -> SelectStatement {
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
    pub(super) fn narrow_to_page(&self, mut select: SelectStatement) -> SelectStatement {
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
pub(super) fn moment_columns(viewer: UserId) -> SelectStatement {
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
pub(super) fn media_json(table: &str, with_media: bool, backend: DbBackend) -> String {
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
