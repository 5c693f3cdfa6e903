//! Moments deleted in the last minutes, as the facts the visibility rules read: live
//! subscriptions tell a viewer that a moment is gone only when that viewer could see it, decided
//! by the same rules as every list, and once a moment's rows are deleted nothing else says who
//! could. Nothing of the content is kept, and each removal is purged after [`KEPT_FOR`].

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _,
    sea_query::{Alias, Expr, ExprTrait as _, Query, UnionType},
};

use super::{
    moments::MomentRecord,
    sql::{friend_of, hides_from},
    visibility,
};
use crate::{
    domain::{
        UserId,
        model::MomentId,
        visibility::{MomentFacts, Relation, moment_visible},
    },
    entity::{
        moment_audience_tags, moment_audience_users, moments_settings, removed_moment_listed, removed_moments,
        tag_members,
    },
    error::Result,
};

/// How long a removal is kept: far longer than a change takes to reach the subscriptions, which
/// are cut off when they fall behind.
pub const KEPT_FOR: Duration = Duration::minutes(10);

/// Keeps what the rules need to know about `moment`, which the caller is deleting in the same
/// transaction: its audience mode, posting time, pin, and who is listed in its audience now (by
/// name, or as a member of a named tag). Purges removals older than [`KEPT_FOR`].
pub(super) async fn record(db: &impl ConnectionTrait, moment: &MomentRecord, now: DateTime<Utc>) -> Result<()> {
    removed_moments::Entity::delete_many()
        .filter(
            removed_moments::Column::RemovedAt
                .lt(now - KEPT_FOR)
                // An id used again (SQLite may give a deleted largest id to the next moment).
                .or(removed_moments::Column::MomentId.eq(moment.id)),
        )
        .exec(db)
        .await?;
    removed_moments::Entity::insert(removed_moments::ActiveModel {
        moment_id: Set(moment.id),
        author_id: Set(moment.author_id),
        audience_mode: Set(moment.audience),
        posted_at: Set(moment.posted_at),
        was_pinned: Set(moment.pinned_at.is_some()),
        removed_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    let mut named = Query::select()
        .column((moment_audience_users::Entity, moment_audience_users::Column::MomentId))
        .column((moment_audience_users::Entity, moment_audience_users::Column::UserId))
        .from(moment_audience_users::Entity)
        .and_where(Expr::col((moment_audience_users::Entity, moment_audience_users::Column::MomentId)).eq(moment.id))
        .to_owned();
    let in_tags = Query::select()
        .column((moment_audience_tags::Entity, moment_audience_tags::Column::MomentId))
        .column((tag_members::Entity, tag_members::Column::UserId))
        .from(moment_audience_tags::Entity)
        .inner_join(
            tag_members::Entity,
            Expr::col((tag_members::Entity, tag_members::Column::TagId))
                .equals((moment_audience_tags::Entity, moment_audience_tags::Column::TagId)),
        )
        .and_where(Expr::col((moment_audience_tags::Entity, moment_audience_tags::Column::MomentId)).eq(moment.id))
        .to_owned();
    let listed = named.union(UnionType::Distinct, in_tags).to_owned();
    let insert = Query::insert()
        .into_table(removed_moment_listed::Entity)
        .columns([removed_moment_listed::Column::MomentId, removed_moment_listed::Column::UserId])
        .select_from(listed)
        .map_err(|e| anyhow::anyhow!("listing a removed moment's audience: {e}"))?
        .to_owned();
    db.execute(&insert).await?;
    Ok(())
}

/// Whether `viewer` could see moment `id`, deleted within [`KEPT_FOR`], had it not been deleted:
/// the rules of every list applied to its kept facts and to the viewer's rights at `now`. False
/// when no such removal is kept. One statement.
pub async fn was_visible(db: &impl ConnectionTrait, viewer: UserId, id: MomentId, now: DateTime<Utc>) -> Result<bool> {
    let removed = removed_moments::Entity;
    let author = (removed, removed_moments::Column::AuthorId);
    let listed = Query::select()
        .expr(Expr::val(1))
        .from(removed_moment_listed::Entity)
        .and_where(
            Expr::col((removed_moment_listed::Entity, removed_moment_listed::Column::MomentId))
                .equals((removed, removed_moments::Column::MomentId)),
        )
        .and_where(Expr::col((removed_moment_listed::Entity, removed_moment_listed::Column::UserId)).eq(viewer))
        .to_owned();
    let tenth = visibility::tenth_newer_public(
        removed,
        removed_moments::Column::AuthorId,
        removed_moments::Column::PostedAt,
        removed_moments::Column::MomentId,
    );
    let select = Query::select()
        .columns([
            (removed, removed_moments::Column::AuthorId),
            (removed, removed_moments::Column::AudienceMode),
            (removed, removed_moments::Column::PostedAt),
            (removed, removed_moments::Column::WasPinned),
        ])
        .column((moments_settings::Entity, moments_settings::Column::VisibleWindow))
        .column((moments_settings::Entity, moments_settings::Column::StrangersCanView))
        .expr_as(Expr::exists(hides_from(author, viewer)), Alias::new("is_hidden"))
        .expr_as(Expr::exists(friend_of(author, viewer)), Alias::new("is_friend"))
        .expr_as(Expr::exists(listed), Alias::new("viewer_listed"))
        .expr_as(Expr::exists(tenth), Alias::new("newer_public_fill_the_cap"))
        .from(removed)
        .inner_join(
            moments_settings::Entity,
            Expr::col((moments_settings::Entity, moments_settings::Column::UserId)).equals(author),
        )
        .and_where(Expr::col((removed, removed_moments::Column::MomentId)).eq(id))
        .to_owned();
    let Some(row) = db.query_one(&select).await? else {
        return Ok(false);
    };
    let author: UserId = row.try_get("", "author_id")?;
    let facts = MomentFacts {
        relation: Relation::of(viewer == author, row.try_get("", "is_hidden")?, row.try_get("", "is_friend")?),
        audience: row.try_get("", "audience_mode")?,
        listed: row.try_get("", "viewer_listed")?,
        strangers_can_view: row.try_get("", "strangers_can_view")?,
        window: row.try_get("", "visible_window")?,
        posted_at: row.try_get("", "posted_at")?,
        pinned: row.try_get("", "was_pinned")?,
        newer_public_fill_the_cap: row.try_get("", "newer_public_fill_the_cap")?,
    };
    Ok(moment_visible(&facts, now))
}
