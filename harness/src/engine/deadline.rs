//! A time limit on every WebDriver command of a session.
//!
//! A browser stopped with SIGSTOP (or wedged) leaves its driver waiting
//! forever, and the command the harness sent waits with it. The limit is
//! kept below fantoccini, in the connection its HTTP client uses: a request
//! written starts a timer that the first bytes of the answer stop. When the
//! timer fires, the session is marked hung and every later read, write and
//! connection of that client fails at once, so the runner's remaining
//! commands (cleanup, the health probe) return instead of each waiting out
//! the limit again. An idle keep-alive connection has no request pending
//! and no timer.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use tokio::time::Sleep;

/// The command limit of one session and whether it was ever exceeded.
/// Clones share it.
#[derive(Debug, Clone, Default)]
pub struct CommandDeadline {
    shared: Arc<DeadlineState>,
}

#[derive(Debug, Default)]
struct DeadlineState {
    /// 0: no limit (while the session is being created: that has its own).
    limit_ms: AtomicU64,
    expired: AtomicBool,
    /// Requests written so far (one per WebDriver command), for
    /// `pmconf bench --profile`.
    commands: AtomicU64,
}

impl CommandDeadline {
    /// Every command from now on must be answered within `limit`.
    pub fn set_limit(&self, limit: Duration) {
        let ms = limit.as_millis().clamp(1, u64::MAX as u128) as u64;
        self.shared.limit_ms.store(ms, Ordering::SeqCst);
    }

    /// The limit, if one is set.
    pub fn limit(&self) -> Option<Duration> {
        match self.shared.limit_ms.load(Ordering::SeqCst) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }

    /// Whether a command went unanswered past the limit (or
    /// [`CommandDeadline::expire`] was called).
    pub fn has_expired(&self) -> bool {
        self.shared.expired.load(Ordering::SeqCst)
    }

    /// How many commands (HTTP requests) the session's client has sent.
    pub fn commands(&self) -> u64 {
        self.shared.commands.load(Ordering::Relaxed)
    }

    /// Makes every later command of the session fail at once: for a
    /// session being abandoned.
    pub fn expire(&self) {
        self.shared.expired.store(true, Ordering::SeqCst);
    }
}

fn expired_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "no answer from the WebDriver server within the command timeout",
    )
}

/// An [`HttpConnector`] whose connections enforce a [`CommandDeadline`].
#[derive(Debug, Clone)]
pub(crate) struct DeadlineConnector {
    inner: HttpConnector,
    deadline: CommandDeadline,
}

impl DeadlineConnector {
    pub(crate) fn new(deadline: CommandDeadline) -> Self {
        DeadlineConnector {
            inner: HttpConnector::new(),
            deadline,
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Stream = hyper_util::rt::TokioIo<tokio::net::TcpStream>;

impl tower_service::Service<Uri> for DeadlineConnector {
    type Response = DeadlineStream<Stream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let deadline = self.deadline.clone();
        if deadline.has_expired() {
            return Box::pin(async { Err(expired_error().into()) });
        }
        let connecting = self.inner.call(uri);
        Box::pin(async move {
            Ok(DeadlineStream {
                inner: connecting.await?,
                deadline,
                timer: None,
                answered: true,
            })
        })
    }
}

/// A connection whose reads fail once a written request has waited past
/// the deadline for its first answer bytes.
pub(crate) struct DeadlineStream<S> {
    inner: S,
    deadline: CommandDeadline,
    /// Armed by a write, disarmed by the next successful read.
    timer: Option<Pin<Box<Sleep>>>,
    /// No request written since the last answer bytes: the next write
    /// starts a new command (HTTP/1.1 without pipelining, as hyper's
    /// client does).
    answered: bool,
}

impl<S: Read + Unpin> Read for DeadlineStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.deadline.has_expired() {
            return Poll::Ready(Err(expired_error()));
        }
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.timer = None;
                this.answered = true;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let fired = this
                    .timer
                    .as_mut()
                    .is_some_and(|timer| timer.as_mut().poll(cx).is_ready());
                if fired {
                    this.deadline.expire();
                    Poll::Ready(Err(expired_error()))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl<S: Write + Unpin> Write for DeadlineStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.deadline.has_expired() {
            return Poll::Ready(Err(expired_error()));
        }
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) && this.answered {
            this.answered = false;
            this.deadline
                .shared
                .commands
                .fetch_add(1, Ordering::Relaxed);
        }
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) && this.timer.is_none() {
            if let Some(limit) = this.deadline.limit() {
                let mut timer = Box::pin(tokio::time::sleep(limit));
                // Registers this task's waker: hyper may not poll the read
                // side again until something wakes it.
                let _ = timer.as_mut().poll(cx);
                this.timer = Some(timer);
            }
        }
        result
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl<S: Connection> Connection for DeadlineStream<S> {
    fn connected(&self) -> Connected {
        self.inner.connected()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Empty};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A server that answers its first request at once and never answers
    /// the second.
    async fn answers_once() -> (String, tokio::task::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let mut kept = Vec::new();
            for answer in [true, false] {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await.unwrap();
                if answer {
                    socket
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                        )
                        .await
                        .unwrap();
                } else {
                    kept.push(socket);
                }
            }
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        (url, server)
    }

    #[tokio::test]
    async fn an_unanswered_request_fails_after_the_limit_and_so_does_every_later_one() {
        let (url, server) = answers_once().await;
        let deadline = CommandDeadline::default();
        deadline.set_limit(Duration::from_millis(300));
        let client: Client<_, Empty<bytes::Bytes>> =
            Client::builder(TokioExecutor::new()).build(DeadlineConnector::new(deadline.clone()));
        let uri: Uri = url.parse().unwrap();

        let answer = client.get(uri.clone()).await.unwrap();
        let body = answer.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"ok");
        assert!(!deadline.has_expired());

        let started = std::time::Instant::now();
        let hung = tokio::time::timeout(Duration::from_secs(10), client.get(uri.clone())).await;
        assert!(matches!(hung, Ok(Err(_))), "{hung:?}");
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(deadline.has_expired());

        // Nothing listens for a third request, but it fails without
        // waiting: the session is known to be hung.
        let started = std::time::Instant::now();
        assert!(client.get(uri).await.is_err());
        assert!(started.elapsed() < Duration::from_millis(200));
        server.abort();
    }

    #[tokio::test]
    async fn counts_one_command_per_request_on_a_kept_alive_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 4096];
            // One answer per request read (each fits in one read).
            while socket.read(&mut request).await.unwrap_or(0) > 0 {
                let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                if socket.write_all(answer).await.is_err() {
                    break;
                }
            }
        });
        let deadline = CommandDeadline::default();
        let client: Client<_, Empty<bytes::Bytes>> =
            Client::builder(TokioExecutor::new()).build(DeadlineConnector::new(deadline.clone()));
        let uri: Uri = url.parse().unwrap();
        assert_eq!(deadline.commands(), 0);
        for _ in 0..3 {
            let answer = client.get(uri.clone()).await.unwrap();
            answer.into_body().collect().await.unwrap();
        }
        assert_eq!(deadline.commands(), 3);
        server.abort();
    }

    #[tokio::test]
    async fn without_a_limit_nothing_expires() {
        let deadline = CommandDeadline::default();
        assert_eq!(deadline.limit(), None);
        deadline.set_limit(Duration::from_secs(2));
        assert_eq!(deadline.limit(), Some(Duration::from_secs(2)));
        assert!(!deadline.has_expired());
        deadline.expire();
        assert!(deadline.has_expired());
    }
}
