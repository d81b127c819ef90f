//! `typofix serve` end to end: real HTTP requests to a server that each
//! test starts on an ephemeral loopback port, covering every endpoint and
//! every error status.

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

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

#[test]
fn the_json_api_fixes_text_with_byte_and_utf16_offsets() {
    let server = Server::start(&[]);
    let reply = server.post_json(
        "/v1/fix",
        &json!({"text": "Thi sis a test sentenc with typos"}),
    );
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["text"], "This is a test sentence with typos");
    assert!(!body["edits"].as_array().unwrap().is_empty());

    // Offsets after a non-ASCII prefix: bytes and UTF-16 units differ.
    let text = "😀 é teh cat";
    let body = server.post_json("/v1/fix", &json!({"text": text})).json();
    assert_eq!(body["text"], "😀 é the cat");
    let edit = &body["edits"][0];
    assert_eq!(
        (edit["start"].as_u64(), edit["end"].as_u64()),
        (Some(8), Some(11))
    );
    assert_eq!(&text[8..11], "teh");
    assert_eq!(
        (edit["start_utf16"].as_u64(), edit["end_utf16"].as_u64()),
        (Some(5), Some(8))
    );
    assert_eq!(edit["original"], "teh");
    assert_eq!(edit["replacement"], "the");

    // Options: an allowed word stays.
    let body = server
        .post_json(
            "/v1/fix",
            &json!({"text": "teh cat", "options": {"allow": ["teh"]}}),
        )
        .json();
    assert_eq!(body["text"], "teh cat");

    let body = server
        .post_json("/v1/fix/batch", &json!({"texts": ["teh cat", "", "a dog"]}))
        .json();
    let texts: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["the cat", "", "a dog"]);
}

#[test]
fn the_languagetool_endpoint_answers_in_languagetools_shape() {
    let server = Server::start(&[]);
    let reply = server.request(
        "POST",
        "/v2/check",
        &[FORM],
        &form(&[("text", "😀 I went to teh store."), ("language", "en-US")]),
    );
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["software"]["name"], "typofix");
    assert_eq!(body["language"]["code"], "en-US");
    let m = &body["matches"][0];
    // UTF-16 units, as LanguageTool counts: the emoji is two.
    assert_eq!(
        (m["offset"].as_u64(), m["length"].as_u64()),
        (Some(13), Some(3))
    );
    assert_eq!(m["replacements"][0]["value"], "the");
    assert_eq!(m["rule"]["issueType"], "misspelling");
    assert_eq!(m["rule"]["category"]["id"], "TYPOS");
    for field in ["message", "shortMessage", "sentence"] {
        assert!(m[field].is_string(), "{field}");
    }
    let context = &m["context"];
    let ctx_text = context["text"].as_str().unwrap();
    let units: Vec<u16> = ctx_text.encode_utf16().collect();
    let (o, l) = (
        context["offset"].as_u64().unwrap() as usize,
        context["length"].as_u64().unwrap() as usize,
    );
    assert_eq!(String::from_utf16(&units[o..o + l]).unwrap(), "teh");

    // Annotated text: markup is skipped but counted in offsets.
    let data = json!({"annotation": [
        {"text": "A "}, {"markup": "<b>"}, {"text": "tset of teh"}, {"markup": "</b>"}
    ]});
    let body = server
        .request(
            "POST",
            "/v2/check",
            &[FORM],
            &form(&[("data", &data.to_string()), ("language", "auto")]),
        )
        .json();
    let offsets: Vec<u64> = body["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["offset"].as_u64().unwrap())
        .collect();
    assert!(offsets.contains(&13), "teh at 13 in {offsets:?}");

    let languages = server.request("GET", "/v2/languages", &[], b"").json();
    assert!(languages
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["longCode"] == "en-US"));

    let reply = server.request(
        "POST",
        "/v2/check",
        &[FORM],
        &form(&[("text", "Hallo"), ("language", "de-DE")]),
    );
    assert_eq!(
        (reply.status, reply.error_code()),
        (400, "bad_request".into())
    );
}

