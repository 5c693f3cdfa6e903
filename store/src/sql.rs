//! SQL pieces more than one query of the store is built from, each written once: the newest-first
//! order of every list, the pin of a moment, and the friendship and hiding lookups.

use sea_orm::sea_query::{Expr, ExprTrait as _, IntoColumnRef, IntoIden, Order, Query, SelectStatement};

use rules::UserId;

use crate::entity::{friendships, hidden_from, moments, pins};

/// A column of `moments`, qualified by the table.
pub(super) fn moment_col(c: moments::Column) -> Expr {
    Expr::col((moments::Entity, c))
}

/// Orders a select newest first, as every list is ordered (P7): `postedAt` descending, then the
/// moment created later first. `table` names the rows (`moments`, `pins` or an alias) and
/// `posted_at`, `id` their columns.
pub(super) fn newest_first(
    select: &mut SelectStatement,
    table: impl IntoIden + Clone,
    posted_at: impl IntoIden,
    id: impl IntoIden,
) {
    select.order_by((table.clone(), posted_at), Order::Desc).order_by((table, id), Order::Desc);
}

/// The condition "this `pins` row is the pin of the outer query's moment".
pub(super) fn pin_of_moment() -> Expr {
    Expr::col((pins::Entity, pins::Column::MomentId)).equals((moments::Entity, moments::Column::Id))
}

/// For an `EXISTS` (or a scalar subquery): the outer query's moment is pinned.
pub(super) fn is_pinned() -> SelectStatement {
    Query::select().expr(Expr::val(1)).from(pins::Entity).and_where(pin_of_moment()).to_owned()
}

/// For an `EXISTS`: `viewer` is a friend of the user in column `user` of the outer query.
/// (Friendships are stored both ways, so this is one primary-key lookup.)
pub(super) fn friend_of(user: impl IntoColumnRef, viewer: UserId) -> SelectStatement {
    Query::select()
        .expr(Expr::val(1))
        .from(friendships::Entity)
        .and_where(Expr::col((friendships::Entity, friendships::Column::UserId)).equals(user))
        .and_where(Expr::col((friendships::Entity, friendships::Column::FriendId)).eq(viewer))
        .to_owned()
}

/// For an `EXISTS`: the user in column `owner` of the outer query hides their moments from
/// `viewer` (V3).
pub(super) fn hides_from(owner: impl IntoColumnRef, viewer: UserId) -> SelectStatement {
    Query::select()
        .expr(Expr::val(1))
        .from(hidden_from::Entity)
        .and_where(Expr::col((hidden_from::Entity, hidden_from::Column::OwnerId)).equals(owner))
        .and_where(Expr::col((hidden_from::Entity, hidden_from::Column::HiddenUserId)).eq(viewer))
        .to_owned()
}

/// For an `IN`: every user who hides their moments from `viewer` (V3), an index range of the
/// hidden-from lists by the user hidden from. A list that checks many authors reads this once
/// rather than looking up each author.
pub(super) fn hiding_from(viewer: UserId) -> SelectStatement {
    Query::select()
        .column((hidden_from::Entity, hidden_from::Column::OwnerId))
        .from(hidden_from::Entity)
        .and_where(Expr::col((hidden_from::Entity, hidden_from::Column::HiddenUserId)).eq(viewer))
        .to_owned()
}
