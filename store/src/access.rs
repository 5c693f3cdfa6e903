//! What a viewer may see of an author: the facts of [`Access`] read from the author's settings,
//! the friendship and the hiding list, for one author or for a user found by handle.

use sea_orm::{
    ConnectionTrait, FromQueryResult,
    sea_query::{Alias, Expr, ExprTrait as _, Query, SelectStatement},
};

use super::{
    sql::{friend_of, hides_from},
    users::UserRecord,
};
use crate::entity::columns::Window;
use crate::{
    entity::{moments_settings, users},
    error::Result,
};
use rules::{
    UserId,
    visibility::{Access, Relation},
};

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
    visible_window: Window,
    strangers_can_view: bool,
    is_friend: bool,
    is_hidden: bool,
}

impl AccessRow {
    fn into_access(self, viewer: UserId) -> Result<Access> {
        Ok(Access {
            viewer,
            author: self.author_id,
            relation: Relation::of(viewer == self.author_id, self.is_hidden, self.is_friend),
            window: self.visible_window.into(),
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
