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

use crate::limits::Limits;
use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU32, AtomicUsize, Ordering},
    },
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};

use rules::UserId;

use crate::error::{Error, Result};

/// The most content one request may gather: the rows its lists read and the text it answers with.
/// A profile page with 100 pinned moments and a 20-moment timeline page, every moment at the
/// largest size input allows, fits (about 6 MiB); a typical page uses a few dozen kilobytes.
pub const MAX_CONTENT_BYTES: usize = Limits::DEFAULT.max_content_bytes;

/// Statements of one request that may run at the same time; the others wait. Keeps one request
/// with many list fields from taking every connection of the pool.
pub(crate) const STATEMENTS_IN_FLIGHT: usize = Limits::DEFAULT.statements_in_flight;

/// What each statement a request runs costs of its content budget: the budget then also bounds the
/// statements of one request (3,072 at most), whatever lists of lists it asks for.
pub(crate) const STATEMENT_COST_BYTES: usize = 4 * 1024;

/// How many `signIn` or `signUp` fields one request may run (each costs an argon2 computation).
pub(crate) const PASSWORD_CHECKS_PER_REQUEST: u32 = 1;

/// The most turns one owner (a user, or a client without a token) holds at once: half the
/// machine's cores, at least one. More of their operations wait in their own line, so one user's
/// flood takes at most half the server's processors, and the others wait behind a few of its
/// operations, not all of them. (On two cores, one turn kept the other clients' p99 within 2× of
/// their own while one user sent 160 heavy operations at once; two turns let it reach 5×:
/// docs/benchmarks.md, "Hostile requests".)
pub fn turns_per_owner() -> usize {
    (std::thread::available_parallelism().map_or(2, std::num::NonZero::get) / 2).max(1)
}

/// The server's turns to execute: an operation — over HTTP or a WebSocket — runs only while it
/// holds one, and so does the delivery of each live event (its rechecks, its answer). Each owner
/// first queues in their own line ([`turns_per_owner`] at once), so other clients wait behind at
/// most that many of one client's operations. Events then queue for their own share, at most half
/// of the turns, so that a burst of events (one post seen by thousands of subscriptions) delays a
/// request by the events already running, not by every event still to come.
#[derive(Clone, Debug)]
pub(crate) struct Turns {
    all: Arc<Semaphore>,
    events: Arc<Semaphore>,
    per_owner: usize,
    owners: Arc<Mutex<HashMap<Owner, Arc<Semaphore>>>>,
}

/// Whose line an operation waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Owner {
    /// A signed-in user, over every connection.
    User(UserId),
    /// A client without a (valid) token, by address (an IPv6 address by its /64).
    Address(IpAddr),
}

/// A turn to execute, given back when dropped.
#[derive(Debug)]
pub(crate) struct Turn {
    _all: OwnedSemaphorePermit,
    _event: Option<OwnedSemaphorePermit>,
    _own: OwnTurn,
}

/// An owner's place in their own line; the line is forgotten once no one holds or waits for it.
#[derive(Debug)]
struct OwnTurn {
    permit: Option<OwnedSemaphorePermit>,
    owners: Arc<Mutex<HashMap<Owner, Arc<Semaphore>>>>,
    owner: Owner,
}

impl Drop for OwnTurn {
    fn drop(&mut self) {
        let mut owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        drop(self.permit.take());
        // The map's is the only reference left: no turn holds it, no one waits in it.
        if owners.get(&self.owner).is_some_and(|line| Arc::strong_count(line) == 1) {
            owners.remove(&self.owner);
        }
    }
}

impl Turns {
    /// `most` turns at once (at least one); events may hold half of them (at least one), one owner
    /// `per_owner` (at least one).
    pub(crate) fn new(most: usize, per_owner: usize) -> Self {
        Self {
            all: Arc::new(Semaphore::new(most.max(1))),
            events: Arc::new(Semaphore::new((most / 2).max(1))),
            per_owner: per_owner.max(1),
            owners: Arc::default(),
        }
    }

    /// Waits in `owner`'s line.
    async fn own(&self, owner: Owner) -> OwnTurn {
        // Made first, so dropped last: a wait cancelled before the permit comes still tidies the
        // line once its own reference to it is gone.
        let mut own = OwnTurn { permit: None, owners: self.owners.clone(), owner };
        let line = self
            .owners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(owner)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_owner)))
            .clone();
        own.permit = Some(line.acquire_owned().await.expect("the turns stay open"));
        own
    }

    /// Waits for a turn to run an operation of `owner`.
    pub(crate) async fn operation(&self, owner: Owner) -> Turn {
        let own = self.own(owner).await;
        // The semaphores are never closed.
        Turn { _all: self.all.clone().acquire_owned().await.expect("the turns stay open"), _event: None, _own: own }
    }

    /// Waits for a turn to deliver a live event to `owner`: in their line, then among events, then
    /// among everything.
    pub(crate) async fn event(&self, owner: Owner) -> Turn {
        let own = self.own(owner).await;
        let event = self.events.clone().acquire_owned().await.expect("the turns stay open");
        Turn {
            _all: self.all.clone().acquire_owned().await.expect("the turns stay open"),
            _event: Some(event),
            _own: own,
        }
    }
}

/// The limits of one HTTP request, or of one operation over a WebSocket.
#[derive(Debug)]
pub(crate) struct RequestLimits {
    spent: AtomicUsize,
    password_checks: AtomicU32,
    statements: Semaphore,
    /// The client's address, as the HTTP layer determined it (for rate limits).
    pub client: Option<IpAddr>,
    /// The server's turns and whose line to wait in, for a subscription to take one per event (an
    /// HTTP request holds its one turn in the handler).
    turns: Option<(Turns, Owner)>,
    /// The turn of the event being delivered, kept until its answer is handed over.
    held: Mutex<Option<Turn>>,
}

