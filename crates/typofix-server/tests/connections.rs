//! The server on a real socket, against clients that misbehave: one that
//! announces a body over the limit, and ones that send their body or their
//! headers slowly. Each is answered or cut off at once or after the read
//! timeout, not when the client pleases.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use typofix::Corrector;
use typofix_server::{serve, AppState, ServerConfig};

const READ_TIMEOUT: Duration = Duration::from_millis(500);

/// A server on a free port, with a 1 MB body limit and `READ_TIMEOUT`;
/// dropping the sender shuts it down.
async fn start() -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let corrector = Corrector::builtin().expect("the shipped model loads");
    let config = ServerConfig {
        read_timeout: READ_TIMEOUT,
        ..ServerConfig::default()
    };
    let state: Arc<AppState> = AppState::new(corrector, "<built-in model>".into(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, state, async move {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// Everything the server sends until it closes the connection, and how
/// long that took; at most 10 s.
async fn until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let start = Instant::now();
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the server kept the connection open for 10 s");
    (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
}

#[tokio::test]
async fn a_body_announced_over_the_limit_is_refused_before_it_is_sent() {
    let (addr, _stop) = start().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = "POST /v1/fix HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                Content-Length: 40000000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[b' '; 8192]).await.unwrap();
    let (reply, took) = until_closed(&mut stream).await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains("too_large"), "{reply}");
    assert!(
        took < READ_TIMEOUT,
        "answered in {took:?}, without waiting for the body"
    );
}

#[tokio::test]
async fn a_body_sent_too_slowly_is_cut_off_after_the_read_timeout() {
    let (addr, _stop) = start().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = "POST /v1/fix HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"text\":";
    stream.write_all(head.as_bytes()).await.unwrap();
    let (reply, took) = until_closed(&mut stream).await;
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("read_timeout"), "{reply}");
    assert!(took >= READ_TIMEOUT && took < READ_TIMEOUT * 4, "{took:?}");
}

#[tokio::test]
async fn headers_sent_too_slowly_are_cut_off_after_the_read_timeout() {
    let (addr, _stop) = start().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /v1/fix HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (_, took) = until_closed(&mut stream).await;
    assert!(took >= READ_TIMEOUT && took < READ_TIMEOUT * 4, "{took:?}");
}

#[tokio::test]
async fn a_prompt_client_is_answered_and_its_connection_kept_for_the_next_request() {
    let (addr, stop) = start().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let body = r#"{"text": "teh cat"}"#;
    let request = format!(
        "POST /v1/fix HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    for _ in 0..2 {
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut reply = vec![0; 4096];
        let n = stream.read(&mut reply).await.unwrap();
        let reply = String::from_utf8_lossy(&reply[..n]);
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(reply.contains(r#""text":"the cat""#), "{reply}");
    }
    drop(stop);
}
