//! GraphQL over WebSocket on `/graphql`: the graphql-transport-ws protocol (the `graphql-ws`
//! client's). The token comes in `connection_init`'s payload as `Authorization`; a missing or bad
//! one closes the socket with 4403, a `subscribe` before the acknowledgement with 4401, and the
//! token's expiry closes it too. Every operation is answered like an HTTP one (limits, codes, the
//! spec's form); a subscription's events each get a fresh time and budget.
//!
//! The socket is held to what HTTP is held to, and to a few limits of its own:
//! - it keeps its connection's place (the server's connection slots, its client's share of them)
//!   for as long as it is open, and at most [`MAX_WAITING_PER_CLIENT`] sockets of one client may
//!   be waiting to send `connection_init`;
//! - every operation runs in one of the server's turns (`MOMENTS_MAX_CONCURRENT_REQUESTS`), and so
//!   does the delivery of every event;
//! - a connection runs at most [`MAX_OPERATIONS`] operations at once, each subscription one stream
//!   (the spec's single root field), and a user's live subscriptions together cost at most
//!   [`LIVE_BUDGET_PER_USER`] (complexity, counted as for any operation), on at most
//!   [`MAX_CONNECTIONS_PER_USER`] connections;
//! - at most [`OUT_BUFFER`] messages, and past the one being handed over at most
//!   [`OUT_BUFFER_BYTES`], wait for a client; a client that lets more pile up is too slow and is
//!   closed with 1008, so a socket holds about what an HTTP connection holds with its answer.
//!
//! A connection handles its client's messages in order, each once the last is done with: a
//! `subscribe` once the subscription listens (or has failed), a `complete` once the operation has
//! stopped and given back what it held. So a `ping` sent after them is answered after whatever
//! they caused, and its `pong` tells the client that its subscription hears changes.
//!
//! Closing is a handshake both ways: a client's close frame is answered, and the server closes
//! with 1001 when it shuts down.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_graphql::{
    futures_util::{SinkExt as _, StreamExt as _},
    parser::types::OperationType,
};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use chrono::Utc;
use serde_json::{Value, json};
use tokio::{
    sync::{mpsc, oneshot},
    task::{AbortHandle, JoinSet},
};

use super::{
    HttpState,
    serve::ConnectionHold,
    tally::{Share, Tally},
};
use crate::{
    auth::Viewer,
    domain::UserId,
    error::code,
    graphql::{
        MAX_COMPLEXITY,
        context::RequestContext,
        document,
        limits::{CostGate, Owner, RequestLimits},
        subscription::Listening,
    },
    rate_limit::address_key,
    store,
};

/// The socket's read buffer, and how much is written at most before it goes out: tungstenite's
/// 128 KiB each are sized for bulk transfer, while events are small and sent one at a time.
pub const SOCKET_BUFFER_BYTES: usize = 8 * 1024;

/// The subprotocol spoken.
pub const PROTOCOL: &str = "graphql-transport-ws";
/// Operations running at once on one connection; a subscription is one stream.
pub const MAX_OPERATIONS: usize = 20;
/// Open connections of one user on one server.
pub const MAX_CONNECTIONS_PER_USER: usize = 8;
/// Sockets of one client address (an IPv6 address by its /64) that have not sent
/// `connection_init` yet; the next upgrade is refused with 429.
pub const MAX_WAITING_PER_CLIENT: usize = 8;
/// What a user's live subscriptions may cost together, on one server: the complexity one request
/// may have. A change then costs the server at most one largest request's work for each user
/// who watches it, however many subscriptions they open.
pub const LIVE_BUDGET_PER_USER: usize = MAX_COMPLEXITY;
/// Messages waiting for a client before it counts as too slow.
pub const OUT_BUFFER: usize = 256;
/// Bytes of messages waiting for a client past which the next makes it too slow (one answer is
/// always taken, however large: it is bounded by the content budget, as over HTTP).
pub const OUT_BUFFER_BYTES: usize = 256 * 1024;
/// How long a client may take to send `connection_init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server pings a quiet connection.
pub const KEEPALIVE: Duration = Duration::from_secs(30);
/// How long a socket the server closes waits for the client's close frame before it lets go.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a connection waits for a subscription to start listening, or for a completed
/// operation to stop, before it reads the client's next message anyway.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the sockets of a server share: who is waiting to sign in, who is signed in, and what
/// their subscriptions cost.
#[derive(Clone, Debug, Default)]
pub struct LiveEdge {
    waiting: Arc<Tally<IpAddr>>,
    connections: Arc<Tally<UserId>>,
    budgets: Arc<Tally<UserId>>,
}