impl RequestLimits {
    /// Fresh limits for a request from `client`.
    pub(crate) fn new(client: Option<IpAddr>) -> Self {
        Self {
            spent: AtomicUsize::new(0),
            password_checks: AtomicU32::new(0),
            statements: Semaphore::new(STATEMENTS_IN_FLIGHT),
            client,
            turns: None,
            held: Mutex::new(None),
        }
    }

    /// Fresh limits for an operation of `owner` over a WebSocket from `client`, whose events take
    /// `turns`.
    pub(crate) fn live(client: Option<IpAddr>, turns: Turns, owner: Owner) -> Self {
        Self { turns: Some((turns, owner)), ..Self::new(client) }
    }

    /// Waits for a turn to deliver an event (none is needed without turns).
    pub(crate) async fn event_turn(&self) -> Option<Turn> {
        match &self.turns {
            Some((turns, owner)) => Some(turns.event(*owner).await),
            None => None,
        }
    }

    /// Waits for a turn to run an operation over a WebSocket (none is needed without turns).
    pub(crate) async fn operation_turn(&self) -> Option<Turn> {
        match &self.turns {
            Some((turns, owner)) => Some(turns.operation(*owner).await),
            None => None,
        }
    }

    /// Keeps the turn of the event being delivered until [`Self::end_turn`].
    pub(crate) fn keep_turn(&self, turn: Option<Turn>) {
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = turn;
    }

    /// Gives back the turn of the event just delivered.
    pub(crate) fn end_turn(&self) {
        self.held.lock().unwrap_or_else(PoisonError::into_inner).take();
    }

    fn too_large() -> Error {
        Error::ResponseTooLarge { limit_mib: MAX_CONTENT_BYTES >> 20 }
    }

    /// Refuses when the budget is already spent: a list asks before it queries.
    pub(crate) fn check(&self) -> Result<()> {
        if self.spent.load(Ordering::Relaxed) >= MAX_CONTENT_BYTES { Err(Self::too_large()) } else { Ok(()) }
    }

    /// Spends `bytes` of the budget, or refuses when that would go over it.
    pub(crate) fn spend(&self, bytes: usize) -> Result<()> {
        let before = self.spent.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) > MAX_CONTENT_BYTES { Err(Self::too_large()) } else { Ok(()) }
    }

    /// A new budget, for the next event of a subscription (which is answered like a request).
    pub(crate) fn renew(&self) {
        self.spent.store(0, Ordering::Relaxed);
    }

    /// Counts a password check; the second of a request is refused.
    pub(crate) fn password_check(&self) -> Result<()> {
        if self.password_checks.fetch_add(1, Ordering::Relaxed) < PASSWORD_CHECKS_PER_REQUEST {
            Ok(())
        } else {
            Err(Error::bad_input("one signIn or signUp per request: send the others separately"))
        }
    }

    /// Waits for a turn to run a statement, and refuses when the budget was spent by the time the
    /// turn comes (statements queue behind each other: what one found may spend the budget
    /// another was waiting to use).
    pub(crate) async fn statement_turn(&self) -> Result<SemaphorePermit<'_>> {
        self.check()?;
        // The semaphore is never closed.
        let turn = self.statements.acquire().await.expect("the statement semaphore stays open");
        self.spend(STATEMENT_COST_BYTES)?;
        Ok(turn)
    }
}

/// What a subscription's cost is held against while it runs: called once, after validation, with
/// the operation's complexity; an `Err` refuses the subscription with that message before anything
/// runs. What the gate takes it keeps for as long as it lives, which is as long as the
/// subscription (it travels in the request's data).
pub(crate) struct CostGate(pub Box<dyn Fn(usize) -> std::result::Result<(), String> + Send + Sync>);

/// The extension that hands each operation's complexity to the request's [`CostGate`], if it has
/// one. Only the schema that runs subscriptions carries it, so no other request pays for an
/// extension.
pub(super) struct GateCost;

impl async_graphql::extensions::ExtensionFactory for GateCost {
    fn create(&self) -> Arc<dyn async_graphql::extensions::Extension> {
        Arc::new(GateCost)
    }
}

#[async_graphql::async_trait::async_trait]
impl async_graphql::extensions::Extension for GateCost {
    async fn validation(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        next: async_graphql::extensions::NextValidation<'_>,
    ) -> std::result::Result<async_graphql::ValidationResult, Vec<async_graphql::ServerError>> {
        let result = next.run(ctx).await?;
        if let Some(gate) = ctx.data_opt::<CostGate>()
            && let Err(message) = (gate.0)(result.complexity)
        {
            let mut error = async_graphql::ServerError::new(message, None);
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", crate::error::code::GRAPHQL_VALIDATION_FAILED);
            return Err(vec![error]);
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_owner_holds_at_most_their_share_of_the_turns_and_the_others_go_past() {
        let turns = Turns::new(64, 3);
        let flood = Owner::User(1);
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(turns.operation(flood).await);
        }
        // Their next waits in their own line…
        let next = tokio::spawn({
            let turns = turns.clone();
            async move { turns.operation(flood).await }
        });
        tokio::task::yield_now().await;
        assert!(!next.is_finished());
        // …while someone else goes straight through.
        drop(turns.operation(Owner::User(2)).await);
        held.pop();
        drop(next.await.unwrap());
        drop(held);
        assert!(turns.owners.lock().unwrap().is_empty(), "lines no one holds are forgotten");
    }

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
