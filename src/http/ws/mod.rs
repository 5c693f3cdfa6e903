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

mod operation;
mod outbox;

use crate::limits::Limits;
use std::{
    net::IpAddr,
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use async_graphql::futures_util::SinkExt as _;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use chrono::Utc;
use serde_json::{Value, json};
use tokio::{
    sync::{mpsc, oneshot},
    task::JoinSet,
};

use super::{
    serve::ConnectionHold,
    tally::{Share, Tally},
};
use rules::UserId;

use crate::{
    error::code,
    graphql::{
        budget::{Owner, RequestLimits},
        checks,
        subscription::Listening,
    },
    rate_limit::address_key,
};
use operation::{Operation, Operations, Running, error};
pub(crate) use outbox::OUT_BUFFER;
use outbox::{Out, Outbox};

/// The socket's read buffer, and how much is written at most before it goes out: tungstenite's
/// 128 KiB each are sized for bulk transfer, while events are small and sent one at a time.
pub(crate) const SOCKET_BUFFER_BYTES: usize = 8 * 1024;

/// The subprotocol spoken.
pub(crate) const PROTOCOL: &str = "graphql-transport-ws";
/// Operations running at once on one connection; a subscription is one stream.
pub const MAX_OPERATIONS: usize = Limits::DEFAULT.max_operations_per_socket;
/// Open connections of one user on one server.
pub const MAX_CONNECTIONS_PER_USER: usize = Limits::DEFAULT.max_sockets_per_user;
/// Sockets of one client address (an IPv6 address by its /64) that have not sent
/// `connection_init` yet; the next upgrade is refused with 429.
pub const MAX_WAITING_PER_CLIENT: usize = Limits::DEFAULT.max_waiting_sockets_per_client;
/// How long a client may take to send `connection_init`.
pub(crate) const INIT_TIMEOUT: Duration = Limits::DEFAULT.init_timeout;
/// How often the server pings a quiet connection.
pub(crate) const KEEPALIVE: Duration = Duration::from_secs(30);
/// How long a socket the server closes waits for the client's close frame before it lets go.
pub(crate) const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a connection waits for a subscription to start listening, or for a completed
/// operation to stop, before it reads the client's next message anyway.
pub(crate) const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a socket needs of the server: the schemas and the services operations run on, the turns
/// they take, what the sockets share, and the signal of shutdown.
#[derive(Clone)]
pub(crate) struct Live {
    /// The schema queries and mutations run on.
    pub schema: crate::graphql::MomentsSchema,
    /// The schema subscriptions run on (it holds each one's cost against its user's live budget).
    pub live_schema: crate::graphql::MomentsSchema,
    /// The answers' shapes.
    pub shapes: Arc<crate::graphql::answer::Shapes>,
    /// The server's services.
    pub services: crate::services::Services,
    /// The turns every operation takes.
    pub turns: crate::graphql::budget::Turns,
    /// What the sockets share.
    pub edge: LiveEdge,
    /// Cancelled when the server starts shutting down.
    pub closing: tokio_util::sync::CancellationToken,
}

/// What the sockets of a server share: who is waiting to sign in, who is signed in, and what
/// their subscriptions cost.
#[derive(Clone, Debug, Default)]
pub(crate) struct LiveEdge {
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

/// Why a connection ends.
struct Close(u16, &'static str);

/// The signed-in user of a connection.
struct Session {
    record: store::users::UserRecord,
    expires: chrono::DateTime<Utc>,
    _seat: Share<UserId>,
}

/// One upgraded connection.
struct Connection {
    state: Live,
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
    state: Live,
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
        let Some(seat) = self.state.edge.connections.take(user, 1, MAX_CONNECTIONS_PER_USER) else {
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
        let waits = checks::mentions_subscription(&request.query);
        let (tell, told) = Listening::new();
        let user = session.record.id;
        let state = &self.state;
        let operation = Operation {
            schema: state.schema.clone(),
            live_schema: state.live_schema.clone(),
            budgets: state.edge.budgets.clone(),
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
