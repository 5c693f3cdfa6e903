//! A graphql-transport-ws client for the tests: one connection to a real server, read message by
//! message.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest as _},
};

use chrono::Utc;

use crate::{
    binary::{Server, token},
    helpers::TestApp,
};

/// The subscription most tests open: kind, id and the moment's text and pin.
pub const EVENT: &str =
    "subscription($h: String!) { profileChanged(handle: $h) { kind momentId moment { text isPinned } } }";

/// One graphql-transport-ws connection.
pub struct Live {
    /// The socket.
    pub socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Live {
    pub async fn connect(server: &Server) -> Self {
        let mut request = format!("ws://{}/graphql", server.address).into_client_request().unwrap();
        request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
        let (socket, response) = connect_async(request).await.unwrap();
        assert_eq!(response.headers()["sec-websocket-protocol"], "graphql-transport-ws");
        Self { socket }
    }

    pub async fn send(&mut self, message: Value) {
        self.socket.send(Message::Text(message.to_string().into())).await.unwrap();
    }

    /// The next text message or close, within five seconds (server pings are answered and skipped).
    pub async fn next(&mut self) -> Option<Message> {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(5), self.socket.next()).await.ok()??.ok()?;
            match &message {
                Message::Text(text) if text.as_str() == r#"{"type":"ping"}"# => {
                    self.send(json!({"type": "pong"})).await;
                }
                Message::Ping(_) | Message::Pong(_) => {}
                _ => return Some(message),
            }
        }
    }

    pub async fn text(&mut self) -> String {
        match self.next().await {
            Some(Message::Text(text)) => text.to_string(),
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// Signs in with `token`, which must be accepted.
    pub async fn init(server: &Server, token: &str) -> Self {
        let mut live = Self::connect(server).await;
        live.send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}})).await;
        assert_eq!(live.text().await, r#"{"type":"connection_ack"}"#);
        live
    }

    /// Sends a ping and reads up to its pong: every message before it, in order. The server
    /// handles a connection's messages in order, a `subscribe` once the subscription listens (or
    /// was refused) and a `complete` once the operation is gone, so after `sync` every earlier
    /// message of the client has taken effect.
    pub async fn sync(&mut self) -> Vec<String> {
        self.send(json!({"type": "ping"})).await;
        let mut before = Vec::new();
        loop {
            let text = self.text().await;
            if text == r#"{"type":"pong"}"# {
                return before;
            }
            before.push(text);
        }
    }

    /// Sends `subscribe` with `query` under `id`.
    pub async fn start(&mut self, id: &str, query: &str) {
        self.send(json!({"id": id, "type": "subscribe", "payload": {"query": query}})).await;
    }

    pub async fn subscribe(&mut self, id: &str, handle: &str) {
        self.send(json!({"id": id, "type": "subscribe", "payload": {"query": EVENT, "variables": {"h": handle}}}))
            .await;
    }

    /// Nothing arrives for a while.
    pub async fn silent(&mut self) {
        match tokio::time::timeout(Duration::from_millis(700), self.socket.next()).await {
            Err(_) => {}
            Ok(message) => panic!("expected nothing, got {message:?}"),
        }
    }

    pub async fn closed(&mut self) -> (u16, String) {
        match self.next().await {
            Some(Message::Close(Some(frame))) => (frame.code.into(), frame.reason.to_string()),
            other => panic!("expected a close, got {other:?}"),
        }
    }
}

/// The `next` message an event of `moment` (its text) makes on subscription `id`.
/// (Written out: the keys come in the order of the selection, as the spec says.)
pub fn event(id: &str, kind: &str, moment_id: &str, text: &str, pinned: bool) -> String {
    format!(
        r#"{{"id":"{id}","type":"next","payload":{{"data":{{"profileChanged":{{"kind":"{kind}","momentId":"{moment_id}","moment":{{"text":"{text}","isPinned":{pinned}}}}}}}}}}}"#
    )
}

/// The `next` message of an event that names no moment (`VIEW_CHANGED`, `RESYNC`).
pub fn bare(id: &str, kind: &str) -> String {
    format!(
        r#"{{"id":"{id}","type":"next","payload":{{"data":{{"profileChanged":{{"kind":"{kind}","momentId":null,"moment":null}}}}}}}}"#
    )
}

/// The `next` message of a `REMOVED` event.
pub fn removed(id: &str, moment_id: &str) -> String {
    format!(
        r#"{{"id":"{id}","type":"next","payload":{{"data":{{"profileChanged":{{"kind":"REMOVED","momentId":"{moment_id}","moment":null}}}}}}}}"#
    )
}

