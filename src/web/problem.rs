//! Errors as HTTP answers: `application/problem+json` (RFC 9457), with a
//! `detail` a client can show and nothing that leaks internals (no SQL, no
//! database message, no stack trace). The full cause of a 500 goes to the log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::Error;

/// The media type of a [`Problem`] body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client should wait after a 503 before it tries again.
const RETRY_AFTER_SECONDS: &str = "1";

/// An RFC 9457 problem: what went wrong, for a client to act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// What kind of problem: a `tag:` URI for the ones this API defines
    /// (RFC 9457 §3.1.1 allows identifiers that do not resolve), else
    /// `about:blank`, which means "what the status code says".
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// A short summary of the kind, the same for every occurrence.
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// What happened this time, in one line.
    pub detail: String,
}

/// The problem kinds this API defines (besides `about:blank`).
pub mod kinds {
    /// The name belongs to someone else.
    pub const NAME_TAKEN: &str = "tag:people.rs,2026:name-taken";
    /// The name breaks a rule (empty, longer than 80 characters, ...).
    pub const INVALID_NAME: &str = "tag:people.rs,2026:invalid-name";
    /// No person has the id.
    pub const NOT_FOUND: &str = "tag:people.rs,2026:not-found";
    /// A page that does not exist (page or per_page below 1, past the end).
    pub const INVALID_PAGE: &str = "tag:people.rs,2026:invalid-page";
    /// The database is busy or unreachable; try again.
    pub const UNAVAILABLE: &str = "tag:people.rs,2026:unavailable";
}

impl Problem {
    /// A problem of kind `about:blank`: the status says it all.
    pub fn status(status: StatusCode, detail: impl Into<String>) -> Self {
        Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: detail.into(),
        }
    }

    /// 400: the request cannot be understood.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::status(StatusCode::BAD_REQUEST, detail)
    }

    /// 503: no connection or writer free in time, or the database did not answer.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Problem {
            kind: kinds::UNAVAILABLE,
            title: "The database is busy or unavailable; try again",
            status: StatusCode::SERVICE_UNAVAILABLE.as_u16(),
            detail: detail.into(),
        }
    }

    /// 500: something this server did not expect. The details go to the log only.
    pub fn internal() -> Self {
        Problem::status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server could not complete the request; the cause is in its log",
        )
    }

    /// The status code, as `http` knows it.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<Error> for Problem {
    fn from(error: Error) -> Self {
        let detail = error.to_string();
        match error {
            Error::NotFound { .. } => Problem {
                kind: kinds::NOT_FOUND,
                title: "No such person",
                status: 404,
                detail,
            },
            Error::NameTaken { .. } => Problem {
                kind: kinds::NAME_TAKEN,
                title: "The name is taken",
                status: 409,
                detail,
            },
            Error::InvalidName { .. } => Problem {
                kind: kinds::INVALID_NAME,
                title: "The name is not valid",
                status: 422,
                detail,
            },
            // Flask-SQLAlchemy's `paginate` answers these with 404 too.
            Error::InvalidPage { .. } => Problem {
                kind: kinds::INVALID_PAGE,
                title: "No such page",
                status: 404,
                detail,
            },
            Error::Pool { .. } | Error::Connection { .. } => {
                tracing::warn!(target: "people::web", error = %chain(&error), "database unavailable");
                Problem::unavailable("no database connection became free in time")
            }
            Error::Database {
                source:
                    diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::ClosedConnection
                        | diesel::result::DatabaseErrorKind::UnableToSendCommand,
                        _,
                    ),
            } => {
                tracing::warn!(target: "people::web", error = %chain(&error), "database unavailable");
                Problem::unavailable("the database connection was lost")
            }
            other => {
                tracing::error!(target: "people::web", error = %chain(&other), "request failed");
                Problem::internal()
            }
        }
    }
}

/// The error and its causes on one line, for the log.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        line.push_str(": ");
        line.push_str(&c.to_string());
        cause = c.source();
    }
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

/// 404 for a path no route serves.
pub async fn no_such_route(uri: axum::http::Uri) -> Problem {
    Problem::status(
        StatusCode::NOT_FOUND,
        format!("nothing is served at {}", uri.path()),
    )
}

/// 405 for a method a route does not serve.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Problem {
    Problem::status(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}
