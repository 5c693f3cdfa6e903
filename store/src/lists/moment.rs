//! The moment by id (`moment(id)`, `node(id)`, and each live event's recheck): one statement that
//! reads what the rules decide on, and the moment's content only where they let the viewer see it.

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DbBackend, FromQueryResult,
    sea_query::{
        Alias, Asterisk, Condition, Expr, ExprTrait as _, JoinType, Query, SelectStatement, SubQueryStatement,
    },
};

use super::query::media_json;
use crate::entity::columns::Window;
use crate::{
    entity::{moments, moments_settings, pins, users},
    error::Result,
    {
        records::{MomentRecord, MomentRow},
        sql::{friend_of, hides_from, moment_col, pin_of_moment},
        visibility,
    },
};
use rules::{
    self, UserId,
    model::MomentId,
    visibility::{MomentFacts, Relation},
};

/// The one statement of `moment(id)`. First every fact the rules decide on — the moment's author,
/// audience and time, its pin, the author's settings, whether the author hides from the viewer or
/// is their friend, whether the viewer is listed in its audience, and whether ten newer public
/// moments of the author exist (a stranger's cap) — read from a one-row table that the moment is
/// joined to, so a missing moment gives a row of nulls after the same lookups as an existing one.
/// Then the moment's content (text, article, media) is joined only where the rules, as
/// [`visibility::visible_from_facts`] states them, let the viewer see it: an invisible moment's
/// content is never read, and it costs what a missing one does.
#[cfg_attr(not(feature = "test-support"), expect(unreachable_pub, reason = "public for the plan tests"))]
pub fn visible_moment_statement(
    viewer: UserId,
    id: MomentId,
    now: DateTime<Utc>,
    with_media: bool,
    backend: DbBackend,
) -> SelectStatement {
    use visibility::fact;
    let author = (moments::Entity, moments::Column::AuthorId);
    let tenth_newer_public = visibility::tenth_newer_public(
        moments::Entity,
        moments::Column::AuthorId,
        moments::Column::PostedAt,
        moments::Column::Id,
    );
    let pinned_at = Query::select()
        .column((pins::Entity, pins::Column::PinnedAt))
        .from(pins::Entity)
        .and_where(pin_of_moment())
        .to_owned();
    let one_row = Query::select().expr_as(Expr::val(1), Alias::new("one")).to_owned();
    let facts = Query::select()
        .columns([
            (moments::Entity, moments::Column::Id),
            (moments::Entity, moments::Column::AuthorId),
            (moments::Entity, moments::Column::Kind),
            (moments::Entity, moments::Column::AudienceMode),
            (moments::Entity, moments::Column::PostedAt),
        ])
        .expr_as(Expr::col((users::Entity, users::Column::Handle)), Alias::new("author_handle"))
        .expr_as(Expr::col((users::Entity, users::Column::DisplayName)), Alias::new("author_display_name"))
        .expr_as(Expr::exists(friend_of(author, viewer)), Alias::new(fact::AUTHOR_IS_FRIEND))
        .expr_as(Expr::from(SubQueryStatement::from(pinned_at)), Alias::new(fact::PINNED_AT))
        .expr_as(
            Expr::col((moments_settings::Entity, moments_settings::Column::VisibleWindow)),
            Alias::new(fact::VISIBLE_WINDOW),
        )
        .expr_as(
            Expr::col((moments_settings::Entity, moments_settings::Column::StrangersCanView)),
            Alias::new(fact::STRANGERS_CAN_VIEW),
        )
        .expr_as(Expr::exists(hides_from(author, viewer)), Alias::new(fact::IS_HIDDEN))
        .expr_as(Expr::case(visibility::listed(viewer), true).finally(false), Alias::new(fact::VIEWER_LISTED))
        .expr_as(Expr::from(SubQueryStatement::from(tenth_newer_public)), Alias::new(fact::TENTH_NEWER_PUBLIC))
        .from_subquery(one_row, Alias::new("w"))
        .join(JoinType::LeftJoin, moments::Entity, moment_col(moments::Column::Id).eq(id))
        .join(
            JoinType::LeftJoin,
            users::Entity,
            Expr::col((users::Entity, users::Column::Id)).equals((moments::Entity, moments::Column::AuthorId)),
        )
        .join(
            JoinType::LeftJoin,
            moments_settings::Entity,
            Expr::col((moments_settings::Entity, moments_settings::Column::UserId)).equals(author),
        )
        .to_owned();
    let (f, content) = (Alias::new("f"), Alias::new("content"));
    Query::select()
        .column((f.clone(), Asterisk))
        .columns([
            (content.clone(), moments::Column::Text),
            (content.clone(), moments::Column::ArticleUrl),
            (content.clone(), moments::Column::ArticleTitle),
        ])
        .expr_as(Expr::cust(media_json("content", with_media, backend)), Alias::new("media_json"))
        .expr_as(Expr::col((content.clone(), moments::Column::Id)).is_not_null(), Alias::new("content_read"))
        .from_subquery(facts, f.clone())
        .join_as(
            JoinType::LeftJoin,
            moments::Entity,
            content.clone(),
            Condition::all()
                .add(Expr::col((content, moments::Column::Id)).equals((f.clone(), moments::Column::Id)))
                .add(visibility::visible_from_facts(&f, viewer, now)),
        )
        .to_owned()
}

