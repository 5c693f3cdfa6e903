//! Audiences: checking the friends and tags a moment names, reading them back for its author,
//! and what a change to a tag's members changes for one viewer.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _,
    sea_query::{Condition, Expr, ExprTrait as _, Query},
};

use super::{
    friends::require_friends,
    sql::is_pinned,
    visibility::{listed_but_for, window_condition},
};
use crate::entity::columns::Audience;
use crate::{
    entity::{moment_audience_tags, moment_audience_users, moments, tags},
    error::{Error, Result},
};
use rules::{
    AudienceMode, UserId,
    content::check_audience_shape,
    model::{MomentId, TagId},
    visibility::{Access, can_see, window_applies},
};

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

/// Whether `access.viewer` joining or leaving the author's tag `tag` changes which of the author's
/// moments they see now: some moment they would see with one answer and not the other names the
/// tag, has an audience for which being listed matters to this viewer, does not list them
/// otherwise (by name or through another tag), and is pinned or inside their window. One
/// statement at most; none when being listed never matters to the viewer (a stranger, hidden).
pub async fn tag_changes_view(
    db: &impl ConnectionTrait,
    access: &Access,
    tag: TagId,
    now: DateTime<Utc>,
) -> Result<bool> {
    let modes: Vec<AudienceMode> = AudienceMode::ALL_VALUES
        .iter()
        .copied()
        .filter(|&mode| {
            let admits = |listed| can_see(access.relation, mode, listed, access.strangers_can_view);
            admits(true) != admits(false)
        })
        .collect();
    if modes.is_empty() {
        return Ok(false);
    }
    let names_tag = Query::select()
        .expr(Expr::val(1))
        .from(moment_audience_tags::Entity)
        .and_where(
            Expr::col((moment_audience_tags::Entity, moment_audience_tags::Column::MomentId))
                .equals((moments::Entity, moments::Column::Id)),
        )
        .and_where(Expr::col((moment_audience_tags::Entity, moment_audience_tags::Column::TagId)).eq(tag))
        .to_owned();
    let mut select = Query::select();
    select
        .expr(Expr::val(1))
        .from(moments::Entity)
        .and_where(Expr::col((moments::Entity, moments::Column::AuthorId)).eq(access.author))
        .and_where(
            Expr::col((moments::Entity, moments::Column::AudienceMode)).is_in(modes.into_iter().map(Audience::from)),
        )
        .and_where(Expr::exists(names_tag))
        .cond_where(listed_but_for(access.viewer, Some(tag)).not())
        .limit(1);
    if window_applies(access.relation)
        && let Some(window) = window_condition(access.window, now)
    {
        select.cond_where(Condition::any().add(window).add(Expr::exists(is_pinned())));
    }
    Ok(db.query_one(&select).await?.is_some())
}
