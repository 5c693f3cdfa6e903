//! A profile's lists: the timeline and the pinned block, and whether a change of rights changes
//! what a viewer sees of them.

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DbBackend,
    sea_query::{Condition, Expr, ExprTrait as _, Query, SelectStatement},
};

use super::query::{ListPage, ListQuery, Page, Pins, run};
use crate::{
    entity::moments,
    error::Result,
    {sql::moment_col, visibility},
};
use rules::visibility::Access;

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

/// The statement of a timeline page; `None` when the viewer can see none of the author's moments.
#[cfg_attr(not(feature = "test-support"), expect(unreachable_pub, reason = "public for the plan tests"))]
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
#[cfg_attr(not(feature = "test-support"), expect(unreachable_pub, reason = "public for the plan tests"))]
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
