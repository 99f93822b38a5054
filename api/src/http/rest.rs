//! REST answers' errors, in one shape for every route that is not GraphQL (the map's
//! `/gaps.geojson`, the Open Referral UK API, refusals at the door):
//! `{"error": {"code", "parameter", "message"}}`, `parameter` naming the query
//! parameter at fault (as the ORUK API has always done), codes as GraphQL's.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::AppError;

/// The HTTP status of an error.
fn status_of(err: &AppError) -> StatusCode {
    match err {
        AppError::BadUserInput { .. } => StatusCode::BAD_REQUEST,
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unavailable(_) | AppError::NotConfigured(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A refusal in the REST shape, for a code with no `AppError` (TIMEOUT).
pub fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "error": { "code": code, "message": message } });
    (status, Json(body)).into_response()
}

/// An error answered to a REST client. A REST route hands the domain bare names
/// (`Fields::QUERY`), so a field at fault is named as its query parameter.
#[derive(Debug)]
pub struct RestError(pub AppError);

impl RestError {
    /// A query parameter that is wrong.
    pub fn parameter(name: &str, message: impl Into<String>) -> Self {
        Self(AppError::bad_input(name, message))
    }
}

impl From<AppError> for RestError {
    fn from(err: AppError) -> Self {
        Self(err)
    }
}

impl From<sea_orm::DbErr> for RestError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self(AppError::from(err))
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let err = self.0;
        match &err {
            AppError::Internal(cause) => tracing::error!(%cause, "internal error"),
            AppError::Unavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            _ => {}
        }
        let code = err.code();
        let body = match &err {
            AppError::BadUserInput { field, message } => {
                let parameter = field;
                json!({ "error": {
                    "code": code,
                    "parameter": parameter,
                    "message": format!("{parameter}: {message}"),
                } })
            }
            other => json!({ "error": { "code": code, "message": other.public_message() } }),
        };
        (status_of(&err), Json(body)).into_response()
    }
}
