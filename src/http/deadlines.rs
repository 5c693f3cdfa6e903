//! The connection as the server sees it: a TCP stream that refuses to be held up by a client that
//! stops taking its response, or takes it at a trickle. A write may wait at most the client
//! timeout for the client to make room, and over a connection's life the time spent waiting may
//! not exceed the client timeout plus one second per [`MIN_RATE_BYTES_PER_SEC`] sent: a client
//! that takes its responses at less than 32 KiB/s on average is cut off, so no one can hold a
//! finished response (up to the content budget) in the server's memory for long.

use crate::limits::Limits;
use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::{Instant, Sleep},
};

/// The slowest average rate at which a client may take its responses.
pub(crate) const MIN_RATE_BYTES_PER_SEC: u64 = Limits::DEFAULT.min_rate_bytes_per_sec;

/// A client's connection with write deadlines.
pub(crate) struct ClientStream<S> {
    inner: S,
    stall: Duration,
    blocked_since: Option<Instant>,
    blocked_total: Duration,
    written: u64,
    timer: Pin<Box<Sleep>>,
}

impl<S> ClientStream<S> {
    /// Wraps `inner`; `stall` is the longest one write may wait.
    pub(crate) fn new(inner: S, stall: Duration) -> Self {
        Self {
            inner,
            stall,
            blocked_since: None,
            blocked_total: Duration::ZERO,
            written: 0,
            timer: Box::pin(tokio::time::sleep(stall)),
        }
    }

    /// Counts what a write did — the time it waited and the bytes it sent — or, when it has to
    /// wait, arms the deadline or refuses when it has passed.
    fn account(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        let Poll::Ready(result) = poll else {
            return self.blocked(cx);
        };
        if let Some(since) = self.blocked_since.take() {
            self.blocked_total += since.elapsed();
        }
        if let Ok(n) = &result {
            self.written += *n as u64;
        }
        Poll::Ready(result)
    }

    /// A write has to wait: arms the deadline, or refuses when it has passed.
    fn blocked(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let now = Instant::now();
        let since = *self.blocked_since.get_or_insert(now);
        let waited = now - since;
        let earned = self.stall + Duration::from_secs_f64(self.written as f64 / MIN_RATE_BYTES_PER_SEC as f64);
        let left = earned.saturating_sub(self.blocked_total + waited).min(self.stall.saturating_sub(waited));
        if left.is_zero() {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client does not take its response")));
        }
        self.timer.as_mut().reset(now + left);
        if self.timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client does not take its response")));
        }
        Poll::Pending
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ClientStream<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ClientStream<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.account(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.account(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    // Time is the subject: the clock is paused, and advances only while every task waits.
    #[tokio::test(start_paused = true)]
    async fn a_client_that_takes_its_response_at_a_trickle_is_cut_off() {
        // The client end reads a byte every 20 ms: 50 bytes/s, far under the minimum rate.
        let (server, mut client) = tokio::io::duplex(64);
        let reader = tokio::spawn(async move {
            let mut byte = [0u8; 1];
            while client.read(&mut byte).await.is_ok_and(|n| n > 0) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        let mut stream = ClientStream::new(server, Duration::from_millis(300));
        let started = Instant::now();
        let error = stream.write_all(&[b'x'; 100_000]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        // Its grace: the stall, plus a second per 32 KiB it took (at most 0.1 s here).
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(300) && took <= Duration::from_millis(400), "cut after {took:?}");
        drop(stream);
        reader.await.unwrap();
    }

    #[tokio::test]
    async fn a_client_that_keeps_up_is_not_cut_off() {
        let (server, mut client) = tokio::io::duplex(64 * 1024);
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            client.read_to_end(&mut all).await.unwrap();
            all.len()
        });
        let mut stream = ClientStream::new(server, Duration::from_millis(300));
        stream.write_all(&vec![b'x'; 4 << 20]).await.unwrap();
        stream.shutdown().await.unwrap();
        drop(stream);
        assert_eq!(reader.await.unwrap(), 4 << 20);
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_stops_reading_is_cut_off_after_the_stall_timeout() {
        let (server, _client) = tokio::io::duplex(64);
        let mut stream = ClientStream::new(server, Duration::from_millis(200));
        let started = Instant::now();
        let error = stream.write_all(&[b'x'; 1_000]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(200) && took <= Duration::from_millis(210), "cut after {took:?}");
    }
}