/// A user's global id.
pub async fn user_id(app: &TestApp, handle: &str) -> String {
    moments::ids::encode(moments::ids::NodeKind::User, app.id_of(handle).await)
}

pub const WORLD: &str = r#"{"type":"user","handle":"ann","displayName":"Ann"}
{"type":"user","handle":"fay","displayName":"Fay"}
{"type":"user","handle":"gus","displayName":"Gus"}
{"type":"user","handle":"sam","displayName":"Sam"}
{"type":"friendship","users":["ann","fay"]}
{"type":"friendship","users":["ann","gus"]}
{"type":"settings","user":"ann","strangersCanView":true}
{"type":"moment","ref":"pub","author":"ann","text":"public","images":[{"url":"https://img.example/1.jpg"}]}
{"type":"moment","ref":"own","author":"ann","text":"private","images":[{"url":"https://img.example/2.jpg"}],"audience":{"mode":"PRIVATE"}}
{"type":"moment","ref":"fam","author":"ann","text":"for fay","images":[{"url":"https://img.example/3.jpg"}],"audience":{"mode":"INCLUDE","users":["fay"]}}
{"type":"moment","ref":"more","author":"ann","text":"more","images":[{"url":"https://img.example/4.jpg"}]}"#;

/// The world above, served by a real server; the global ids of ann's moments by text.
pub async fn world() -> (TestApp, Server, impl Fn(&str) -> String) {
    world_with(&[]).await
}

/// The world above, served by a real server with `env` set; the global ids of ann's moments by text.
pub async fn world_with(env: &[(&str, &str)]) -> (TestApp, Server, impl Fn(&str) -> String) {
    let app = TestApp::spawn().await;
    app.import(WORLD).await;
    let server = Server::start(&app.database_url, env);
    let id_of = ids_by_text(&server, &token(&app.database_url, "ann")).await;
    (app, server, id_of)
}

/// The global ids of ann's moments by text, as she sees them.
pub async fn ids_by_text(server: &Server, ann: &str) -> impl Fn(&str) -> String + use<> {
    let answer =
        server.gql(ann, r#"{ profile(handle: "ann") { timeline(first: 20) { nodes { id text } } } }"#, json!({})).await;
    let ids: Vec<(String, String)> = answer["data"]["profile"]["timeline"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["text"].as_str().unwrap().to_owned(), m["id"].as_str().unwrap().to_owned()))
        .collect();
    move |text: &str| ids.iter().find(|(t, _)| t == text).unwrap().1.clone()
}

/// The world above with one more public moment of ann's, posted two months before now (the
/// server's clock is the system's), and the others posted now.
pub async fn world_with_an_old_moment() -> (TestApp, Server, impl Fn(&str) -> String) {
    let app = TestApp::spawn().await;
    app.clock.set(Utc::now());
    let posted = (Utc::now() - chrono::Duration::days(60)).to_rfc3339();
    let old = json!({"type": "moment", "ref": "old", "author": "ann", "text": "old", "postedAt": posted,
        "images": [{"url": "https://img.example/5.jpg"}]});
    app.import(&format!("{WORLD}\n{old}")).await;
    let server = Server::start(&app.database_url, &[]);
    let id_of = ids_by_text(&server, &token(&app.database_url, "ann")).await;
    (app, server, id_of)
}

pub async fn pin(server: &Server, token: &str, id: &str) {
    let answer =
        server.gql(token, "mutation($m: ID!) { pin(momentId: $m) { moment { isPinned } } }", json!({"m": id})).await;
    assert_eq!(answer, json!({"data": {"pin": {"moment": {"isPinned": true}}}}));
}

/// A sentinel change: ann posts a public text moment `text`, and each of `watchers` (a connection
/// and the id of its subscription to ann) must hear of it next. A subscription's events come in the
/// order of the changes, so whatever changed before reached none of them unheard of. The moment's
/// id.
pub async fn sentinel(server: &Server, ann: &str, text: &str, watchers: &mut [(&mut Live, &str)]) -> String {
    let post = "mutation($t: String!) { postMoment(input: { text: $t }) { moment { id } } }";
    let posted = server.gql(ann, post, json!({"t": text})).await;
    let id = posted["data"]["postMoment"]["moment"]["id"].as_str().unwrap().to_owned();
    for (live, subscription) in watchers.iter_mut() {
        assert_eq!(live.text().await, event(subscription, "POSTED", &id, text, false));
    }
    id
}