/// Moment `id` if `viewer` may see it (in its author's timeline or pinned set as the viewer sees
/// them), with media when asked. One statement whether the moment exists, is invisible or is
/// missing; the rules are applied to its facts by [`rules::visibility::moment_visible`].
pub async fn visible_moment(
    db: &impl ConnectionTrait,
    viewer: UserId,
    id: MomentId,
    now: DateTime<Utc>,
    with_media: bool,
) -> Result<Option<MomentRecord>> {
    Ok(moment_with_facts(db, viewer, id, now, with_media)
        .await?
        .and_then(|(record, facts)| rules::visibility::moment_visible(&facts, now).then_some(record)))
}

/// Moment `id` with every fact the rules decide on for `viewer` at `now`, whether or not they let
/// the viewer see it: only for deciding, never to show as it is. Its content (text, article,
/// media) is read only when the viewer may see it, and left empty otherwise. One statement;
/// `None` when there is no such moment. The statement's decision and the rules' are compared: a
/// disagreement is an error, never an answer.
pub async fn moment_with_facts(
    db: &impl ConnectionTrait,
    viewer: UserId,
    id: MomentId,
    now: DateTime<Utc>,
    with_media: bool,
) -> Result<Option<(MomentRecord, MomentFacts)>> {
    let statement = visible_moment_statement(viewer, id, now, with_media, db.get_database_backend());
    let Some(row) = db.query_one(&statement).await? else {
        return Ok(None);
    };
    if row.try_get::<Option<i64>>("", "id")?.is_none() {
        return Ok(None);
    }
    let tenth: Option<i64> = row.try_get("", visibility::fact::TENTH_NEWER_PUBLIC)?;
    let content_read: bool = row.try_get("", "content_read")?;
    let record = MomentRow::from_query_result(&row, "")?.into_record()?;
    let facts = MomentFacts {
        relation: Relation::of(
            viewer == record.author_id,
            row.try_get("", visibility::fact::IS_HIDDEN)?,
            record.author_is_friend.unwrap_or(false),
        ),
        audience: record.audience,
        listed: row.try_get("", visibility::fact::VIEWER_LISTED)?,
        strangers_can_view: row.try_get("", visibility::fact::STRANGERS_CAN_VIEW)?,
        window: row.try_get::<Window>("", visibility::fact::VISIBLE_WINDOW)?.into(),
        posted_at: record.posted_at,
        pinned: record.pinned_at.is_some(),
        newer_public_fill_the_cap: tenth.is_some(),
    };
    if content_read != rules::visibility::moment_visible(&facts, now) {
        return Err(anyhow::anyhow!(
            "moment {id}: the statement and the rules disagree on whether user {viewer} may see it ({facts:?})"
        )
        .into());
    }
    Ok(Some((record, facts)))
}
