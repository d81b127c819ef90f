//! typofix over HTTP.
//!
//! - `POST /v1/fix`, `POST /v1/fix/batch`: the JSON API ([`api`]);
//! - `POST /v2/check`, `GET /v2/languages`: LanguageTool's API
//!   ([`languagetool`]);
//! - `GET /health`, `GET /metrics` (Prometheus).
//!
//! Requests never run the model on the async executor: they queue jobs for
//! a pool of worker threads that micro-batch them ([`batcher`]). A full
//! queue answers 429, a missed deadline 504, a body over the limit 413 and
//! a malformed one 400, each with a JSON error body. The API reads and
//! writes no files.

pub mod api;
pub mod auth;
pub mod batcher;
pub mod error;
pub mod languagetool;
pub mod metrics;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use tower_http::cors::{AllowOrigin, CorsLayer};
use typofix::{Corrector, Fix, FixOptions};

pub use auth::Token;
pub use batcher::{BatchConfig, Batcher};
pub use error::ApiError;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use metrics::Metrics;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub addr: SocketAddr,
    pub batch: BatchConfig,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Deadline of a request, from its arrival.
    pub timeout: Duration,
    /// How long past a request's deadline its handler waits for the
    /// worker's answer before it gives up with 504. The worker starts no
    /// model batch that would end after the deadline at its pace so far,
    /// but the first group's candidates and first batch run before there
    /// is a pace: about a second on a small, busy machine, and more in a
    /// debug build.
    pub reply_grace: Duration,
    /// How long a client may take to send a request's headers, and then
    /// its body; a slow one is cut off (408 for a body).
    pub read_timeout: Duration,
    pub token: Option<Token>,
    /// Origins allowed by CORS; none: CORS is off.
    pub cors_origins: Vec<String>,
    /// Most texts in one `/v1/fix/batch` request.
    pub max_texts: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            batch: BatchConfig {
                workers: 2,
                max_batch: 32,
                queue: 256,
                window: Duration::from_millis(2),
            },
            max_body: 1 << 20,
            timeout: Duration::from_secs(10),
            reply_grace: Duration::from_secs(2),
            read_timeout: Duration::from_secs(10),
            token: None,
            cors_origins: Vec::new(),
            max_texts: 256,
        }
    }
}

/// What handlers share.
pub struct AppState {
    batcher: Batcher,
    metrics: Arc<Metrics>,
    config: ServerConfig,
    model: String,
    engine: String,
}

impl AppState {
    pub fn new(corrector: Corrector, model: String, config: ServerConfig) -> Arc<AppState> {
        let metrics = Arc::new(Metrics::new());
        let engine = corrector.engine().to_string();
        let batcher = Batcher::start(Arc::new(corrector), &config.batch, metrics.clone());
        Arc::new(AppState {
            batcher,
            metrics,
            config,
            model,
            engine,
        })
    }

    /// Corrects `texts` through the workers, within the request's deadline.
    /// The worker stops looking at the deadline and answers with what it
    /// checked (the fixes say where it stopped); this waits a little longer
    /// than the deadline for that answer, and answers 504 only if the job
    /// never reached a worker or the worker is stuck.
    async fn fix(
        &self,
        texts: Vec<String>,
        options: FixOptions,
        arrived: Instant,
    ) -> Result<Vec<Fix>, ApiError> {
        let deadline = arrived + self.config.timeout;
        let reply = self.batcher.submit(texts, options, deadline)?;
        let timeout_ms = self.config.timeout.as_millis() as u64;
        match tokio::time::timeout_at((deadline + self.config.reply_grace).into(), reply).await {
            Ok(Ok(result)) => result.map_err(|e| match e {
                ApiError::Unavailable => ApiError::Timeout(timeout_ms),
                other => other,
            }),
            Ok(Err(_)) => Err(ApiError::Unavailable),
            Err(_) => Err(ApiError::Timeout(timeout_ms)),
        }
    }

    /// Lets queued work finish and stops the workers.
    pub fn shutdown(self) {
        self.batcher.shutdown();
    }
}

/// A JSON body, with our error responses for every way it can be wrong.
fn parse_json<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<T, ApiError> {
    let body = read_body(body, limit)?;
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
}

fn read_body(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(limit)
        } else {
            ApiError::BadRequest(rejection.body_text())
        }
    })
}

