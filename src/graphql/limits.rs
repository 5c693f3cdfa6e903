//! What one HTTP request may take, shared by every operation of a batch: a budget of content bytes
//! (which each statement also draws on), one password check, and two database statements in flight
//! at a time.
//!
//! The budget bounds memory. Static complexity counts fields, but a field's value can be large (a
//! moment's text is up to 8 KB, its pictures' URLs up to 18 KB) and the size of some lists depends on
//! the data (a user's friends). So every list spends, when its rows arrive, what it holds, and every
//! large text field spends its length when it is resolved; once [`MAX_CONTENT_BYTES`] are spent, the
//! next list or text answers `RESPONSE_TOO_LARGE` instead. Lists check the budget before they query,
//! and at most [`STATEMENTS_IN_FLIGHT`] of a request's statements run at once, so what a request
//! holds is at most the budget, the rows of two queries in flight, and the response built from them.

use std::{
    net::IpAddr,
    sync::atomic::{AtomicU32, AtomicUsize, Ordering},
};

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::{Error, Result};

/// The most content one request may gather: the rows its lists read and the text it answers with.
/// A profile page with 100 pinned moments and a 20-moment timeline page, every moment at the
/// largest size input allows, fits (about 6 MiB); a typical page uses a few dozen kilobytes.
pub const MAX_CONTENT_BYTES: usize = 8 << 20;

/// Statements of one request that may run at the same time; the others wait. Keeps one request
/// with many list fields from taking every connection of the pool.
pub const STATEMENTS_IN_FLIGHT: usize = 2;

/// What each statement a request runs costs of its content budget: the budget then also bounds the
/// statements of one request (3,072 at most), whatever lists of lists it asks for.
pub const STATEMENT_COST_BYTES: usize = 4 * 1024;

/// How many `signIn` or `signUp` fields one request may run (each costs an argon2 computation).
pub const PASSWORD_CHECKS_PER_REQUEST: u32 = 1;

/// The limits of one HTTP request.
#[derive(Debug)]
pub struct RequestLimits {
    spent: AtomicUsize,
    password_checks: AtomicU32,
    statements: Semaphore,
    /// The client's address, as the HTTP layer determined it (for rate limits).
    pub client: Option<IpAddr>,
}

impl RequestLimits {
    /// Fresh limits for a request from `client`.
    pub fn new(client: Option<IpAddr>) -> Self {
        Self {
            spent: AtomicUsize::new(0),
            password_checks: AtomicU32::new(0),
            statements: Semaphore::new(STATEMENTS_IN_FLIGHT),
            client,
        }
    }

    fn too_large() -> Error {
        Error::ResponseTooLarge { limit_mib: MAX_CONTENT_BYTES >> 20 }
    }

    /// Refuses when the budget is already spent: a list asks before it queries.
    pub fn check(&self) -> Result<()> {
        if self.spent.load(Ordering::Relaxed) >= MAX_CONTENT_BYTES { Err(Self::too_large()) } else { Ok(()) }
    }

    /// Spends `bytes` of the budget, or refuses when that would go over it.
    pub fn spend(&self, bytes: usize) -> Result<()> {
        let before = self.spent.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) > MAX_CONTENT_BYTES { Err(Self::too_large()) } else { Ok(()) }
    }

    /// A new budget, for the next event of a subscription (which is answered like a request).
    pub fn renew(&self) {
        self.spent.store(0, Ordering::Relaxed);
    }

    /// Counts a password check; the second of a request is refused.
    pub fn password_check(&self) -> Result<()> {
        if self.password_checks.fetch_add(1, Ordering::Relaxed) < PASSWORD_CHECKS_PER_REQUEST {
            Ok(())
        } else {
            Err(Error::bad_input("one signIn or signUp per request: send the others separately"))
        }
    }

    /// Waits for a turn to run a statement, and refuses when the budget was spent by the time the
    /// turn comes (statements queue behind each other: what one found may spend the budget
    /// another was waiting to use).
    pub async fn statement_turn(&self) -> Result<SemaphorePermit<'_>> {
        self.check()?;
        // The semaphore is never closed.
        let turn = self.statements.acquire().await.expect("the statement semaphore stays open");
        self.spend(STATEMENT_COST_BYTES)?;
        Ok(turn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refuses_what_would_go_over_and_everything_after() {
        let limits = RequestLimits::new(None);
        limits.spend(MAX_CONTENT_BYTES - 10).unwrap();
        limits.check().unwrap();
        assert!(matches!(limits.spend(11), Err(Error::ResponseTooLarge { .. })));
        assert!(limits.check().is_err());
        assert!(limits.spend(1).is_err());
    }

    #[test]
    fn a_request_gets_one_password_check() {
        let limits = RequestLimits::new(None);
        limits.password_check().unwrap();
        assert_eq!(
            limits.password_check().unwrap_err().to_string(),
            "one signIn or signUp per request: send the others separately"
        );
    }
}
