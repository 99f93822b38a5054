//! Shutdown drains what is in flight and then exits, even when a client has sent
//! half a request and gone quiet.

use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::TestApp;

#[tokio::test]
async fn shutdown_finishes_within_the_drain_limit_despite_half_open_connections() {
    let app = TestApp::spawn().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(signpost::http::serve_draining(
        listener,
        app.state.clone(),
        async {
            stopped.await.ok();
        },
        Duration::from_secs(1),
    ));
    // A client that sends half a request and waits; another that only connects.
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"query\":")
        .await
        .unwrap();
    let _idle = TcpStream::connect(addr).await.unwrap();
    // A normal request still works before shutdown.
    let ok = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);

    let started = Instant::now();
    stop.send(()).unwrap();
    let finished = tokio::time::timeout(Duration::from_secs(8), server).await;
    assert!(finished.is_ok(), "shutdown hung with half-open connections");
    assert!(finished.unwrap().unwrap().is_ok());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // New connections are refused once it has stopped.
    assert!(TcpStream::connect(addr).await.is_err());
}
