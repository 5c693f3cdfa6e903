//! Serving connections with bounds on what a slow or silent client can hold: a deadline for each
//! request's headers (which also closes a keep-alive connection left idle), deadlines for a
//! response the client does not take or takes at a trickle (`http::stream`), a limit on
//! connections served at once and on those of one client, a cap on the buffer a connection may
//! fill, and a bounded drain on shutdown. The request body's deadline is the GraphQL handler's
//! (`http::request`). HTTP/1.1 only: TLS and HTTP/2 belong to the proxy in front.

use std::{
    collections::HashMap,
    future::Future,
    io,
    net::{IpAddr, SocketAddr},
    pin::pin,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, extract::ConnectInfo};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tower::ServiceExt as _;

use super::{client::TrustedProxies, stream::ClientStream};
use crate::rate_limit::address_key;

/// The most a connection may buffer for one request's line and headers (browsers send 1–2 KiB).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Timeouts and the connection limit of the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a client has to send a request's headers (an idle keep-alive connection is closed
    /// after this long too), to send its body, and to take each part of a response.
    pub client_timeout: Duration,
    /// Connections served at once; further ones wait in the listen queue.
    pub max_connections: u32,
    /// Connections one client address (an IPv6 address by its /64) may hold at once; more are
    /// closed as they arrive. Trusted proxies are not held to it.
    pub max_connections_per_client: u32,
    /// How long in-flight requests may take to finish once shutdown starts.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            client_timeout: Duration::from_secs(10),
            max_connections: 4096,
            max_connections_per_client: 64,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Errors of `accept` that concern one connection only (the next accept may well succeed).
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// The connections each client holds.
#[derive(Clone, Default)]
struct PerClient(Arc<Mutex<HashMap<IpAddr, u32>>>);

/// A client's hold on one of its connections; let go when the connection ends.
struct Held(PerClient, IpAddr);

impl PerClient {
    fn take(&self, client: IpAddr, most: u32) -> Option<Held> {
        let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = held.entry(client).or_insert(0);
        if *count >= most {
            return None;
        }
        *count += 1;
        Some(Held(self.clone(), client))
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut held = self.0.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = held.get_mut(&self.1) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.1);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting, lets in-flight
/// requests finish for up to `limits.shutdown_grace`, and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    proxies: TrustedProxies,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let per_client = PerClient::default();
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.client_timeout).max_buf_size(MAX_HEADER_BYTES);
    let mut shutdown = pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the connection semaphore stays open"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors, say: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let held = if proxies.trusts(peer.ip()) {
            None
        } else {
            match per_client.take(address_key(peer.ip()), limits.max_connections_per_client) {
                Some(held) => Some(held),
                // Over its share: closed at once, before anything is read.
                None => continue,
            }
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(ClientStream::new(stream, limits.client_timeout));
        let service = app.clone().map_request(move |mut request: axum::http::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            request
        });
        let connection =
            graceful.watch(builder.serve_connection_with_upgrades(io, TowerToHyperService::new(service)).into_owned());
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop((slot, held));
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!(grace = ?limits.shutdown_grace, "requests still running at the end of the grace period were cut");
        }
    }
    Ok(())
}