impl LiveEdge {
    /// A place for a new socket of `client` among those waiting for `connection_init`, if the
    /// client has one left.
    pub(super) fn admit(&self, client: Option<IpAddr>) -> Option<Share<IpAddr>> {
        let key = client.map_or(IpAddr::from([0, 0, 0, 0]), address_key);
        self.waiting.take(key, 1, MAX_WAITING_PER_CLIENT)
    }
}

/// What the operations of a connection hand to its writer.
enum Out {
    /// A message to send.
    Send(String),
    /// Operation `id`, run by task `task`, is over: its place is free (if it is still that task's),
    /// then its last message, if any, goes out — in that order, so a client told `complete` may
    /// reuse the id at once.
    Last { id: String, task: tokio::task::Id, message: Option<String> },
}

/// Where a connection's operations leave their messages for its writer, and what counts them.
#[derive(Clone)]
struct Outbox {
    sender: mpsc::Sender<Out>,
    /// Bytes handed over and not yet written.
    waiting: Arc<AtomicUsize>,
    /// Set when a message could not be handed over: the client is too slow.
    slow: Arc<AtomicBool>,
}

impl Outbox {
    /// Hands over an answer at once; false, and the client marked too slow, when too much waits
    /// for it already.
    fn offer(&self, text: String) -> bool {
        let bytes = text.len();
        if self.waiting.load(Ordering::Relaxed) >= OUT_BUFFER_BYTES {
            self.slow.store(true, Ordering::Relaxed);
            return false;
        }
        self.waiting.fetch_add(bytes, Ordering::Relaxed);
        if self.sender.try_send(Out::Send(text)).is_err() {
            self.waiting.fetch_sub(bytes, Ordering::Relaxed);
            self.slow.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// An operation's last word (its `complete` or `error`, or nothing), waiting for room: the
    /// connection learns the operation is over.
    async fn last(&self, id: String, task: tokio::task::Id, message: Option<String>) {
        let bytes = message.as_ref().map_or(0, String::len);
        self.waiting.fetch_add(bytes, Ordering::Relaxed);
        if self.sender.send(Out::Last { id, task, message }).await.is_err() {
            self.waiting.fetch_sub(bytes, Ordering::Relaxed);
        }
    }

    fn is_slow(&self) -> bool {
        self.slow.load(Ordering::Relaxed)
    }
}

/// Why a connection ends.
struct Close(u16, &'static str);

/// A running operation: its task, and what tells when that task is gone (its future dropped, with
/// everything the operation held).
struct Running {
    task: AbortHandle,
    gone: oneshot::Receiver<()>,
}

/// The running operations of a connection, by the client's ids. An id is the client's to reuse
/// once its operation is complete, so an operation that ends frees its place only if the place is
/// still its own (the task's id says so), never a newer operation's under the same id.
#[derive(Default)]
struct Operations(HashMap<String, Running>);

impl Operations {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn has(&self, id: &str) -> bool {
        self.0.contains_key(id)
    }

    fn start(&mut self, id: String, running: Running) {
        self.0.insert(id, running);
    }

    /// The client completes `id`: whatever runs under it now.
    fn complete(&mut self, id: &str) -> Option<Running> {
        self.0.remove(id)
    }

    /// Task `task`, which ran `id`, is ending: its place, if the place is still its own.
    fn ended(&mut self, id: &str, task: tokio::task::Id) -> Option<Running> {
        if self.0.get(id).is_some_and(|running| running.task.id() == task) { self.0.remove(id) } else { None }
    }

    /// Task `task` is gone without saying so: whatever place it still has.
    fn vanished(&mut self, task: tokio::task::Id) {
        self.0.retain(|_, running| running.task.id() != task);
    }
}

/// The signed-in user of a connection.
struct Session {
    record: store::users::UserRecord,
    expires: chrono::DateTime<Utc>,
    _seat: Share<UserId>,
}

/// One upgraded connection.
struct Connection {
    state: HttpState,
    client: Option<IpAddr>,
    session: Option<Session>,
    /// The client's place among the sockets waiting for `connection_init`, until it is sent.
    waiting: Option<Share<IpAddr>>,
    /// The running operations by id.
    operations: Operations,
    /// Every task of the connection: dropping it, when the connection ends, aborts them all.
    tasks: JoinSet<()>,
    outbox: Outbox,
}

/// Serves one upgraded connection until either side closes it. `hold` is the connection's place
/// among all connections, kept until the socket closes.
pub(super) async fn serve(
    mut socket: WebSocket,
    state: HttpState,
    client: Option<IpAddr>,
    hold: Option<ConnectionHold>,
    waiting: Share<IpAddr>,
) {
    let (sender, mut outgoing) = mpsc::channel::<Out>(OUT_BUFFER);
    let closing = state.closing.clone();
    let mut connection = Connection {
        state,
        client,
        session: None,
        waiting: Some(waiting),
        operations: Operations::default(),
        tasks: JoinSet::new(),
        outbox: Outbox { sender, waiting: Arc::default(), slow: Arc::default() },
    };
    let init_deadline = tokio::time::Instant::now() + INIT_TIMEOUT;
    let mut keepalive = tokio::time::interval(KEEPALIVE);
    keepalive.tick().await;
    let close = loop {
        let expiry = async {
            match &connection.session {
                Some(s) => {
                    let left = (s.expires - Utc::now()).to_std().unwrap_or_default();
                    tokio::time::sleep(left).await;
                }
                None => tokio::time::sleep_until(init_deadline).await,
            }
        };
        tokio::select! {
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_))) => break Some(Close(4400, "messages are JSON text")),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    // The client closes: its close frame is answered (the reply is queued when the
                    // frame is read, and goes out with the flush of closing).
                    Some(Ok(Message::Close(_))) => {
                        let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.close()).await;
                        break None;
                    }
                    Some(Err(_)) | None => break None,
                };
                let reply = match connection.handle(&text).await {
                    Ok(reply) => reply,
                    Err(close) => break Some(close),
                };
                // What the message's operations said while it was handled goes first.
                let mut sent = true;
                while let Ok(message) = outgoing.try_recv() {
                    sent = sent && connection.deliver(&mut socket, message).await;
                }
                if let Some(reply) = reply {
                    sent = sent && socket.send(Message::Text(reply.into())).await.is_ok();
                }
                if !sent {
                    break None;
                }
            }
            Some(message) = outgoing.recv() => {
                if !connection.deliver(&mut socket, message).await {
                    break None;
                }
            }
            Some(ended) = connection.tasks.join_next_with_id() => {
                // A task that ended without saying so (it panicked): its place is free. (One the
                // client completed was aborted, and is not a failure.)
                let task = match &ended {
                    Ok((task, ())) => *task,
                    Err(e) => {
                        if e.is_panic() {
                            crate::error::log_internal(&anyhow::anyhow!("a WebSocket operation failed: {e}").into());
                        }
                        e.id()
                    }
                };
                connection.operations.vanished(task);
            }
            () = expiry => break Some(match connection.session {
                Some(_) => Close(4403, "Forbidden: the token has expired; sign in again"),
                None => Close(4408, "Connection initialisation timeout"),
            }),
            () = closing.cancelled() => break Some(Close(1001, "the server is shutting down")),
            _ = keepalive.tick() => {
                if socket.send(Message::Text(json!({"type": "ping"}).to_string().into())).await.is_err() {
                    break None;
                }
            }
        }
        // A client that fell behind: its buffer filled and an operation could not hand over a message.
        if connection.outbox.is_slow() {
            break Some(Close(1008, "Consumer too slow: it did not read its messages"));
        }
    };
    // Every operation stops with the connection, whatever state it was in.
    drop(connection);
    if let Some(Close(code, reason)) = close {
        let frame = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
        if socket.send(Message::Close(Some(frame))).await.is_ok() {
            // The client answers with its own close frame; what it sent before is read and dropped,
            // so the connection ends with the handshake rather than a reset.
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
                while let Some(Ok(message)) = socket.recv().await {
                    if matches!(message, Message::Close(_)) {
                        break;
                    }
                }
            })
            .await;
        }
    }
    drop(hold);
}

