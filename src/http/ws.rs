//! GraphQL over WebSocket on `/graphql`: the graphql-transport-ws protocol (the `graphql-ws`
//! client's). The token comes in `connection_init`'s payload as `Authorization`; a missing or bad
//! one closes the socket with 4403, a `subscribe` before the acknowledgement with 4401, and the
//! token's expiry closes it too. Every operation is answered like an HTTP one (limits, codes, the
//! spec's form); a subscription's events each get a fresh time and budget.
//!
//! Bounds: [`MAX_SUBSCRIPTIONS`] per connection, [`MAX_CONNECTIONS_PER_USER`] per user, and
//! [`OUT_BUFFER`] messages waiting for a client; a client that lets more pile up is too slow and is
//! closed with 1008, so a connection's memory never grows without bound.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use async_graphql::futures_util::StreamExt as _;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use chrono::Utc;
use serde_json::{Value, json};
use tokio::{sync::mpsc, task::AbortHandle};

use super::HttpState;
use crate::{
    auth::Viewer,
    domain::UserId,
    error::code,
    graphql::{context::RequestContext, document, limits::RequestLimits},
    store,
};

/// The socket's read buffer, and how much is written at most before it goes out: tungstenite's
/// 128 KiB each are sized for bulk transfer, while events are small and sent one at a time.
pub const SOCKET_BUFFER_BYTES: usize = 8 * 1024;

/// The subprotocol spoken.
pub const PROTOCOL: &str = "graphql-transport-ws";
/// Operations running at once on one connection.
pub const MAX_SUBSCRIPTIONS: usize = 20;
/// Open connections of one user on one server.
pub const MAX_CONNECTIONS_PER_USER: usize = 8;
/// Messages waiting for a client before it counts as too slow.
pub const OUT_BUFFER: usize = 256;
/// How long a client may take to send `connection_init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server pings a quiet connection.
pub const KEEPALIVE: Duration = Duration::from_secs(30);

/// Open connections per user, shared by every connection of the server.
#[derive(Debug, Default)]
pub struct Connections(Mutex<HashMap<UserId, usize>>);

/// One user's place among the open connections, given back when dropped.
struct Seat {
    connections: Arc<Connections>,
    user: UserId,
}

impl Connections {
    fn take(self: &Arc<Self>, user: UserId) -> Option<Seat> {
        let mut open = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(user).or_default();
        if *count >= MAX_CONNECTIONS_PER_USER {
            return None;
        }
        *count += 1;
        Some(Seat { connections: self.clone(), user })
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut open = self.connections.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

/// What the operations of a connection hand to its writer.
enum Out {
    /// A message to send.
    Send(String),
    /// Operation `id` is over: its slot is free.
    Done(String),
}

/// Why a connection ends.
struct Close(u16, &'static str);

/// The signed-in user of a connection.
struct Session {
    record: store::users::UserRecord,
    expires: chrono::DateTime<Utc>,
    _seat: Seat,
}

/// Serves one upgraded connection until either side closes it.
pub(super) async fn serve(mut socket: WebSocket, state: HttpState, client: Option<std::net::IpAddr>) {
    let (out, mut outgoing) = mpsc::channel::<Out>(OUT_BUFFER);
    let slow = Arc::new(AtomicBool::new(false));
    let mut session: Option<Session> = None;
    let mut running: HashMap<String, AbortHandle> = HashMap::new();
    let init_deadline = tokio::time::Instant::now() + INIT_TIMEOUT;
    let mut keepalive = tokio::time::interval(KEEPALIVE);
    keepalive.tick().await;
    let close = loop {
        let expiry = async {
            match &session {
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
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break None,
                };
                match handle(&text, &state, client, &mut session, &mut running, &out, &slow).await {
                    Ok(Some(reply)) => {
                        if socket.send(Message::Text(reply.into())).await.is_err() {
                            break None;
                        }
                    }
                    Ok(None) => {}
                    Err(close) => break Some(close),
                }
            }
            Some(message) = outgoing.recv() => match message {
                Out::Send(text) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break None;
                    }
                }
                Out::Done(id) => {
                    running.remove(&id);
                }
            },
            () = expiry => break Some(match session {
                Some(_) => Close(4403, "Forbidden: the token has expired; sign in again"),
                None => Close(4408, "Connection initialisation timeout"),
            }),
            _ = keepalive.tick() => {
                if socket.send(Message::Text(json!({"type": "ping"}).to_string().into())).await.is_err() {
                    break None;
                }
            }
        }
        // A client that fell behind: its buffer filled and an operation could not hand over a message.
        if slow.load(Ordering::Relaxed) {
            break Some(Close(1008, "Consumer too slow: it did not read its messages"));
        }
    };
    for (_, task) in running.drain() {
        task.abort();
    }
    if let Some(Close(code, reason)) = close {
        let frame = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
        let _ = socket.send(Message::Close(Some(frame))).await;
    }
}

