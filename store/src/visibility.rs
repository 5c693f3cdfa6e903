//! The rules of `rules::visibility` as SQL conditions, put inside the queries that list moments so
//! that pages, cursors and `hasNextPage` only ever see rows the viewer may see. Each condition is
//! derived from the pure functions (which audience modes admit whom, where a window starts), so the
//! two cannot drift apart silently; property tests hold the results against the reference.

use chrono::{DateTime, Utc};

use sea_orm::sea_query::{
    Alias, CaseStatement, Condition, Expr, ExprTrait as _, IntoIden, Order, Query, SelectStatement,
};

use super::sql::{is_pinned, moment_col, newest_first};
use crate::entity::columns::{Audience, Window};
use crate::entity::{moment_audience_tags, moment_audience_users, moments, tag_members};
use rules::{
    AudienceMode, UserId, VisibleWindow,
    model::TagId,
    visibility::{Access, Relation, STRANGER_TIMELINE_CAP, can_see, window_applies, window_start},
};

/// The offset of the newer public moment that, when it exists, puts a moment out of a stranger's
/// timeline: the tenth newer one.
const STRANGER_CAP_OFFSET: u64 = STRANGER_TIMELINE_CAP as u64 - 1;

/// A subquery of the outer row (`outer` with its author, posting time and id columns): the id
/// of the author's tenth public moment newer than that row, which when it exists puts the row out
/// of a stranger's timeline (V5). (Every newer moment is inside the window when the row is.)
pub(super) fn tenth_newer_public(
    outer: impl IntoIden + Clone,
    author: impl IntoIden,
    posted_at: impl IntoIden,
    id: impl IntoIden,
) -> SelectStatement {
    let newer = Alias::new("newer");
    Query::select()
        .column((newer.clone(), moments::Column::Id))
        .from_as(moments::Entity, newer.clone())
        .and_where(Expr::col((newer.clone(), moments::Column::AuthorId)).equals((outer.clone(), author)))
        .and_where(Expr::col((newer.clone(), moments::Column::AudienceMode)).eq(Audience::from(AudienceMode::Public)))
        .and_where(
            Expr::tuple([
                Expr::col((newer.clone(), moments::Column::PostedAt)),
                Expr::col((newer.clone(), moments::Column::Id)),
            ])
            .gt(Expr::tuple([Expr::col((outer.clone(), posted_at)), Expr::col((outer, id))])),
        )
        .order_by((newer.clone(), moments::Column::PostedAt), Order::Asc)
        .order_by((newer, moments::Column::Id), Order::Asc)
        .limit(1)
        .offset(STRANGER_CAP_OFFSET)
        .to_owned()
}

/// The viewer is named in the moment's audience users, or is now a member of one of its tags.
pub(super) fn listed(viewer: UserId) -> Condition {
    listed_but_for(viewer, None)
}

/// [`listed`], not counting tag `except` when given: whether the viewer would still be listed
/// without being in that tag.
pub(super) fn listed_but_for(viewer: UserId, except: Option<TagId>) -> Condition {
    let named = Query::select()
        .expr(Expr::val(1))
        .from(moment_audience_users::Entity)
        .and_where(
            Expr::col((moment_audience_users::Entity, moment_audience_users::Column::MomentId))
                .equals((moments::Entity, moments::Column::Id)),
        )
        .and_where(Expr::col((moment_audience_users::Entity, moment_audience_users::Column::UserId)).eq(viewer))
        .to_owned();
    let in_tag = Query::select()
        .expr(Expr::val(1))
        .from(moment_audience_tags::Entity)
        .inner_join(
            tag_members::Entity,
            Expr::col((tag_members::Entity, tag_members::Column::TagId))
                .equals((moment_audience_tags::Entity, moment_audience_tags::Column::TagId)),
        )
        .and_where(
            Expr::col((moment_audience_tags::Entity, moment_audience_tags::Column::MomentId))
                .equals((moments::Entity, moments::Column::Id)),
        )
        .and_where(Expr::col((tag_members::Entity, tag_members::Column::UserId)).eq(viewer))
        .and_where_option(
            except.map(|tag| Expr::col((moment_audience_tags::Entity, moment_audience_tags::Column::TagId)).ne(tag)),
        )
        .to_owned();
    Condition::any().add(Expr::exists(named)).add(Expr::exists(in_tag))
}

