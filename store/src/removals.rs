//! Moments deleted in the last minutes, as the facts the visibility rules read: live
//! subscriptions tell a viewer that a moment is gone only when that viewer could see it, decided
//! by the same rules as every list, and once a moment's rows are deleted nothing else says who
//! could. Nothing of the content is kept, and each removal is purged after [`KEPT_FOR`].
//! Where the viewer stands to the author is known only at delivery; the author's settings and a
//! stranger's cap are kept as they were, and both then and now must let the viewer see it.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _,
    sea_query::{Alias, Expr, ExprTrait as _, Query, UnionType},
};

use super::{
    sql::{friend_of, hides_from, is_pinned},
    visibility,
};
use crate::entity::columns::{Audience, Window};
use crate::{
    entity::{
        moment_audience_tags, moment_audience_users, moments, moments_settings, removed_moment_listed, removed_moments,
        tag_members,
    },
    error::Result,
};
use rules::{
    UserId,
    model::MomentId,
    visibility::{MomentFacts, Relation, moment_visible},
};

/// How long a removal is kept: far longer than a change takes to reach the subscriptions, which
/// are cut off when they fall behind. Older ones are never read, and [`purge`] deletes them.
pub const KEPT_FOR: Duration = Duration::minutes(10);

/// Keeps what the rules need to know about moment `id`, which the caller is deleting in the same
/// transaction, as it stands at `now`: its author, audience mode, posting time, pin, the author's
/// window and whether strangers may look, whether ten newer public moments put it out of a
/// stranger's timeline, and who is listed in its audience (by name, or as a member of a named tag).
pub(super) async fn record(db: &impl ConnectionTrait, id: MomentId, now: DateTime<Utc>) -> Result<()> {
    let moment = |c| Expr::col((moments::Entity, c));
    let tenth = visibility::tenth_newer_public(
        moments::Entity,
        moments::Column::AuthorId,
        moments::Column::PostedAt,
        moments::Column::Id,
    );
    let facts = Query::select()
        .expr(moment(moments::Column::Id))
        .expr(moment(moments::Column::AuthorId))
        .expr(moment(moments::Column::AudienceMode))
        .expr(moment(moments::Column::PostedAt))
        .expr(Expr::exists(is_pinned()))
        .expr(Expr::col((moments_settings::Entity, moments_settings::Column::VisibleWindow)))
        .expr(Expr::col((moments_settings::Entity, moments_settings::Column::StrangersCanView)))
        .expr(Expr::exists(tenth))
        .expr(Expr::val(now))
        .from(moments::Entity)
        .inner_join(
            moments_settings::Entity,
            Expr::col((moments_settings::Entity, moments_settings::Column::UserId))
                .equals((moments::Entity, moments::Column::AuthorId)),
        )
        .and_where(moment(moments::Column::Id).eq(id))
        .to_owned();
    use removed_moments::Column as R;
    let insert = Query::insert()
        .into_table(removed_moments::Entity)
        .columns([
            R::MomentId,
            R::AuthorId,
            R::AudienceMode,
            R::PostedAt,
            R::WasPinned,
            R::VisibleWindow,
            R::StrangersCanView,
            R::NewerPublicFillTheCap,
            R::RemovedAt,
        ])
        .select_from(facts)
        .map_err(|e| anyhow::anyhow!("keeping a removed moment's facts: {e}"))?
        .to_owned();
    db.execute(&insert).await?;
    let mut named = Query::select()
        .column((moment_audience_users::Entity, moment_audience_users::Column::MomentId))
        .column((moment_audience_users::Entity, moment_audience_users::Column::UserId))
        .from(moment_audience_users::Entity)
        .and_where(Expr::col((moment_audience_users::Entity, moment_audience_users::Column::MomentId)).eq(id))
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
        .and_where(Expr::col((moment_audience_tags::Entity, moment_audience_tags::Column::MomentId)).eq(id))
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

/// Deletes the removals older than [`KEPT_FOR`] at `now`, with who was listed in them; says how
/// many.
pub async fn purge(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64> {
    let purged = removed_moments::Entity::delete_many()
        .filter(removed_moments::Column::RemovedAt.lt(now - KEPT_FOR))
        .exec(db)
        .await?;
    Ok(purged.rows_affected)
}

/// Whether `viewer` could see `author`'s moment `id`, deleted within [`KEPT_FOR`], both when it was
/// deleted (the author's settings and a stranger's cap as they were then) and now, had it not
/// been: the rules of every list applied to its kept facts and the viewer's rights now (where the
/// viewer stands to the author is known only now). False when no such removal is kept. One
/// statement.
pub async fn was_visible(
    db: &impl ConnectionTrait,
    viewer: UserId,
    author: UserId,
    id: MomentId,
    now: DateTime<Utc>,
) -> Result<bool> {
    let removed = removed_moments::Entity;
    let author_col = (removed, removed_moments::Column::AuthorId);
    let listed = Query::select()
        .expr(Expr::val(1))
        .from(removed_moment_listed::Entity)
        .and_where(
            Expr::col((removed_moment_listed::Entity, removed_moment_listed::Column::MomentId))
                .equals((removed, removed_moments::Column::MomentId)),
        )
        .and_where(Expr::col((removed_moment_listed::Entity, removed_moment_listed::Column::UserId)).eq(viewer))
        .to_owned();
    let select = Query::select()
        .columns([
            (removed, removed_moments::Column::AudienceMode),
            (removed, removed_moments::Column::PostedAt),
            (removed, removed_moments::Column::WasPinned),
            (removed, removed_moments::Column::VisibleWindow),
            (removed, removed_moments::Column::StrangersCanView),
            (removed, removed_moments::Column::NewerPublicFillTheCap),
            (removed, removed_moments::Column::RemovedAt),
        ])
        .expr_as(
            Expr::col((moments_settings::Entity, moments_settings::Column::VisibleWindow)),
            Alias::new("visible_window_now"),
        )
        .expr_as(
            Expr::col((moments_settings::Entity, moments_settings::Column::StrangersCanView)),
            Alias::new("strangers_can_view_now"),
        )
        .expr_as(Expr::exists(hides_from(author_col, viewer)), Alias::new("is_hidden"))
        .expr_as(Expr::exists(friend_of(author_col, viewer)), Alias::new("is_friend"))
        .expr_as(Expr::exists(listed), Alias::new("viewer_listed"))
        .from(removed)
        .inner_join(
            moments_settings::Entity,
            Expr::col((moments_settings::Entity, moments_settings::Column::UserId)).equals(author_col),
        )
        .and_where(Expr::col((removed, removed_moments::Column::MomentId)).eq(id))
        .and_where(Expr::col(author_col).eq(author))
        .and_where(Expr::col((removed, removed_moments::Column::RemovedAt)).gte(now - KEPT_FOR))
        .to_owned();
    let Some(row) = db.query_one(&select).await? else {
        return Ok(false);
    };
    let then = MomentFacts {
        relation: Relation::of(viewer == author, row.try_get("", "is_hidden")?, row.try_get("", "is_friend")?),
        audience: row.try_get::<Audience>("", "audience_mode")?.into(),
        listed: row.try_get("", "viewer_listed")?,
        strangers_can_view: row.try_get("", "strangers_can_view")?,
        window: row.try_get::<Window>("", "visible_window")?.into(),
        posted_at: row.try_get("", "posted_at")?,
        pinned: row.try_get("", "was_pinned")?,
        newer_public_fill_the_cap: row.try_get("", "newer_public_fill_the_cap")?,
    };
    let removed_at: DateTime<Utc> = row.try_get("", "removed_at")?;
    let still = MomentFacts {
        strangers_can_view: row.try_get("", "strangers_can_view_now")?,
        window: row.try_get::<Window>("", "visible_window_now")?.into(),
        ..then
    };
    Ok(moment_visible(&then, removed_at) && moment_visible(&still, now))
}
