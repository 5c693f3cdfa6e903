//! Audiences: checking the friends and tags a moment names, and reading them back for its author.

use std::collections::HashMap;

use sea_orm::{ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _};

use super::social::require_friends;
use crate::{
    domain::{
        AudienceMode, UserId,
        content::check_audience_shape,
        model::{MomentId, TagId},
    },
    entity::{moment_audience_tags, moment_audience_users, tags},
    error::{Error, Result},
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
