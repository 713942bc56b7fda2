//! Keeping a panicking handler from taking its connection down silently.
//!
//! Without this, a panic inside the handler would end the hyper connection
//! task and the browser would see a reset it might retry; a 500 carrying the
//! panic text is far easier to diagnose from a test report.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Handler, Request, Response};

/// Runs the handler, turning a panic (while creating or polling its future)
/// into `Err(panic message)`.
pub(crate) async fn call_handler(handler: &dyn Handler, req: Request) -> Result<Response, String> {
    // The handler's state is only ever observed through `&self`, and a
    // poisoned request is dropped, so unwind safety is not a concern here.
    let fut = catch_unwind(AssertUnwindSafe(|| handler.handle(req))).map_err(panic_message)?;
    CatchUnwind(fut).await.map_err(panic_message)
}

struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.get_mut().0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

fn panic_message(payload: Box<dyn Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "handler panicked with a non-string payload".to_owned()
    }
}
