//! The server's lifecycle: bind, accept, shut down.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::proxy::serve_plain;
use super::state::{stopped, Shared};
use super::tls::CertCache;
use super::{Handler, RejectedRequest, ServerError};

/// How long shutdown lets in-flight requests finish before aborting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The running server. Dropping it without [`OriginServer::shutdown`] aborts
/// every task at once.
pub struct OriginServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    accept_loop: Option<JoinHandle<()>>,
}

impl OriginServer {
    /// Binds a free port on 127.0.0.1 and starts serving. Must be called
    /// inside a tokio runtime, which will run all connection tasks.
    ///
    /// # Errors
    ///
    /// [`ServerError::Bind`] if no loopback port can be bound, and
    /// [`ServerError::Tls`] if the TLS provider cannot be set up.
    pub async fn start(handler: Arc<dyn Handler>) -> Result<OriginServer, ServerError> {
        let certs = CertCache::new()?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(ServerError::Bind)?;
        Self::serve(listener, handler, certs)
    }

    /// Binds `addr` (port 0: a free one) and starts serving. Whether a
    /// non-loopback address is wanted is the caller's decision (see
    /// [`Listen`](super::Listen)).
    ///
    /// # Errors
    ///
    /// [`ServerError::BindOn`] if `addr` cannot be bound, and
    /// [`ServerError::Tls`] if the TLS provider cannot be set up.
    pub async fn start_on(
        handler: Arc<dyn Handler>,
        addr: SocketAddr,
    ) -> Result<OriginServer, ServerError> {
        let certs = CertCache::new()?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::BindOn { addr, source })?;
        Self::serve(listener, handler, certs)
    }

    fn serve(
        listener: TcpListener,
        handler: Arc<dyn Handler>,
        certs: CertCache,
    ) -> Result<OriginServer, ServerError> {
        let addr = listener.local_addr().map_err(ServerError::Bind)?;
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(handler, certs, stop_rx.clone()));
        let accept_loop = tokio::spawn(accept_loop(listener, shared.clone(), stop_rx));
        Ok(OriginServer {
            addr,
            shared,
            stop,
            accept_loop: Some(accept_loop),
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `"127.0.0.1:PORT"`, the form the browsers' proxy settings take.
    pub fn proxy_address(&self) -> String {
        self.addr.to_string()
    }

    /// A snapshot of the requests refused so far, oldest first.
    pub fn rejected(&self) -> Vec<RejectedRequest> {
        self.shared.rejected()
    }

    /// How many refused requests were not logged because the log was full
    /// (it keeps the first 10,000).
    pub fn rejected_not_logged(&self) -> u64 {
        self.shared.rejected_dropped()
    }

    /// How many requests were passed to the handler (refused requests and
    /// CONNECTs themselves are not counted).
    pub fn requests_served(&self) -> u64 {
        self.shared.served()
    }

    /// Stops accepting, lets in-flight requests finish for a short grace
    /// period, then aborts whatever is left (including open tunnels).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(accept_loop) = self.accept_loop.take() {
            let _ = accept_loop.await;
        }
        let Some(mut tasks) = self.shared.take_tasks() else {
            return;
        };
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tasks.shutdown().await;
        }
    }
}

impl Drop for OriginServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(accept_loop) = self.accept_loop.take() {
            accept_loop.abort();
        }
        // Dropping the set aborts the tasks; it also breaks the cycle of
        // tasks holding the shared state that holds them.
        drop(self.shared.take_tasks());
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop: watch::Receiver<bool>) {
    let stop = stopped(stop);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Requests are small and latency-bound.
                    let _ = stream.set_nodelay(true);
                    shared.spawn(Box::pin(serve_plain(stream, shared.clone())));
                }
                // Usually out of file descriptors; back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            () = &mut stop => return,
        }
    }
}
