//! Serving connections with bounds on what a slow or silent client can hold: a deadline for each
//! request's headers (which also closes a keep-alive connection left idle), deadlines for a
//! response the client does not take or takes at a trickle (`http::stream`), a limit on
//! connections served at once and on those of one client, a cap on the buffer a connection may
//! fill, and a bounded drain on shutdown. The request body's deadline is the GraphQL handler's
//! (`http::request`). HTTP/1.1 only: TLS and HTTP/2 belong to the proxy in front.
//!
//! A connection's place (its slot among all connections, and its client's hold) is a
//! [`ConnectionHold`] that every request of the connection carries: hyper is done with a
//! connection the moment it is upgraded to a WebSocket, and the socket then keeps the hold for as
//! long as it lives, so upgraded connections count against the same limits.

use crate::limits::Limits;
use std::{
    future::Future,
    io,
    net::{IpAddr, SocketAddr},
    pin::pin,
    sync::Arc,
    time::Duration,
};

use axum::{Router, extract::ConnectInfo};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::{
    net::TcpListener,
    sync::{OwnedSemaphorePermit, Semaphore},
};
use tower::ServiceExt as _;

use super::{
    client_address::TrustedProxies,
    deadlines::ClientStream,
    tally::{Share, Tally},
};
use crate::rate_limit::address_key;

/// The most a connection may buffer for one request's line and headers (browsers send 1–2 KiB).
pub const MAX_HEADER_BYTES: usize = Limits::DEFAULT.max_header_bytes;

/// Errors of `accept` that concern one connection only (the next accept may well succeed).
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// A connection's place among the connections served: its slot, and its client's hold (none for a
/// trusted proxy). Given back when the last clone is dropped — when the connection ends, or, for
/// one upgraded to a WebSocket, when the socket does.
#[derive(Clone, Debug)]
pub struct ConnectionHold(#[allow(dead_code)] Arc<(OwnedSemaphorePermit, Option<Share<IpAddr>>)>);

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting, lets in-flight
/// requests finish for up to `limits.shutdown_grace`, and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    proxies: TrustedProxies,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let per_client = Arc::new(Tally::<IpAddr>::default());
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
            match per_client.take(address_key(peer.ip()), 1, limits.max_connections_per_client as usize) {
                Some(held) => Some(held),
                // Over its share: closed at once, before anything is read.
                None => continue,
            }
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(ClientStream::new(stream, limits.client_timeout));
        let hold = ConnectionHold(Arc::new((slot, held)));
        let request_hold = hold.clone();
        let service = app.clone().map_request(move |mut request: axum::http::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            request.extensions_mut().insert(request_hold.clone());
            request
        });
        let connection =
            graceful.watch(builder.serve_connection_with_upgrades(io, TowerToHyperService::new(service)).into_owned());
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(hold);
        });
    }
    drop(listener);
    // Every connection gives its slot back when it ends: HTTP ones once their requests are done,
    // WebSockets once they have closed (they close themselves when shutdown starts).
    let everyone = async {
        graceful.shutdown().await;
        let _ = slots.acquire_many(limits.max_connections).await;
    };
    tokio::select! {
        () = everyone => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!(grace = ?limits.shutdown_grace, "connections still open at the end of the grace period were cut");
        }
    }
    Ok(())
}