#[test]
fn health_and_metrics_report_the_service() {
    let server = Server::start(&[]);
    let health = server.request("GET", "/health", &[], b"").json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["model"], "<built-in model>");
    server.post_json("/v1/fix", &json!({"text": "teh"}));
    server.post_json("/v1/fix", &json!({"txt": "teh"}));
    let metrics = server.request("GET", "/metrics", &[], b"");
    assert_eq!(metrics.status, 200);
    let text = String::from_utf8(metrics.body).unwrap();
    for needle in [
        "typofix_http_requests_total{endpoint=\"/v1/fix\",status=\"200\"} 1",
        "typofix_http_requests_total{endpoint=\"/v1/fix\",status=\"400\"} 1",
        "typofix_http_request_duration_seconds_bucket",
        "typofix_queue_depth",
        "typofix_batch_texts_count",
        "typofix_errors_total{code=\"bad_request\"} 1",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}

#[test]
fn bad_requests_get_json_errors_with_the_right_status() {
    let server = Server::start(&["--max-body", "4096"]);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("/v1/fix", b"{not json".to_vec(), 400, "bad_request"),
        (
            "/v1/fix",
            br#"{"texts": ["a"]}"#.to_vec(),
            400,
            "bad_request",
        ),
        (
            "/v1/fix",
            b"{\"text\": \"caf\xff\"}".to_vec(),
            400,
            "bad_request",
        ),
        ("/v1/fix", br#"{"text": 5}"#.to_vec(), 400, "bad_request"),
        (
            "/v1/fix/batch",
            br#"{"text": "a"}"#.to_vec(),
            400,
            "bad_request",
        ),
        (
            "/v2/check",
            b"text=caf\xff&language=en".to_vec(),
            400,
            "bad_request",
        ),
        (
            "/v1/fix",
            format!(r#"{{"text": "{}"}}"#, "a".repeat(5000)).into_bytes(),
            413,
            "too_large",
        ),
        ("/nowhere", b"{}".to_vec(), 404, "not_found"),
    ];
    for (path, body, status, code) in cases {
        let reply = server.request("POST", path, &[("Content-Type", "application/json")], &body);
        assert_eq!(
            (reply.status, reply.error_code()),
            (status, code.to_string()),
            "{path} {}",
            String::from_utf8_lossy(&body[..body.len().min(40)])
        );
    }
    // Still serving after all of that.
    let reply = server.post_json("/v1/fix", &json!({"text": "teh"}));
    assert_eq!(reply.status, 200);
}

#[test]
fn a_token_is_required_when_one_is_configured() {
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
fn cors_is_off_by_default_and_on_for_configured_origins() {
    let origin = [("Origin", "https://editor.example")];
    let server = Server::start(&[]);
    let reply = server.request("GET", "/v2/languages", &origin, b"");
    assert!(!reply
        .headers
        .to_ascii_lowercase()
        .contains("access-control-allow-origin"));
    let server = Server::start(&["--cors-origin", "https://editor.example"]);
    let reply = server.request("GET", "/v2/languages", &origin, b"");
    assert!(reply
        .headers
        .to_ascii_lowercase()
        .contains("access-control-allow-origin: https://editor.example"));
}

#[test]
fn a_missed_deadline_is_504_and_a_full_queue_is_429() {
    let server = Server::start(&["--timeout-ms", "1"]);
    let long = "Thi sis a sentenc with typos. ".repeat(40);
    let reply = server.post_json("/v1/fix", &json!({"text": long}));
    assert_eq!((reply.status, reply.error_code()), (504, "timeout".into()));

    let server = Server::start(&[
        "--workers",
        "1",
        "--queue",
        "1",
        "--max-batch",
        "1",
        "--batch-window-ms",
        "0",
        "--timeout-ms",
        "120000",
    ]);
    let port = server.port;
    let body = json!({"text": "Thi sis a sentenc with typos. ".repeat(8)}).to_string();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..12)
            .map(|_| {
                let body = body.clone();
                s.spawn(move || {
                    request(
                        port,
                        "POST",
                        "/v1/fix",
                        &[("Content-Type", "application/json")],
                        body.as_bytes(),
                    )
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "{statuses:?}"
    );
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(statuses.contains(&200), "{statuses:?}");
    // It recovers once the burst is over.
    assert_eq!(
        server.post_json("/v1/fix", &json!({"text": "teh"})).status,
        200
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