async fn fix_one(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<api::FixResponse>, ApiError> {
    let arrived = Instant::now();
    let request: api::FixRequest = parse_json(body, state.config.max_body)?;
    let options = request.options.to_fix_options()?;
    let mut fixes = state
        .fix(vec![request.text.clone()], options, arrived)
        .await?;
    let fix = fixes.pop().ok_or(ApiError::Internal("no result".into()))?;
    Ok(Json(api::response(&request.text, fix)))
}

async fn fix_batch(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<api::BatchResponse>, ApiError> {
    let arrived = Instant::now();
    let request: api::BatchRequest = parse_json(body, state.config.max_body)?;
    if request.texts.len() > state.config.max_texts {
        return Err(ApiError::BadRequest(format!(
            "{} texts in one request; the limit is {}",
            request.texts.len(),
            state.config.max_texts
        )));
    }
    let options = request.options.to_fix_options()?;
    let fixes = state.fix(request.texts.clone(), options, arrived).await?;
    let results = request
        .texts
        .iter()
        .zip(fixes)
        .map(|(text, fix)| api::response(text, fix))
        .collect();
    Ok(Json(api::BatchResponse { results }))
}

async fn check(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let arrived = Instant::now();
    let body = read_body(body, state.config.max_body)?;
    let form = languagetool::CheckForm::parse(&body)?;
    let document = form.document()?;
    let texts = document.segments.iter().map(|s| s.text.clone()).collect();
    let fixes = state.fix(texts, languagetool::options(), arrived).await?;
    Ok(Json(languagetool::response(&document, fixes)))
}

async fn languages() -> Json<serde_json::Value> {
    Json(languagetool::languages())
}

async fn health(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "ok",
        "model": state.model,
        "engine": state.engine,
        "queue_depth": state.batcher.queue_depth(),
    }))
}

async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    let body = state.metrics.render(state.batcher.queue_depth());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// Counts and times every request; rejects those without the token.
async fn guard(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("other", |p| p.as_str())
        .to_string();
    let response = match &state.config.token {
        Some(token)
            if endpoint != "/health"
                && request.method() != Method::OPTIONS
                && !token.accepts(
                    request
                        .headers()
                        .get(header::AUTHORIZATION)
                        .map(HeaderValue::as_bytes),
                ) =>
        {
            ApiError::Unauthorized.into_response()
        }
        _ => match whole_body(request, &state.config).await {
            Ok(request) => next.run(request).await,
            Err(e) => e.into_response(),
        },
    };
    let status = response.status();
    if let Some(error::ErrorCode(code)) = response.extensions().get::<error::ErrorCode>() {
        state.metrics.observe_error(code);
    } else if status.is_client_error() || status.is_server_error() {
        state.metrics.observe_error("other");
    }
    state
        .metrics
        .observe_request(&endpoint, status.as_u16(), start.elapsed().as_secs_f64());
    response
}

/// The request with its body read, within the size limit and the read
/// timeout. A body announced as too large is refused before any of it is
/// read, and a client that sends slowly cannot hold a connection for longer
/// than the timeout.
async fn whole_body(request: Request, config: &ServerConfig) -> Result<Request, ApiError> {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|n| n > config.max_body as u64) {
        return Err(ApiError::TooLarge(config.max_body));
    }
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, config.max_body);
    let bytes = match tokio::time::timeout(config.read_timeout, read).await {
        Err(_) => return Err(ApiError::ReadTimeout(config.read_timeout.as_millis() as u64)),
        Ok(Err(e)) => {
            let e = e.into_inner();
            return Err(if e.is::<http_body_util::LengthLimitError>() {
                ApiError::TooLarge(config.max_body)
            } else {
                ApiError::BadRequest(format!("the request body could not be read: {e}"))
            });
        }
        Ok(Ok(bytes)) => bytes,
    };
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

/// The service's routes and layers.
pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new()
        .route("/v1/fix", post(fix_one))
        .route("/v1/fix/batch", post(fix_batch))
        .route("/v2/check", post(check))
        .route("/v2/languages", get(languages))
        .route("/health", get(health))
        .route("/metrics", get(metrics_text))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .layer(DefaultBodyLimit::max(state.config.max_body));
    if !state.config.cors_origins.is_empty() {
        let origins: Vec<HeaderValue> = state
            .config
            .cors_origins
            .iter()
            .filter_map(|o| o.parse().ok())
            .collect();
        router = router.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]),
        );
    }
    router.with_state(state)
}

/// Serves until `shutdown` resolves: then stops accepting, finishes the
/// requests in flight and the queued work, and returns.
///
/// The accept loop is ours, not `axum::serve`'s, for one setting that one
/// does not expose: hyper's timeout on reading a request's headers, which
/// needs a timer, so that a client that sends its headers slowly is cut
/// off after `read_timeout` (the body's timeout is in [`whole_body`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone());
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.read_timeout);
    let connections = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before
                    // it was accepted: wait a moment rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
    drop(listener);
    connections.shutdown().await;
    drop(app);
    // The router's clones are gone with the connections; stop the workers.
    if let Ok(state) = Arc::try_unwrap(state) {
        tokio::task::spawn_blocking(move || state.shutdown())
            .await
            .map_err(std::io::Error::other)?;
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