/// `canSee` as a condition on `moments`, built by asking the pure rule about every audience mode with
/// the viewer listed and not listed. `None` when no moment can pass; an empty `all()` when every one does.
pub(super) fn can_see_condition(relation: Relation, viewer: UserId, strangers_can_view: bool) -> Option<Condition> {
    let decisions: Vec<(AudienceMode, bool, bool)> = AudienceMode::ALL_VALUES
        .iter()
        .map(|&mode| {
            let admits = |listed| can_see(relation, mode, listed, strangers_can_view);
            (mode, admits(true), admits(false))
        })
        .collect();
    if decisions.iter().all(|&(_, listed, unlisted)| listed && unlisted) {
        return Some(Condition::all());
    }
    if decisions.iter().all(|&(_, listed, unlisted)| !listed && !unlisted) {
        return None;
    }
    let mut modes = Condition::any();
    for (mode, listed_in, unlisted_in) in decisions {
        let is_mode = moment_col(moments::Column::AudienceMode).eq(Audience::from(mode));
        modes = match (listed_in, unlisted_in) {
            (true, true) => modes.add(is_mode),
            (true, false) => modes.add(Condition::all().add(is_mode).add(listed(viewer))),
            (false, true) => modes.add(Condition::all().add(is_mode).add(listed(viewer).not())),
            (false, false) => modes,
        };
    }
    Some(modes)
}

/// The window of a known setting as a condition: `None` when it does not bind (V6).
pub(super) fn window_condition(window: VisibleWindow, now: DateTime<Utc>) -> Option<Condition> {
    window_start(window, now).map(|start| Condition::all().add(moment_col(moments::Column::PostedAt).gte(start)))
}

fn by_author(author: UserId) -> Condition {
    Condition::all().add(moment_col(moments::Column::AuthorId).eq(author))
}

/// The ids of the newest public moments a stranger may see in the author's timeline (V5).
fn stranger_cap(access: &Access, now: DateTime<Utc>) -> Option<SelectStatement> {
    let mut select = Query::select();
    select
        .column((moments::Entity, moments::Column::Id))
        .from(moments::Entity)
        .cond_where(by_author(access.author))
        .cond_where(can_see_condition(Relation::Stranger, access.viewer, access.strangers_can_view)?)
        .limit(STRANGER_TIMELINE_CAP as u64);
    newest_first(&mut select, moments::Entity, moments::Column::PostedAt, moments::Column::Id);
    if let Some(window) = window_condition(access.window, now) {
        select.cond_where(window);
    }
    Some(select)
}

/// `Profile.timeline`: the author's moments the viewer can see inside the window; for a stranger only
/// the ten newest of those. `None` when the viewer can see none.
pub(super) fn timeline_condition(access: &Access, now: DateTime<Utc>) -> Option<Condition> {
    let mut cond =
        by_author(access.author).add(can_see_condition(access.relation, access.viewer, access.strangers_can_view)?);
    if window_applies(access.relation) {
        cond = cond.add_option(window_condition(access.window, now));
    }
    if access.relation == Relation::Stranger {
        cond = cond.add(moment_col(moments::Column::Id).in_subquery(stranger_cap(access, now)?));
    }
    Some(cond)
}

/// `Profile.pinned`: the author's moments the viewer can see, any age (V7); the list that uses it
/// keeps only pinned ones.
pub(super) fn pinned_condition(access: &Access) -> Option<Condition> {
    let can_see = can_see_condition(access.relation, access.viewer, access.strangers_can_view)?;
    Some(by_author(access.author).add(can_see))
}

/// Every moment of the author the viewer sees, in the timeline or the pinned block: a condition
/// that is false when they see none.
pub(super) fn shown_condition(access: &Access, now: DateTime<Utc>) -> Condition {
    let shown = Condition::any()
        .add_option(timeline_condition(access, now))
        .add_option(pinned_condition(access).map(|c| Condition::all().add(c).add(Expr::exists(is_pinned()))));
    if shown.is_empty() { Condition::all().add(Expr::val(false)) } else { shown }
}

/// The earliest `postedAt` a window can start at, standing for "no bound" where a start is needed:
/// the first instant RFC 3339 can write (0000-01-01T00:00:00Z), so no moment an import or the API
/// accepts is older.
fn earliest() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(-62_167_219_200, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Where the window of the user whose setting `window` gives starts at `now`, as an expression
/// (the earliest time for `ALL`): derived from [`window_start`] for every window.
pub(super) fn window_start_of(window: Expr, now: DateTime<Utc>) -> Expr {
    let mut case = CaseStatement::new();
    for &value in VisibleWindow::ALL_VALUES {
        case = case
            .case(window.clone().eq(Window::from(value)), Expr::val(window_start(value, now).unwrap_or_else(earliest)));
    }
    case.finally(Expr::val(earliest())).into()
}

/// The latest any window starts at `now`: every window holds whatever was posted from then on, so
/// a range that starts there needs no one's setting.
pub(super) fn latest_window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    VisibleWindow::ALL_VALUES
        .iter()
        .map(|&value| window_start(value, now).unwrap_or_else(earliest))
        .max()
        .unwrap_or_else(earliest)
}

/// What a friend's audience lets the viewer see, as a condition on `moments` (the feed's part of
/// each friend's timeline; the window is the caller's). False when nothing could pass.
pub(super) fn friend_audience(viewer: UserId) -> Condition {
    can_see_condition(Relation::Friend, viewer, false).unwrap_or_else(|| Condition::all().add(Expr::val(false)))
}

