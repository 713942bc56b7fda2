//! A stream whose first bytes were already read: they are read again
//! first. A CONNECT tunnel carries TLS (https, wss) or plain HTTP (a
//! browser tunnels `ws://` through its proxy too), told apart by the first
//! byte the browser sends.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// The first byte of a TLS record carrying a handshake (a ClientHello).
const TLS_HANDSHAKE: u8 = 0x16;

/// `inner`, with `prefix` read before it.
pub(crate) struct Prefixed<I> {
    prefix: Vec<u8>,
    inner: I,
}

impl<I: AsyncRead + Unpin> Prefixed<I> {
    /// Reads the first byte of `inner`, and whether it starts a TLS
    /// handshake; `None` when the peer closed at once.
    pub(crate) async fn sniff(mut inner: I) -> io::Result<Option<(Self, bool)>> {
        let mut first = [0u8; 1];
        if inner.read(&mut first).await? == 0 {
            return Ok(None);
        }
        Ok(Some((
            Prefixed {
                prefix: first.to_vec(),
                inner,
            },
            first[0] == TLS_HANDSHAKE,
        )))
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Prefixed<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix[..n]);
            self.prefix.drain(..n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Prefixed<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn the_sniffed_byte_is_read_again_and_tls_is_told_from_http() {
        for (sent, tls) in [(&b"\x16\x03\x01rest"[..], true), (b"GET / HTTP/1.1", false)] {
            let (mut a, b) = tokio::io::duplex(64);
            a.write_all(sent).await.unwrap();
            drop(a);
            let (mut stream, is_tls) = Prefixed::sniff(b).await.unwrap().unwrap();
            assert_eq!(is_tls, tls);
            let mut all = Vec::new();
            stream.read_to_end(&mut all).await.unwrap();
            assert_eq!(all, sent);
        }
        let (a, b) = tokio::io::duplex(64);
        drop(a);
        assert!(Prefixed::sniff(b).await.unwrap().is_none());
    }
}
