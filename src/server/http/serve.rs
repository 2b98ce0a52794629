//! The accept loop: serves the router over HTTP/1.1 with a bound a server on the open internet
//! needs and `axum::serve` does not let one set. A request head (request line and headers) is
//! refused with 431 once it passes [`MAX_REQUEST_HEAD`], before any of it is parsed into a URI,
//! percent-decoded, routed or logged: a flood of 60 KB paths then costs the portal a bounded
//! read per connection instead of the whole request path.
//!
//! hyper's header-read timeout is deliberately not set: it also closes idle keep-alive
//! connections after that time, which clients reusing a pooled connection race (while it was
//! set, the test suite twice saw a pooled request wait until its own 60 s timeout). Slow
//! clients are the reverse proxy's to bound (nginx's `client_header_timeout`).

use std::future::Future;
use std::io;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tower::ServiceExt;

/// The largest request head accepted. A legitimate head is a path of at most a few hundred
/// bytes, a session cookie and a browser's usual headers: 2 to 4 KB. nginx's default buffers
/// allow 8 KB per line; hyper's own floor for this bound is 8 KB.
pub const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, lets open
/// requests finish (connections close once idle) and returns when the last one has.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let (stopping, stop_signal) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stopping.send(true);
    });
    // Every connection holds a sender; the receiver sees the channel close when the last one
    // has finished.
    let (open, mut all_closed) = mpsc::channel::<()>(1);
    let mut stop = stop_signal.clone();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stopped(&mut stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors or memory: wait instead of spinning; a connection
                // reset before it was accepted needs nothing.
                if !is_connection_error(&error) {
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                continue;
            }
        };
        // Pages and live messages are written in a few large writes: no reason to delay them.
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone().map_request(
            move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            },
        ));
        let (open, mut stop) = (open.clone(), stop_signal.clone());
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.max_buf_size(MAX_REQUEST_HEAD);
            let connection = builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stopped(&mut stop) => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(open);
        });
    }
    drop(listener);
    drop(open);
    let _ = all_closed.recv().await;
    Ok(())
}

/// Resolves once the server is stopping.
async fn stopped(signal: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: drop it here rather than hold it in a
    // `select!` arm.
    let _ = signal.wait_for(|stopping| *stopping).await;
}

fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