impl Connection {
    /// Handles one client message: a reply to send at once, or the reason to close.
    async fn handle(&mut self, text: &str) -> Result<Option<String>, Close> {
        let message: Value = serde_json::from_str(text).map_err(|_| Close(4400, "Invalid message: not JSON"))?;
        match message["type"].as_str() {
            Some("connection_init") => self.init(&message["payload"]).await,
            Some("ping") => Ok(Some(json!({"type": "pong"}).to_string())),
            Some("pong") => Ok(None),
            Some("subscribe") => self.subscribe(&message).await,
            Some("complete") => {
                if let Some(running) = message["id"].as_str().and_then(|id| self.operations.complete(id)) {
                    running.task.abort();
                    // Stopped, with what it held given back, before the next message is read.
                    let _ = tokio::time::timeout(SETTLE_TIMEOUT, running.gone).await;
                }
                Ok(None)
            }
            _ => Err(Close(4400, "Invalid message: unknown type")),
        }
    }

    async fn init(&mut self, payload: &Value) -> Result<Option<String>, Close> {
        if self.session.is_some() {
            return Err(Close(4429, "Too many initialisation requests"));
        }
        let authorization = payload["Authorization"].as_str().or_else(|| payload["authorization"].as_str());
        let services = &self.state.services;
        let Ok(Some((user, expires))) = services.keys.session_of(authorization) else {
            return Err(Close(4403, "Forbidden: send a valid token as Authorization in connection_init"));
        };
        let record = match store::users::by_id(&services.db.read, user).await {
            Ok(Some(record)) => record,
            Ok(None) => return Err(Close(4403, "Forbidden: the token's user does not exist here")),
            Err(e) => {
                crate::error::log_internal(&e);
                return Err(Close(1011, "Internal error"));
            }
        };
        let Some(seat) = self.state.live.connections.take(user, 1, MAX_CONNECTIONS_PER_USER) else {
            return Err(Close(4429, "Too many connections for this user: close one first"));
        };
        self.session = Some(Session { record, expires, _seat: seat });
        self.waiting = None;
        Ok(Some(json!({"type": "connection_ack"}).to_string()))
    }

