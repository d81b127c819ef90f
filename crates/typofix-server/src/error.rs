//! Errors as HTTP responses: a status and a JSON body that says what went
//! wrong, `{"error": {"code", "message"}}`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("the request body is larger than the limit of {0} bytes")]
    TooLarge(usize),
    #[error("missing or wrong bearer token")]
    Unauthorized,
    #[error("the request body did not arrive within {0} ms")]
    ReadTimeout(u64),
    #[error("the server is busy: {0} requests are queued; retry later")]
    QueueFull(usize),
    #[error("the request took longer than its deadline of {0} ms")]
    Timeout(u64),
    #[error("the server is shutting down")]
    Unavailable,
    #[error("correction failed: {0}")]
    Internal(String),
    #[error(
        "no such endpoint: see /health, /v1/fix, /v1/fix/batch, /v2/check, /v2/languages, /metrics"
    )]
    NotFound,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::ReadTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::QueueFull(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::NotFound => StatusCode::NOT_FOUND,
        }
    }

    /// A stable name for metrics and clients.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::TooLarge(_) => "too_large",
            ApiError::Unauthorized => "unauthorized",
            ApiError::ReadTimeout(_) => "read_timeout",
            ApiError::QueueFull(_) => "queue_full",
            ApiError::Timeout(_) => "timeout",
            ApiError::Unavailable => "unavailable",
            ApiError::Internal(_) => "internal",
            ApiError::NotFound => "not_found",
        }
    }
}

/// The error's code, attached to its response for the metrics.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = Json(serde_json::json!({
            "error": {"code": self.code(), "message": self.to_string()}
        }));
        let mut response = (status, body).into_response();
        response.extensions_mut().insert(ErrorCode(self.code()));
        match status {
            StatusCode::UNAUTHORIZED => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    "Bearer".parse().expect("a header"),
                );
            }
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, "1".parse().expect("a header"));
            }
            // The body was not read: the connection cannot carry another
            // request.
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT => {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, "close".parse().expect("a header"));
            }
            _ => {}
        }
        response
    }
}