/// The columns of one moment's facts, as `lists::visible_moment_statement` reads them into a
/// derived table.
pub(super) mod fact {
    /// The author's id.
    pub(crate) const AUTHOR_ID: &str = "author_id";
    /// The author hides their moments from the viewer.
    pub(crate) const IS_HIDDEN: &str = "is_hidden";
    /// The viewer is the author's friend.
    pub(crate) const AUTHOR_IS_FRIEND: &str = "author_is_friend";
    /// The moment's audience.
    pub(crate) const AUDIENCE_MODE: &str = "audience_mode";
    /// The viewer is named in the audience or in one of its tags.
    pub(crate) const VIEWER_LISTED: &str = "viewer_listed";
    /// The author lets strangers see public moments.
    pub(crate) const STRANGERS_CAN_VIEW: &str = "strangers_can_view";
    /// The author's window.
    pub(crate) const VISIBLE_WINDOW: &str = "visible_window";
    /// When the moment was posted.
    pub(crate) const POSTED_AT: &str = "posted_at";
    /// When it was pinned, if it is.
    pub(crate) const PINNED_AT: &str = "pinned_at";
    /// The tenth newer public moment of the author, if there is one (a stranger's cap).
    pub(crate) const TENTH_NEWER_PUBLIC: &str = "tenth_newer_public";
}

/// [`rules::visibility::moment_visible`] as a condition on the facts of one moment, read
/// into the columns of the derived table `facts` (see [`fact`]): which relation the facts make is
/// asked of `Relation::of` for every combination of them, what each relation may see of which
/// audience of `can_see`, and the pinned block and window are taken as `moment_visible` takes them.
/// False for a row of nulls (no such moment).
pub(super) fn visible_from_facts(facts: &Alias, viewer: UserId, now: DateTime<Utc>) -> Condition {
    let col = |name: &str| Expr::col((facts.clone(), Alias::new(name)));
    let flag = |name: &str, set: bool| {
        let holds = Condition::all().add(col(name));
        if set { holds } else { holds.not() }
    };
    let mut visible = Condition::any();
    for relation in [Relation::Author, Relation::Hidden, Relation::Friend, Relation::Stranger] {
        // Which facts make this relation.
        let mut made = Condition::any();
        for (is_author, is_hidden, is_friend) in combinations3() {
            if Relation::of(is_author, is_hidden, is_friend) == relation {
                let author = if is_author { col(fact::AUTHOR_ID).eq(viewer) } else { col(fact::AUTHOR_ID).ne(viewer) };
                made = made.add(
                    Condition::all()
                        .add(author)
                        .add(flag(fact::IS_HIDDEN, is_hidden))
                        .add(flag(fact::AUTHOR_IS_FRIEND, is_friend)),
                );
            }
        }
        // Which audiences it may see, by whether the viewer is listed and strangers may look.
        let mut admitted = Condition::any();
        let mut all_admitted = true;
        for &mode in AudienceMode::ALL_VALUES {
            let combos: Vec<(bool, bool)> =
                combinations2().filter(|&(listed, open)| can_see(relation, mode, listed, open)).collect();
            all_admitted &= combos.len() == 4;
            let of_mode = Condition::all().add(col(fact::AUDIENCE_MODE).eq(Audience::from(mode)));
            admitted = match combos.len() {
                0 => admitted,
                4 => admitted.add(of_mode),
                _ => admitted.add(of_mode.add(combos.into_iter().fold(Condition::any(), |any, (listed, open)| {
                    any.add(
                        Condition::all()
                            .add(flag(fact::VIEWER_LISTED, listed))
                            .add(flag(fact::STRANGERS_CAN_VIEW, open)),
                    )
                }))),
            };
        }
        if admitted.is_empty() {
            continue;
        }
        // In the pinned block at any age (V7); in the timeline inside the window and, for a
        // stranger, among the ten newest.
        let mut in_timeline = Condition::all();
        if window_applies(relation) {
            in_timeline = in_timeline.add(col(fact::POSTED_AT).gte(window_start_of(col(fact::VISIBLE_WINDOW), now)));
        }
        if relation == Relation::Stranger {
            in_timeline = in_timeline.add(col(fact::TENTH_NEWER_PUBLIC).is_null());
        }
        let shown = Condition::any().add(col(fact::PINNED_AT).is_not_null()).add(in_timeline);
        let mut case = Condition::all().add(made).add(shown);
        if !all_admitted {
            case = case.add(admitted);
        }
        visible = visible.add(case);
    }
    visible
}

/// Every pair of yes and no.
fn combinations2() -> impl Iterator<Item = (bool, bool)> {
    [(false, false), (false, true), (true, false), (true, true)].into_iter()
}

/// Every triple of yes and no.
fn combinations3() -> impl Iterator<Item = (bool, bool, bool)> {
    combinations2().flat_map(|(a, b)| [(a, b, false), (a, b, true)])
}