    /// Sends what an operation handed over: false when the socket is gone.
    async fn deliver(&mut self, socket: &mut WebSocket, message: Out) -> bool {
        let text = match message {
            Out::Send(text) => Some(text),
            Out::Last { id, task, message } => {
                // Only the operation's own place: a newer one may have taken the id since. Its task
                // is ending (this was its last word): once it is gone, with what it held, the
                // client may reuse the id and the budget.
                if let Some(running) = self.operations.ended(&id, task) {
                    let _ = tokio::time::timeout(SETTLE_TIMEOUT, running.gone).await;
                }
                message
            }
        };
        match text {
            Some(text) => {
                let bytes = text.len();
                let sent = socket.send(Message::Text(text.into())).await.is_ok();
                self.outbox.waiting.fetch_sub(bytes, Ordering::Relaxed);
                sent
            }
            None => true,
        }
    }

    async fn subscribe(&mut self, message: &Value) -> Result<Option<String>, Close> {
        let Some(session) = self.session.as_ref() else {
            return Err(Close(4401, "Unauthorized: send connection_init first"));
        };
        let id = message["id"].as_str().ok_or(Close(4400, "Invalid message: subscribe needs an id"))?.to_owned();
        if self.operations.has(&id) {
            return Err(Close(4409, "Subscriber for this id already exists"));
        }
        if self.operations.len() >= MAX_OPERATIONS {
            return Ok(Some(error(
                &id,
                "too many operations on this connection: complete one first",
                code::BAD_USER_INPUT,
            )));
        }
        let request: async_graphql::Request = serde_json::from_value(message["payload"].clone())
            .map_err(|_| Close(4400, "Invalid message: the payload is not a GraphQL request"))?;
        // The operation is parsed and checked in its task, in its turn; a subscription is waited
        // for (listening, or refused) before the next message is read.
        let waits = document::mentions_subscription(&request.query);
        let (tell, told) = Listening::new();
        let user = session.record.id;
        let state = &self.state;
        let operation = Operation {
            schema: state.schema.clone(),
            live_schema: state.live_schema.clone(),
            budgets: state.live.budgets.clone(),
            shapes: state.shapes.clone(),
            id: id.clone(),
            record: session.record.clone(),
            services: state.services.clone(),
            limits: Arc::new(RequestLimits::live(self.client, state.turns.clone(), Owner::User(user))),
        };
        let (gone_tx, gone) = oneshot::channel();
        let task = self.tasks.spawn(operation.run(request, tell, self.outbox.clone(), gone_tx));
        self.operations.start(id, Running { task, gone });
        if waits {
            let _ = tokio::time::timeout(SETTLE_TIMEOUT, told).await;
        }
        Ok(None)
    }
}

