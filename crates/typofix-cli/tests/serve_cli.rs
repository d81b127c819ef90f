//! `typofix serve` as a process: start-up on an ephemeral loopback port,
//! configuration read at start-up (the token), signals and a model that
//! does not load. The API itself is tested in-process in
//! typofix-server/tests/api.rs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

/// A running server, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        Server::start_with_env(args, &[])
    }

    fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_typofix"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .env_remove("TYPOFIX_TOKEN")
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Owned at once, so that a failing test still kills the process.
        let mut server = Server { child, port: 0 };
        let mut stderr = BufReader::new(server.child.stderr.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "the server exited before listening"
            );
            if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                server.port = rest.split_whitespace().next().unwrap().parse().unwrap();
                // Keep draining stderr so the server never blocks on it.
                std::thread::spawn(move || {
                    let mut sink = String::new();
                    let _ = stderr.read_to_string(&mut sink);
                });
                return server;
            }
        }
    }

    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        request(self.port, method, path, headers, body)
    }

    fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.request(
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )
    }

    fn terminate(&mut self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    fn error_code(&self) -> String {
        match self.json()["error"]["code"].as_str() {
            Some(code) => code.to_string(),
            None => format!("{} {}", self.status, String::from_utf8_lossy(&self.body)),
        }
    }
}

/// One HTTP/1.1 request on its own connection; no reply within 60 s fails
/// the test (a hung connection is a bug).
fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before reading a large body.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .expect("a reply before the timeout");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete reply");
    let headers = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = headers.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).unwrap().trim(), 16)
            .unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[line_end + 2..line_end + 2 + size]);
        raw = &raw[line_end + 2 + size + 2..];
    }
}

#[test]
fn the_server_listens_on_the_port_it_reports_and_answers_over_http() {
    let server = Server::start(&[]);
    let health = server.request("GET", "/health", &[], b"").json();
    assert_eq!(health["status"], "ok");
    let reply = server.post_json("/v1/fix", &json!({"text": "Thi sis a test"}));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["text"], "This is a test");
    // The router's 404, through the real stack.
    assert_eq!(server.request("GET", "/nowhere", &[], b"").status, 404);
}

/// The token comes from a file or the environment, read at start-up.
#[test]
fn a_token_from_a_file_or_the_environment_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "s3cret\n").unwrap();
    let server = Server::start(&["--token-file", token_file.to_str().unwrap()]);
    let body = json!({"text": "teh"}).to_string();
    let post =
        |headers: &[(&str, &str)]| server.request("POST", "/v1/fix", headers, body.as_bytes());
    let reply = post(&[]);
    assert_eq!(
        (reply.status, reply.error_code()),
        (401, "unauthorized".into())
    );
    assert!(reply
        .headers
        .to_ascii_lowercase()
        .contains("www-authenticate: bearer"));
    assert_eq!(post(&[("Authorization", "Bearer wrong")]).status, 401);
    assert_eq!(post(&[("Authorization", "Bearer s3cret")]).status, 200);
    // Liveness probes need no token.
    assert_eq!(server.request("GET", "/health", &[], b"").status, 200);

    let from_env = Server::start_with_env(&[], &[("TYPOFIX_TOKEN", "t0ken")]);
    let reply = from_env.request(
        "POST",
        "/v1/fix",
        &[("Authorization", "Bearer t0ken")],
        body.as_bytes(),
    );
    assert_eq!(reply.status, 200);
    assert_eq!(
        from_env
            .request("POST", "/v1/fix", &[], body.as_bytes())
            .status,
        401
    );
}

#[test]
fn sigterm_finishes_the_requests_in_flight_and_exits_0() {
    let mut server = Server::start(&[]);
    let port = server.port;
    let long = json!({"text": "Thi sis a sentenc with typos. ".repeat(30)}).to_string();
    let in_flight = std::thread::spawn(move || {
        request(
            port,
            "POST",
            "/v1/fix",
            &[("Content-Type", "application/json")],
            long.as_bytes(),
        )
    });
    std::thread::sleep(Duration::from_millis(300));
    server.terminate();
    let reply = in_flight.join().unwrap();
    assert_eq!(reply.status, 200);
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "stopped accepting"
    );
}

#[test]
fn a_broken_model_fails_at_start_up_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), "{}").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_typofix"))
        .args(["serve", "--addr", "127.0.0.1:0", "--model"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot load the model"), "{stderr}");
}
