#![no_main]
//! The HTTP/1.1 response reader of the mTLS, authorization, JWT and
//! redirect probes (`scan::http::exchange_over`: hyper's client connection
//! plus what we keep of the answer), over an in-memory stream that accepts
//! the request and answers with the fuzz bytes, then closes. The first byte
//! picks how the answer is cut into reads.
use std::io;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use tlsposture::scan::http::{exchange_over, HttpOutcome, HttpRequest};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A server that answers once the request has arrived, as a real one
/// does: hyper treats bytes on an idle connection as an error, which is
/// not the path the probes take.
struct Server {
    answer: Vec<u8>,
    at: usize,
    state: u32,
    asked: bool,
    reader: Option<Waker>,
}

impl AsyncRead for Server {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if !this.asked {
            this.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        // xorshift: reads of 1..=64 bytes, varied but reproducible.
        this.state ^= this.state << 13;
        this.state ^= this.state >> 17;
        this.state ^= this.state << 5;
        let left = this.answer.len() - this.at;
        let n = (this.state as usize % 64 + 1)
            .min(left)
            .min(buf.remaining());
        buf.put_slice(&this.answer[this.at..this.at + n]);
        this.at += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Server {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        if !data.is_empty() {
            self.asked = true;
            if let Some(reader) = self.reader.take() {
                reader.wake();
            }
        }
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a current-thread runtime")
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&seed, answer)) = data.split_first() else {
        return;
    };
    let server = Server {
        answer: answer.to_vec(),
        at: 0,
        state: u32::from(seed) | 0x100,
        asked: false,
        reader: None,
    };
    let request = HttpRequest {
        method: "GET".to_owned(),
        path: "/".to_owned(),
        host: "test.com".to_owned(),
        headers: vec![("authorization".to_owned(), "Bearer x".to_owned())],
    };
    let outcome = runtime().block_on(exchange_over(server, &request));
    if let HttpOutcome::Response { body_snippet, .. } = &outcome {
        assert!(body_snippet.len() <= 3 * tlsposture::scan::http::SNIPPET_BYTES);
    }
    let _ = (
        outcome.describe(),
        outcome.report_fields().header("location"),
    );
});
