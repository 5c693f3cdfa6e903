//! Pinning and unpinning (docs/rules.md §3). Each runs in one transaction opened by
//! [`super::moments::begin_change`], which locks the author's user row (PostgreSQL; SQLite has one
//! writer), so a user's pins change one at a time: the limit holds under concurrent pins, and the
//! primary key on `pins.moment_id` keeps one pin per moment.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
    TransactionSession as _, TransactionTrait, sea_query::OnConflict,
};

use super::{moments::begin_change, records::MomentRecord};
use crate::{
    entity::pins,
    error::{Error, Result},
};
use rules::{
    UserId,
    model::MomentId,
    pinning::{PinAction, PinBlocker, PinFacts, PinPolicy, pin_refusal},
};

/// How many moments `user` has pinned.
pub async fn count(db: &impl ConnectionTrait, user: UserId) -> Result<u64> {
    Ok(pins::Entity::find().filter(pins::Column::AuthorId.eq(user)).count(db).await?)
}

/// A moment after a pin or an unpin, and whether that changed anything (P6: doing it again is
/// no change, and tells no one anything).
#[derive(Debug)]
pub struct Pinning {
    /// The moment as it is now.
    pub moment: MomentRecord,
    /// Whether its pin was made or removed by this call.
    pub changed: bool,
}

/// Pins the viewer's moment (P1–P6). Pinning a pinned moment succeeds and keeps its first `pinnedAt`.
pub async fn pin(
    db: &impl TransactionTrait,
    viewer: UserId,
    viewer_handle: &str,
    policy: &PinPolicy,
    id: MomentId,
    now: DateTime<Utc>,
) -> Result<Pinning> {
    let (txn, mut moment) = begin_change(db, viewer, id, now).await?;
    let facts = PinFacts {
        is_author: moment.author_id == viewer,
        kind: moment.kind,
        posted_at: moment.posted_at,
        is_pinned: moment.pinned_at.is_some(),
        limit_reached: policy.limit.is_some() && policy.limit_reached(count(&txn, viewer).await?),
        enabled: policy.enabled_for(viewer, viewer_handle),
    };
    match pin_refusal(&facts, now) {
        Ok(PinAction::KeepPin) => return Ok(Pinning { moment, changed: false }),
        Ok(PinAction::Pin) => {}
        Err(blocker) => return Err(refusal(blocker, policy)),
    }
    let inserted = pins::Entity::insert(pins::ActiveModel {
        moment_id: Set(id),
        author_id: Set(viewer),
        pinned_at: Set(now),
        posted_at: Set(moment.posted_at),
    })
    .on_conflict(OnConflict::column(pins::Column::MomentId).do_nothing().to_owned())
    .exec_without_returning(&txn)
    .await?;
    let pinned = pins::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the pin of moment {id} vanished inside its transaction"))?;
    txn.commit().await?;
    moment.pinned_at = Some(pinned.pinned_at);
    Ok(Pinning { moment, changed: inserted > 0 })
}

/// The error of a refused pin.
fn refusal(blocker: PinBlocker, policy: &PinPolicy) -> Error {
    match blocker {
        PinBlocker::NotAuthor => Error::not_author(),
        PinBlocker::PinningNotEnabled => Error::PinningNotEnabled,
        PinBlocker::UnsupportedKind => Error::PinUnsupportedKind,
        PinBlocker::TooOld => Error::PinTooOld,
        PinBlocker::LimitReached => Error::PinLimitReached { limit: policy.limit.unwrap_or(0) },
        PinBlocker::AlreadyPinned => anyhow::anyhow!("an existing pin is kept, not refused").into(),
    }
}

/// Unpins the viewer's moment (P10): always allowed to the author, idempotent (P6).
pub async fn unpin(db: &impl TransactionTrait, viewer: UserId, id: MomentId, now: DateTime<Utc>) -> Result<Pinning> {
    let (txn, mut moment) = begin_change(db, viewer, id, now).await?;
    let deleted = pins::Entity::delete_by_id(id).exec(&txn).await?.rows_affected;
    txn.commit().await?;
    moment.pinned_at = None;
    Ok(Pinning { moment, changed: deleted > 0 })
}
