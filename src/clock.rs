//! The time the rules are evaluated at. Requests read it once; tests set it to replay a world at a
//! fixed `now` (the visibility vectors are defined at one).

use std::sync::{Arc, RwLock};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// Truncates to whole microseconds, the precision PostgreSQL keeps, so both databases agree on every
/// stored time, cursor and comparison.
pub(crate) fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

/// Where the current time comes from.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    fixed: Option<Arc<RwLock<DateTime<Utc>>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { fixed: None }
    }

    /// A clock that stays at `now` until [`Clock::set`] moves it.
    pub fn fixed(now: DateTime<Utc>) -> Self {
        Self { fixed: Some(Arc::new(RwLock::new(to_micros(now)))) }
    }

    /// Moves a fixed clock; a system clock ignores this.
    pub fn set(&self, now: DateTime<Utc>) {
        if let Some(fixed) = &self.fixed {
            *fixed.write().unwrap_or_else(|e| e.into_inner()) = to_micros(now);
        }
    }

    /// The current time, in microseconds.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            Some(fixed) => *fixed.read().unwrap_or_else(|e| e.into_inner()),
            None => to_micros(Utc::now()),
        }
    }
}
