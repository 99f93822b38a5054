//! One error type for the API with stable codes clients can branch on.
//!
//! `AppError` deliberately does not implement `Display`: async-graphql has a blanket
//! `From<T: Display>` that would drop the code, so a bare `?` on an `AppError` goes
//! through our own `From` (in `graphql`) and always carries `extensions.code`; REST
//! routes answer the same codes (`http::rest`). Internal causes are logged once
//! (inside the request's span, so with its request id) and never sent.

#[derive(Debug)]
pub enum AppError {
    /// Input that fails validation; `field` is the path of the offending input.
    BadUserInput {
        field: String,
        message: String,
    },
    NotFound(String),
    Unauthenticated(String),
    Forbidden(String),
    /// A stale `expectedVersion`: the client must re-read; `current_version` says what is there now.
    Conflict {
        message: String,
        current_version: i32,
    },
    /// Too many requests from one client; try again later.
    RateLimited(String),
    /// The database cannot be reached or cannot take writes (down, restarting, read
    /// only, disk full): try again later. Answered with HTTP 503. The cause is logged.
    Unavailable(String),
    /// A feature this server is not configured for (a missing key or setting): also
    /// UNAVAILABLE, but the message names what the operator must set.
    NotConfigured(String),
    /// Anything the client cannot fix: a bug. The cause is logged only.
    Internal(String),
}

impl AppError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput { .. } => "BAD_USER_INPUT",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::Conflict { .. } => "CONFLICT",
            Self::RateLimited(_) => "RATE_LIMITED",
            Self::Unavailable(_) | Self::NotConfigured(_) => "UNAVAILABLE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The whole story, for an operator at the command line (includes internal causes).
    pub fn detail(&self) -> String {
        match self {
            Self::Internal(cause) | Self::Unavailable(cause) => cause.clone(),
            other => other.public_message(),
        }
    }

    /// The message a client may see.
    pub fn public_message(&self) -> String {
        match self {
            Self::BadUserInput { field, message } => format!("{field}: {message}"),
            Self::NotFound(m)
            | Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::RateLimited(m)
            | Self::NotConfigured(m) => m.clone(),
            Self::Conflict { message, .. } => message.clone(),
            Self::Unavailable(_) => "the database is unavailable; try again shortly".to_string(),
            Self::Internal(_) => "internal error".to_string(),
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::from(&err)
    }
}

impl From<&sea_orm::DbErr> for AppError {
    fn from(err: &sea_orm::DbErr) -> Self {
        if crate::db::is_unavailable(err) {
            Self::Unavailable(err.to_string())
        } else {
            Self::internal(err)
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
