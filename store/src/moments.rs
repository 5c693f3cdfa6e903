//! Moments: posting, and changing or deleting one's own. A moment's record is in
//! [`super::records`]; lists and the moment by id are read in [`super::lists`].

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait as _, TransactionSession as _, TransactionTrait};

use super::{
    audiences::check_audience,
    dedup,
    lists::visible_moment,
    records::{MediaRecord, MomentRecord},
};
use crate::{
    entity::{moment_audience_tags, moment_audience_users, moment_media, moments},
    error::{Error, Result},
};
use rules::{
    AudienceMode, UserId,
    content::MomentContent,
    model::{MomentId, TagId},
};

/// A moment to post, checked: content and audience.
#[derive(Clone, Debug)]
pub struct NewMoment {
    /// What it holds.
    pub content: MomentContent,
    /// Its audience mode.
    pub audience: AudienceMode,
    /// Friends named in the audience.
    pub audience_users: Vec<UserId>,
    /// The author's tags named in the audience.
    pub audience_tags: Vec<TagId>,
}

/// Inserts a checked moment and everything that belongs to it; the caller holds the transaction.
pub async fn insert(
    db: &impl ConnectionTrait,
    author: UserId,
    moment: &NewMoment,
    posted_at: DateTime<Utc>,
) -> Result<MomentRecord> {
    let content = &moment.content;
    let id = moments::Entity::insert(moments::ActiveModel {
        author_id: Set(author),
        kind: Set(content.kind.into()),
        text: Set(content.text.clone()),
        article_url: Set(content.article.as_ref().map(|a| a.url.as_str().to_owned())),
        article_title: Set(content.article.as_ref().map(|a| a.title.clone())),
        audience_mode: Set(moment.audience.into()),
        posted_at: Set(posted_at),
        ..Default::default()
    })
    .exec(db)
    .await?
    .last_insert_id;
    if !content.media.is_empty() {
        moment_media::Entity::insert_many(content.media.iter().enumerate().map(|(i, m)| moment_media::ActiveModel {
            moment_id: Set(id),
            position: Set(i as i16),
            url: Set(m.url.as_str().to_owned()),
            width: Set(m.width),
            height: Set(m.height),
        }))
        .exec_without_returning(db)
        .await?;
    }
    let users = dedup(moment.audience_users.iter().copied());
    if !users.is_empty() {
        moment_audience_users::Entity::insert_many(
            users.iter().map(|&u| moment_audience_users::ActiveModel { moment_id: Set(id), user_id: Set(u) }),
        )
        .exec_without_returning(db)
        .await?;
    }
    let tags_named = dedup(moment.audience_tags.iter().copied());
    if !tags_named.is_empty() {
        moment_audience_tags::Entity::insert_many(
            tags_named.iter().map(|&t| moment_audience_tags::ActiveModel { moment_id: Set(id), tag_id: Set(t) }),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(MomentRecord {
        id,
        author_id: author,
        kind: content.kind,
        text: content.text.clone(),
        article: content.article.as_ref().map(|a| (a.url.as_str().to_owned(), a.title.clone())),
        audience: moment.audience,
        posted_at,
        pinned_at: None,
        media: content
            .media
            .iter()
            .map(|m| MediaRecord { url: m.url.as_str().to_owned(), width: m.width, height: m.height })
            .collect(),
        author: None,
        author_is_friend: None,
    })
}

/// Posts a moment now: checks the audience and inserts it, in one transaction.
pub async fn post(
    db: &impl TransactionTrait,
    author: UserId,
    moment: &NewMoment,
    now: DateTime<Utc>,
) -> Result<MomentRecord> {
    let txn = db.begin().await?;
    check_audience(&txn, author, moment.audience, &moment.audience_users, &moment.audience_tags).await?;
    let record = insert(&txn, author, moment, now).await?;
    txn.commit().await?;
    Ok(record)
}

/// Finds moment `id` for a change by `viewer`: `NOT_FOUND` when the viewer cannot see it (or it does
/// not exist), `FORBIDDEN` when they can but did not write it (P1).
pub async fn own_moment_for_change(
    db: &impl ConnectionTrait,
    viewer: UserId,
    id: MomentId,
    now: DateTime<Utc>,
) -> Result<MomentRecord> {
    match visible_moment(db, viewer, id, now, true).await? {
        None => Err(Error::NotFound("momentId: no moment with this id".into())),
        Some(m) if m.author_id != viewer => Err(Error::not_author()),
        Some(m) => Ok(m),
    }
}

/// Opens the transaction of a change to the viewer's own moment: locks the viewer's row, so that
/// changes to one user's moments and pins happen one at a time (the pin limit relies on it), then
/// finds the moment as [`own_moment_for_change`] does.
pub async fn begin_change<D: TransactionTrait>(
    db: &D,
    viewer: UserId,
    id: MomentId,
    now: DateTime<Utc>,
) -> Result<(D::Transaction, MomentRecord)> {
    let txn = db.begin().await?;
    super::users::lock(&txn, viewer).await?;
    let moment = own_moment_for_change(&txn, viewer, id, now).await?;
    Ok((txn, moment))
}

/// Deletes the viewer's moment with its media, audience lists and pin (V8, P10), keeping who could
/// see it for the live subscriptions ([`super::removals`]).
pub async fn delete(db: &impl TransactionTrait, viewer: UserId, id: MomentId, now: DateTime<Utc>) -> Result<()> {
    let (txn, _) = begin_change(db, viewer, id, now).await?;
    super::removals::record(&txn, id, now).await?;
    moments::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}