/// Whether the operation a request selects is a subscription (one that does not parse is not:
/// it is answered with its syntax error).
fn is_subscription(request: &mut async_graphql::Request) -> bool {
    let name = request.operation_name.clone();
    request.parsed_query().is_ok_and(|document| {
        document.operations.iter().any(|(n, op)| {
            name.as_deref().is_none_or(|wanted| n.is_some_and(|n| n.as_str() == wanted))
                && op.node.ty == OperationType::Subscription
        })
    })
}

/// The gate a subscription of `user` passes once validated: its complexity is taken from the
/// user's live budget for as long as it runs, or it is refused.
fn cost_gate(budgets: Arc<Tally<UserId>>, user: UserId) -> CostGate {
    let held = Mutex::new(None);
    CostGate(Box::new(move |cost| match budgets.take(user, cost, LIVE_BUDGET_PER_USER) {
        Some(share) => {
            *held.lock().unwrap_or_else(PoisonError::into_inner) = Some(share);
            Ok(())
        }
        None => Err(format!(
            "your live subscriptions may cost {LIVE_BUDGET_PER_USER} together and hold {} now; this one costs {cost}: complete one first",
            budgets.held(user)
        )),
    }))
}

/// An `error` message: the operation never ran.
fn error(id: &str, message: &str, code: &str) -> String {
    let (id, message, code) = (Value::from(id), Value::from(message), Value::from(code));
    format!(r#"{{"id":{id},"type":"error","payload":[{{"message":{message},"extensions":{{"code":{code}}}}}]}}"#)
}

/// One operation of a connection, and what answering it needs.
struct Operation {
    schema: crate::graphql::MomentsSchema,
    /// The schema subscriptions run on.
    live_schema: crate::graphql::MomentsSchema,
    /// What the users' subscriptions cost, against their budgets.
    budgets: Arc<Tally<UserId>>,
    shapes: Arc<crate::graphql::answer::Shapes>,
    id: String,
    record: store::users::UserRecord,
    services: crate::app::Services,
    limits: Arc<RequestLimits>,
}

impl Operation {
    /// Runs the operation: an `error` message when it is refused before it runs, else every answer
    /// as a `next` message, then `complete`. A full buffer drops the answer, and the connection
    /// closes as too slow.
    async fn run(
        self,
        mut request: async_graphql::Request,
        listening: Listening,
        outbox: Outbox,
        // Dropped with this future, whether it ends or is aborted: its connection learns it is gone.
        _gone: oneshot::Sender<()>,
    ) {
        let Self { schema, live_schema, budgets, shapes, id, record, services, limits } = self;
        let task = tokio::task::id();
        let quoted_id = Value::String(id.clone()).to_string();
        // Every operation waits for its turn before it is parsed, validated or touches the
        // database, as over HTTP; a query's or mutation's turn ends with its answer, a
        // subscription's once it listens (each event then takes its own).
        limits.keep_turn(limits.operation_turn().await);
        if let Some(message) = document::check_request(&mut request) {
            limits.end_turn();
            outbox.last(id.clone(), task, Some(error(&id, &message, code::GRAPHQL_VALIDATION_FAILED))).await;
            return;
        }
        let schema = if is_subscription(&mut request) {
            request = request.data(cost_gate(budgets, record.id)).data(listening);
            live_schema
        } else {
            listening.tell();
            schema
        };
        let context = RequestContext::new(&services, Viewer::User(record.id), Some(record), limits.clone()).await;
        let prepared = shapes.prepare(&mut request);
        let mut answers = schema.execute_stream(request.data(context));
        let mut first = true;
        while let Some(response) = answers.next().await {
            let answer = shapes.answer(super::with_codes(response), prepared.as_ref());
            if std::mem::take(&mut first) && refused(&answer) {
                limits.end_turn();
                let errors = serde_json::to_string(&answer.errors).unwrap_or_else(|_| "[]".to_owned());
                let message = format!(r#"{{"id":{quoted_id},"type":"error","payload":{errors}}}"#);
                outbox.last(id, task, Some(message)).await;
                return;
            }
            // Written as text, not through `serde_json::Value`, whose maps would sort the answer's keys.
            let payload = match serde_json::to_string(&answer) {
                Ok(payload) => payload,
                Err(e) => {
                    crate::error::log_internal(&anyhow::anyhow!("serialising an answer: {e}").into());
                    break;
                }
            };
            let message = format!(r#"{{"id":{quoted_id},"type":"next","payload":{payload}}}"#);
            let handed = outbox.offer(message);
            limits.end_turn();
            if !handed {
                // Wake the connection so it closes now, not at its next message.
                outbox.last(id, task, None).await;
                return;
            }
        }
        let complete = format!(r#"{{"id":{quoted_id},"type":"complete"}}"#);
        outbox.last(id, task, Some(complete)).await;
    }
}

/// Whether an answer refuses the operation before it ran (syntax, validation, a limit): the
/// protocol's `error` message rather than a `next`.
fn refused(answer: &crate::graphql::answer::Answer) -> bool {
    answer.data.is_none()
        && !answer.errors.is_empty()
        && answer.errors.iter().all(|e| {
            e.extensions.as_ref().and_then(|x| x.get("code"))
                == Some(&async_graphql::Value::String(code::GRAPHQL_VALIDATION_FAILED.to_owned()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task that waits until aborted, and its place.
    fn running(tasks: &mut JoinSet<()>) -> (Running, tokio::task::Id) {
        let (_gone_tx, gone) = oneshot::channel();
        let task = tasks.spawn(std::future::pending());
        let id = task.id();
        (Running { task, gone }, id)
    }

    #[tokio::test]
    async fn an_operation_that_ends_frees_only_its_own_place_under_a_reused_id() {
        let mut tasks = JoinSet::new();
        let mut operations = Operations::default();
        let (query, query_task) = running(&mut tasks);
        operations.start("x".into(), query);
        // The client completes "x" as its query ends by itself, and names a subscription "x".
        assert!(operations.complete("x").is_some());
        let (subscription, subscription_task) = running(&mut tasks);
        operations.start("x".into(), subscription);
        // The query's end, told only now, leaves the subscription where it is.
        assert!(operations.ended("x", query_task).is_none());
        operations.vanished(query_task);
        assert_eq!(operations.len(), 1);
        assert!(operations.has("x"));
        assert!(operations.ended("x", subscription_task).is_some());
        assert_eq!(operations.len(), 0);
        // Every task goes with the connection.
        let (left, _) = running(&mut tasks);
        drop(tasks);
        tokio::task::yield_now().await;
        assert!(left.task.is_finished());
    }
}