/// Handles one client message: a reply to send at once, or the reason to close.
async fn handle(
    text: &str,
    state: &HttpState,
    client: Option<std::net::IpAddr>,
    session: &mut Option<Session>,
    running: &mut HashMap<String, AbortHandle>,
    out: &mpsc::Sender<Out>,
    slow: &Arc<AtomicBool>,
) -> Result<Option<String>, Close> {
    let message: Value = serde_json::from_str(text).map_err(|_| Close(4400, "Invalid message: not JSON"))?;
    match message["type"].as_str() {
        Some("connection_init") => {
            if session.is_some() {
                return Err(Close(4429, "Too many initialisation requests"));
            }
            let payload = &message["payload"];
            let authorization = payload["Authorization"].as_str().or_else(|| payload["authorization"].as_str());
            let services = &state.services;
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
            let Some(seat) = state.connections.take(user) else {
                return Err(Close(4429, "Too many connections for this user: close one first"));
            };
            *session = Some(Session { record, expires, _seat: seat });
            Ok(Some(json!({"type": "connection_ack"}).to_string()))
        }
        Some("ping") => Ok(Some(json!({"type": "pong"}).to_string())),
        Some("pong") => Ok(None),
        Some("subscribe") => {
            let Some(session) = session.as_ref() else {
                return Err(Close(4401, "Unauthorized: send connection_init first"));
            };
            let id = message["id"].as_str().ok_or(Close(4400, "Invalid message: subscribe needs an id"))?.to_owned();
            if running.contains_key(&id) {
                return Err(Close(4409, "Subscriber for this id already exists"));
            }
            if running.len() >= MAX_SUBSCRIPTIONS {
                return Ok(Some(error(
                    &id,
                    "too many operations on this connection: complete one first",
                    code::BAD_USER_INPUT,
                )));
            }
            let mut request: async_graphql::Request = serde_json::from_value(message["payload"].clone())
                .map_err(|_| Close(4400, "Invalid message: the payload is not a GraphQL request"))?;
            if let Some(message) = document::check_request(&mut request) {
                return Ok(Some(error(&id, &message, code::GRAPHQL_VALIDATION_FAILED)));
            }
            let limits = Arc::new(RequestLimits::new(client));
            let context = RequestContext::new(
                &state.services,
                Viewer::User(session.record.id),
                Some(session.record.clone()),
                limits,
            )
            .await;
            let operation = Operation { schema: state.schema.clone(), shapes: state.shapes.clone(), id: id.clone() };
            let task = tokio::spawn(operation.run(request, context, out.clone(), slow.clone()));
            running.insert(id, task.abort_handle());
            Ok(None)
        }
        Some("complete") => {
            if let Some(task) = message["id"].as_str().and_then(|id| running.remove(id)) {
                task.abort();
            }
            Ok(None)
        }
        _ => Err(Close(4400, "Invalid message: unknown type")),
    }
}

/// An `error` message: the operation never ran.
fn error(id: &str, message: &str, code: &str) -> String {
    let (id, message, code) = (Value::from(id), Value::from(message), Value::from(code));
    format!(r#"{{"id":{id},"type":"error","payload":[{{"message":{message},"extensions":{{"code":{code}}}}}]}}"#)
}

/// One operation of a connection, and what answering it needs.
struct Operation {
    schema: crate::graphql::MomentsSchema,
    shapes: Arc<crate::graphql::answer::Shapes>,
    id: String,
}

impl Operation {
    /// Runs the operation: every answer as a `next` message, then `complete`. A full buffer drops
    /// the answer, and the connection closes as too slow.
    async fn run(
        self,
        mut request: async_graphql::Request,
        context: RequestContext,
        out: mpsc::Sender<Out>,
        slow: Arc<AtomicBool>,
    ) {
        let Self { schema, shapes, id } = self;
        let quoted_id = Value::String(id.clone()).to_string();
        let prepared = shapes.prepare(&mut request);
        let mut answers = schema.execute_stream(request.data(context));
        while let Some(response) = answers.next().await {
            let answer = shapes.answer(super::with_codes(response), prepared.as_ref());
            // Written as text, not through `serde_json::Value`, whose maps would sort the answer's keys.
            let payload = match serde_json::to_string(&answer) {
                Ok(payload) => payload,
                Err(e) => {
                    crate::error::log_internal(&anyhow::anyhow!("serialising an answer: {e}").into());
                    break;
                }
            };
            let message = format!(r#"{{"id":{quoted_id},"type":"next","payload":{payload}}}"#);
            if out.try_send(Out::Send(message)).is_err() {
                slow.store(true, Ordering::Relaxed);
                // Wake the connection so it closes now, not at its next message.
                let _ = out.send(Out::Done(id)).await;
                return;
            }
        }
        let _ = out.try_send(Out::Send(format!(r#"{{"id":{quoted_id},"type":"complete"}}"#)));
        let _ = out.send(Out::Done(id)).await;
    }
}
