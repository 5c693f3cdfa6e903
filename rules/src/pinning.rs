//! What can be pinned (docs/rules.md §3, rules P2–P5, P11): the reasons a pin is refused, the gradual rollout
//! and the optional limit, as pure functions.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::model::{MomentKind, UserId};
use super::visibility::months_before;

/// How many calendar months back a moment may have been posted to be pinned (P3).
pub const PIN_MAX_AGE_MONTHS: u32 = 6;

/// A reason the viewer cannot pin a moment (P11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PinBlocker {
    /// Someone else wrote the moment (P1).
    NotAuthor,
    /// Text and articles cannot be pinned (P2).
    UnsupportedKind,
    /// Posted more than six calendar months ago (P3).
    TooOld,
    /// Already pinned (P6: pinning again changes nothing).
    AlreadyPinned,
    /// The operator's pin limit is reached (P5).
    LimitReached,
    /// Pinning is not rolled out to this user (P4).
    PinningNotEnabled,
}

/// Whether a kind of moment can be pinned (P2).
pub fn kind_is_pinnable(kind: MomentKind) -> bool {
    matches!(kind, MomentKind::Images | MomentKind::Video)
}

/// Whether a moment posted at `posted_at` is young enough to be pinned at `now`; the boundary is inside (P3).
pub fn young_enough_to_pin(posted_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    posted_at >= months_before(now, PIN_MAX_AGE_MONTHS)
}

/// A user's stable rollout bucket, 0–99: the same on every server and after every restart (P4).
pub fn rollout_bucket(user: UserId) -> u8 {
    let digest = Sha256::digest(format!("moments/pin-rollout/{user}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % 100) as u8
}

/// The operator's pinning configuration (P4, P5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinPolicy {
    /// Users whose bucket is below this may pin (0–100).
    pub rollout_percent: u8,
    /// Handles that may pin whatever their bucket.
    pub allowlist: HashSet<String>,
    /// The most pins a user may hold; `None` is unlimited.
    pub limit: Option<u32>,
}

impl Default for PinPolicy {
    fn default() -> Self {
        Self { rollout_percent: 100, allowlist: HashSet::new(), limit: None }
    }
}

impl PinPolicy {
    /// Whether pinning is rolled out to this user (P4).
    pub fn enabled_for(&self, user: UserId, handle: &str) -> bool {
        self.allowlist.contains(handle) || rollout_bucket(user) < self.rollout_percent
    }

    /// Whether a user holding `pins` pins has reached the limit (P5).
    pub fn limit_reached(&self, pins: u64) -> bool {
        self.limit.is_some_and(|limit| pins >= u64::from(limit))
    }
}

/// The facts about one viewer and one moment that decide whether the viewer can pin it.
#[derive(Clone, Copy, Debug)]
pub struct PinFacts {
    /// The viewer wrote the moment.
    pub is_author: bool,
    /// The moment's kind.
    pub kind: MomentKind,
    /// When it was posted.
    pub posted_at: DateTime<Utc>,
    /// Whether it is pinned now.
    pub is_pinned: bool,
    /// Whether the viewer has reached the pin limit.
    pub limit_reached: bool,
    /// Whether pinning is rolled out to the viewer.
    pub enabled: bool,
}

impl PinBlocker {
    /// Every reason, in the order `viewerCannotPinReasons` lists them (P11).
    pub const ALL: [Self; 6] = [
        Self::NotAuthor,
        Self::UnsupportedKind,
        Self::TooOld,
        Self::AlreadyPinned,
        Self::LimitReached,
        Self::PinningNotEnabled,
    ];

    /// Whether this reason stops the viewer pinning the moment of `facts` at `now`.
    pub fn applies(self, facts: &PinFacts, now: DateTime<Utc>) -> bool {
        match self {
            Self::NotAuthor => !facts.is_author,
            Self::UnsupportedKind => !kind_is_pinnable(facts.kind),
            Self::TooOld => !young_enough_to_pin(facts.posted_at, now),
            Self::AlreadyPinned => facts.is_pinned,
            Self::LimitReached => facts.limit_reached,
            Self::PinningNotEnabled => !facts.enabled,
        }
    }
}

/// Every reason that stops the viewer pinning the moment, in a fixed order; empty means they can (P11).
pub fn pin_blockers(facts: &PinFacts, now: DateTime<Utc>) -> Vec<PinBlocker> {
    PinBlocker::ALL.into_iter().filter(|b| b.applies(facts, now)).collect()
}

/// What the `pin` mutation does with a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinAction {
    /// Pin it now.
    Pin,
    /// Nothing: it is pinned already, and keeps its first `pinnedAt` (P6).
    KeepPin,
}

