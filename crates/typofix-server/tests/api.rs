//! The HTTP API, called in-process through the router (no socket): every
//! endpoint, every error status, the token and CORS. Start-up, signals and
//! the port are tested on the real binary in typofix-cli's serve_cli.rs.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt;
use typofix::Corrector;
use typofix_server::{router, AppState, BatchConfig, ServerConfig, Token};

fn corrector() -> Corrector {
    static CORRECTOR: OnceLock<Corrector> = OnceLock::new();
    CORRECTOR
        .get_or_init(|| Corrector::builtin().expect("the shipped model loads"))
        .clone()
}

fn app(config: ServerConfig) -> Router {
    router(AppState::new(
        corrector(),
        "<built-in model>".into(),
        config,
    ))
}

fn default_app() -> Router {
    app(ServerConfig::default())
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
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

async fn call(
    app: &Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Vec<u8>>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Body::from(body.into())).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

async fn post_json(app: &Router, path: &str, body: &Value) -> Reply {
    call(
        app,
        "POST",
        path,
        &[("content-type", "application/json")],
        body.to_string(),
    )
    .await
}

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    serde_urlencoded::to_string(pairs).unwrap().into_bytes()
}

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

#[tokio::test]
async fn the_json_api_fixes_text_with_byte_and_utf16_offsets() {
    let app = default_app();
    let reply = post_json(
        &app,
        "/v1/fix",
        &json!({"text": "Thi sis a test sentenc with typos"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["text"], "This is a test sentence with typos");
    assert!(!body["edits"].as_array().unwrap().is_empty());

    // Offsets after a non-ASCII prefix: bytes and UTF-16 units differ.
    let text = "😀 é teh cat";
    let body = post_json(&app, "/v1/fix", &json!({"text": text}))
        .await
        .json();
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
    let body = post_json(
        &app,
        "/v1/fix",
        &json!({"text": "teh cat", "options": {"allow": ["teh"]}}),
    )
    .await
    .json();
    assert_eq!(body["text"], "teh cat");

    let body = post_json(
        &app,
        "/v1/fix/batch",
        &json!({"texts": ["teh cat", "", "a dog"]}),
    )
    .await
    .json();
    let texts: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["the cat", "", "a dog"]);
}

#[tokio::test]
async fn the_languagetool_endpoint_answers_in_languagetools_shape() {
    let app = default_app();
    let reply = call(
        &app,
        "POST",
        "/v2/check",
        &[FORM],
        form(&[("text", "😀 I went to teh store."), ("language", "en-US")]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
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
    let units: Vec<u16> = context["text"].as_str().unwrap().encode_utf16().collect();
    let (o, l) = (
        context["offset"].as_u64().unwrap() as usize,
        context["length"].as_u64().unwrap() as usize,
    );
    assert_eq!(String::from_utf16(&units[o..o + l]).unwrap(), "teh");

    // Annotated text: markup is skipped but counted in offsets.
    let data = json!({"annotation": [
        {"text": "A "}, {"markup": "<b>"}, {"text": "tset of teh"}, {"markup": "</b>"}
    ]});
    let body = call(
        &app,
        "POST",
        "/v2/check",
        &[FORM],
        form(&[("data", &data.to_string()), ("language", "auto")]),
    )
    .await
    .json();
    let offsets: Vec<u64> = body["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["offset"].as_u64().unwrap())
        .collect();
    assert!(offsets.contains(&13), "teh at 13 in {offsets:?}");

    let languages = call(&app, "GET", "/v2/languages", &[], "").await.json();
    assert!(languages
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["longCode"] == "en-US"));

    let reply = call(
        &app,
        "POST",
        "/v2/check",
        &[FORM],
        form(&[("text", "Hallo"), ("language", "de-DE")]),
    )
    .await;
    assert_eq!(
        (reply.status, reply.error_code()),
        (StatusCode::BAD_REQUEST, "bad_request".into())
    );
}

#[tokio::test]
async fn health_and_metrics_report_the_service() {
    let app = default_app();
    let health = call(&app, "GET", "/health", &[], "").await.json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["model"], "<built-in model>");
    post_json(&app, "/v1/fix", &json!({"text": "teh"})).await;
    post_json(&app, "/v1/fix", &json!({"txt": "teh"})).await;
    let metrics = call(&app, "GET", "/metrics", &[], "").await;
    assert_eq!(metrics.status, StatusCode::OK);
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

#[tokio::test]
async fn bad_requests_get_json_errors_with_the_right_status() {
    let app = app(ServerConfig {
        max_body: 4096,
        ..ServerConfig::default()
    });
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
        let shown = String::from_utf8_lossy(&body[..body.len().min(40)]).to_string();
        let reply = call(
            &app,
            "POST",
            path,
            &[("content-type", "application/json")],
            body,
        )
        .await;
        assert_eq!(
            (reply.status.as_u16(), reply.error_code()),
            (status, code.to_string()),
            "{path} {shown}"
        );
    }
    // Still serving after all of that.
    let reply = post_json(&app, "/v1/fix", &json!({"text": "teh"})).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn a_token_is_required_when_one_is_configured() {
    let app = app(ServerConfig {
        token: Some(Token::new("s3cret")),
        ..ServerConfig::default()
    });
    let body = json!({"text": "teh"}).to_string();
    let reply = call(&app, "POST", "/v1/fix", &[], body.clone()).await;
    assert_eq!(
        (reply.status, reply.error_code()),
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    let challenge = reply.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.to_ascii_lowercase().starts_with("bearer"));
    let wrong = [("authorization", "Bearer wrong")];
    assert_eq!(
        call(&app, "POST", "/v1/fix", &wrong, body.clone())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let right = [("authorization", "Bearer s3cret")];
    assert_eq!(
        call(&app, "POST", "/v1/fix", &right, body).await.status,
        StatusCode::OK
    );
    // Liveness probes need no token.
    assert_eq!(
        call(&app, "GET", "/health", &[], "").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn cors_is_off_by_default_and_on_for_configured_origins() {
    let origin = [("origin", "https://editor.example")];
    let reply = call(&default_app(), "GET", "/v2/languages", &origin, "").await;
    assert!(!reply.headers.contains_key("access-control-allow-origin"));
    let app = app(ServerConfig {
        cors_origins: vec!["https://editor.example".into()],
        ..ServerConfig::default()
    });
    let reply = call(&app, "GET", "/v2/languages", &origin, "").await;
    assert_eq!(
        reply.headers["access-control-allow-origin"],
        "https://editor.example"
    );
}

#[tokio::test]
async fn a_missed_deadline_is_504() {
    let app = app(ServerConfig {
        timeout: Duration::from_millis(1),
        ..ServerConfig::default()
    });
    let long = "Thi sis a sentenc with typos. ".repeat(40);
    let reply = post_json(&app, "/v1/fix", &json!({"text": long})).await;
    assert_eq!(
        (reply.status, reply.error_code()),
        (StatusCode::GATEWAY_TIMEOUT, "timeout".into())
    );
}

/// A text too long for the deadline is checked as far as the time allows:
/// the answer is 200, says where the checking stopped, and comes soon after
/// the deadline, so one hostile request cannot hold a worker.
#[tokio::test]
async fn a_text_too_long_for_the_deadline_is_answered_in_part() {
    // The grace is long so that this test checks the budget, not the
    // speed of a debug build sharing two cores with the other tests: the
    // first group runs before the worker knows its pace (about 2 s here).
    let app = app(ServerConfig {
        timeout: Duration::from_millis(300),
        reply_grace: Duration::from_secs(15),
        ..ServerConfig::default()
    });
    let typos: String = (0..10_000).map(|n| format!("teh {n} ")).collect();
    let hostile = format!("Café. {typos}");
    let start = Instant::now();
    let reply = post_json(&app, "/v1/fix", &json!({"text": hostile})).await;
    let took = start.elapsed();
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.error_code());
    let body = reply.json();
    let (bytes, units) = (&body["unchecked"], &body["unchecked_utf16"]);
    let at = bytes.as_u64().expect("says where it stopped") as usize;
    let utf16 = hostile[..at].encode_utf16().count() as u64;
    assert_eq!(units.as_u64(), Some(utf16));
    assert!(body["text"].as_str().unwrap().ends_with(&hostile[at..]));
    assert!(took < Duration::from_secs(20), "took {took:?}");

    let form = form(&[("text", &hostile), ("language", "en-US")]);
    let reply = call(&app, "POST", "/v2/check", &[FORM], form).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.error_code());
    assert_eq!(reply.json()["warnings"]["incompleteResults"], true);
}

#[tokio::test]
async fn a_text_checked_in_time_says_nothing_of_it() {
    let reply = post_json(&default_app(), "/v1/fix", &json!({"text": "teh cat"})).await;
    let body = reply.json();
    assert!(body.get("unchecked").is_none(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_is_429_and_the_service_recovers() {
    let app = Arc::new(app(ServerConfig {
        batch: BatchConfig {
            workers: 1,
            max_batch: 1,
            queue: 1,
            window: Duration::ZERO,
        },
        timeout: Duration::from_secs(120),
        ..ServerConfig::default()
    }));
    let body = json!({"text": "Thi sis a sentenc with typos. ".repeat(8)});
    let requests: Vec<_> = (0..12)
        .map(|_| {
            let (app, body) = (app.clone(), body.clone());
            tokio::spawn(async move { post_json(&app, "/v1/fix", &body).await.status.as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for request in requests {
        statuses.push(request.await.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "{statuses:?}"
    );
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(statuses.contains(&200), "{statuses:?}");
    let reply = post_json(&app, "/v1/fix", &json!({"text": "teh"})).await;
    assert_eq!(reply.status, StatusCode::OK);
}