/// The one place the `pin` mutation decides: the first refusal that applies, in this order — not
/// the author (P1), pinning not rolled out (P4), a kind that cannot be pinned (P2) — then a moment
/// already pinned succeeds unchanged (P6, whatever its age or the limit), and a new pin is refused
/// when the moment is too old (P3) or the limit is reached (P5).
pub fn pin_refusal(facts: &PinFacts, now: DateTime<Utc>) -> Result<PinAction, PinBlocker> {
    for blocker in [PinBlocker::NotAuthor, PinBlocker::PinningNotEnabled, PinBlocker::UnsupportedKind] {
        if blocker.applies(facts, now) {
            return Err(blocker);
        }
    }
    if facts.is_pinned {
        return Ok(PinAction::KeepPin);
    }
    for blocker in [PinBlocker::TooOld, PinBlocker::LimitReached] {
        if blocker.applies(facts, now) {
            return Err(blocker);
        }
    }
    Ok(PinAction::Pin)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    #[test]
    fn buckets_are_stable_and_spread_over_the_hundred() {
        assert_eq!(rollout_bucket(1), rollout_bucket(1));
        let buckets: HashSet<u8> = (1..=2000).map(rollout_bucket).collect();
        assert!(buckets.iter().all(|b| *b < 100));
        assert!(buckets.len() > 90, "only {} distinct buckets", buckets.len());
    }

    #[test]
    fn the_allowlist_enables_a_user_whatever_the_percentage() {
        let policy = PinPolicy { rollout_percent: 0, allowlist: HashSet::from(["alice".to_owned()]), limit: None };
        assert!(policy.enabled_for(7, "alice"));
        assert!(!policy.enabled_for(7, "bob"));
        assert!(PinPolicy::default().enabled_for(7, "bob"));
    }

    #[test]
    fn every_reason_that_applies_is_listed() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let facts = PinFacts {
            is_author: false,
            kind: MomentKind::Text,
            posted_at: now - Duration::days(400),
            is_pinned: true,
            limit_reached: true,
            enabled: false,
        };
        assert_eq!(
            pin_blockers(&facts, now),
            vec![
                PinBlocker::NotAuthor,
                PinBlocker::UnsupportedKind,
                PinBlocker::TooOld,
                PinBlocker::AlreadyPinned,
                PinBlocker::LimitReached,
                PinBlocker::PinningNotEnabled,
            ]
        );
        let fine = PinFacts {
            is_author: true,
            kind: MomentKind::Images,
            posted_at: now,
            is_pinned: false,
            limit_reached: false,
            enabled: true,
        };
        assert!(pin_blockers(&fine, now).is_empty());
    }

    #[test]
    fn six_calendar_months_is_the_last_pinnable_age() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let boundary = Utc.with_ymd_and_hms(2026, 5, 26, 12, 0, 0).unwrap();
        assert!(young_enough_to_pin(boundary, now));
        assert!(!young_enough_to_pin(boundary - Duration::seconds(1), now));
    }

    #[test]
    fn a_limit_is_reached_at_its_value() {
        let policy = PinPolicy { limit: Some(3), ..PinPolicy::default() };
        assert!(!policy.limit_reached(2));
        assert!(policy.limit_reached(3));
        assert!(!PinPolicy::default().limit_reached(1_000_000));
    }

    #[test]
    fn the_mutation_refuses_in_its_order_and_keeps_an_existing_pin() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let fine = PinFacts {
            is_author: true,
            kind: MomentKind::Images,
            posted_at: now,
            is_pinned: false,
            limit_reached: false,
            enabled: true,
        };
        assert_eq!(pin_refusal(&fine, now), Ok(PinAction::Pin));
        let everything = PinFacts {
            is_author: false,
            kind: MomentKind::Text,
            posted_at: now - Duration::days(400),
            is_pinned: false,
            limit_reached: true,
            enabled: false,
        };
        assert_eq!(pin_refusal(&everything, now), Err(PinBlocker::NotAuthor));
        let everything = PinFacts { is_author: true, ..everything };
        assert_eq!(pin_refusal(&everything, now), Err(PinBlocker::PinningNotEnabled));
        let everything = PinFacts { enabled: true, ..everything };
        assert_eq!(pin_refusal(&everything, now), Err(PinBlocker::UnsupportedKind));
        let old_at_the_limit = PinFacts { kind: MomentKind::Video, ..everything };
        assert_eq!(pin_refusal(&old_at_the_limit, now), Err(PinBlocker::TooOld));
        assert_eq!(pin_refusal(&PinFacts { posted_at: now, ..old_at_the_limit }, now), Err(PinBlocker::LimitReached));
        let pinned = PinFacts { is_pinned: true, ..old_at_the_limit };
        assert_eq!(pin_refusal(&pinned, now), Ok(PinAction::KeepPin));
        assert_eq!(
            pin_refusal(&PinFacts { enabled: false, ..pinned }, now),
            Err(PinBlocker::PinningNotEnabled),
            "a user who lost the feature cannot pin again"
        );
    }
}
