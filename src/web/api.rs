//! The JSON API: `/persons` and `/healthz`. Bodies use the CLI's JSON field
//! names (`id`, `name`, `created_at`, `updated_at`); every error is a
//! [`Problem`]. The `#[utoipa::path]` attributes are the OpenAPI document.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::openapi::PersonSchema;
use super::problem::Problem;
use super::store::Store;
use crate::{PageRequest, Person, PersonName};

/// Items per numbered page when `per_page` is not given (Flask-SQLAlchemy's default).
pub const DEFAULT_PER_PAGE: i64 = 20;
/// The most items a numbered page holds; a larger `per_page` is lowered to it.
pub const MAX_PER_PAGE: i64 = 100;
/// Items per keyset page when `limit` is not given.
pub const DEFAULT_LIMIT: i64 = 50;
/// The most items a keyset page holds; a larger `limit` is lowered to it.
pub const MAX_LIMIT: i64 = 1_000;

/// The query of `GET /persons`: a numbered page (`page`, `per_page`) or a
/// keyset page (`after`, `limit`), optionally narrowed by `q`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Numbered pages: the page, from 1 (default 1). A page past the end
    /// other than page 1 is 404, as is a page below 1.
    #[param(minimum = 1, example = 1)]
    pub page: Option<i64>,
    /// Numbered pages: items per page (default 20, at most 100; below 1 is 404).
    #[param(minimum = 1, example = 20)]
    pub per_page: Option<i64>,
    /// Keyset pages: only ids above this one (default: from the start).
    /// Not with `page` or `per_page` (400).
    pub after: Option<i64>,
    /// Keyset pages: at most this many items (default 50, at most 1,000;
    /// below 1 is 400). Not with `page` or `per_page` (400).
    #[param(minimum = 1)]
    pub limit: Option<i64>,
    /// Only names containing this text, ignoring ASCII case (all case on PostgreSQL).
    #[param(example = "ali")]
    pub q: Option<String>,
}

/// A numbered page: Flask-SQLAlchemy's `Pagination`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NumberedPage {
    /// The people on this page, by id.
    #[schema(value_type = Vec<PersonSchema>)]
    pub items: Vec<Person>,
    /// This page's number, from 1.
    pub page: i64,
    /// Items per page (after the maximum is applied).
    pub per_page: i64,
    /// People in all pages.
    pub total: i64,
    /// How many pages there are.
    pub pages: i64,
}

/// A keyset page: the people after a cursor, and the next cursor.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeysetPage {
    /// The people, by id.
    #[schema(value_type = Vec<PersonSchema>)]
    pub items: Vec<Person>,
    /// Items asked for (after the maximum is applied).
    pub limit: i64,
    /// The `after` of the next page; `null` when this page was the last.
    pub next_after: Option<i32>,
}

/// Either kind of page.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PersonPage {
    /// `page`/`per_page` (the default).
    Numbered(NumberedPage),
    /// `after`/`limit`.
    Keyset(KeysetPage),
}

/// The body of `POST /persons` and `PATCH /persons/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NameBody {
    /// 1 to 80 characters, no control characters, no leading or trailing
    /// whitespace, and not another person's name.
    // The pattern is `PersonName`'s rules: no control character (Unicode Cc),
    // no White_Space character first or last; `\u` escapes read the same in
    // ECMA-262 and Python. `web::the_name_pattern_is_person_name_s_rules` checks it.
    #[schema(
        example = "Grace Hopper",
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]([^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?$"
    )]
    pub name: String,
}

/// The body of `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` (any other state is a 503 problem).
    pub status: &'static str,
}

/// One page of people.
#[utoipa::path(
    get, path = "/persons", tag = "persons",
    params(ListQuery),
    responses(
        (status = 200, description = "A numbered page, or a keyset page when `after` or `limit` is given", body = PersonPage),
        (status = 400, description = "A parameter is not a number, or both page kinds are asked for", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such page", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(store): State<Store>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<PersonPage>, Problem> {
    let Query(query) = query.map_err(|r| Problem::bad_request(r.body_text()))?;
    let keyset = query.after.is_some() || query.limit.is_some();
    if !keyset {
        let request = PageRequest {
            page: query.page.unwrap_or(1),
            per_page: query.per_page.unwrap_or(DEFAULT_PER_PAGE),
            max_per_page: Some(MAX_PER_PAGE),
            search: query.q,
        };
        let page = store.paginate(request).await?;
        return Ok(Json(PersonPage::Numbered(NumberedPage {
            page: page.page(),
            per_page: page.per_page(),
            total: page.total(),
            pages: page.pages(),
            items: page.into_items(),
        })));
    }
    if query.page.is_some() || query.per_page.is_some() {
        return Err(Problem::bad_request(
            "use page/per_page (numbered pages) or after/limit (keyset pages), not both",
        ));
    }
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit < 1 {
        return Err(Problem::bad_request(format!(
            "limit must be 1 or more, not {limit}"
        )));
    }
    let limit = limit.min(MAX_LIMIT);
    // Every id is an i32: past its range nothing follows, before it everything does.
    let after = match query.after {
        None => None,
        Some(after) if after > i64::from(i32::MAX) => {
            return Ok(Json(PersonPage::Keyset(KeysetPage {
                items: Vec::new(),
                limit,
                next_after: None,
            })));
        }
        Some(after) => i32::try_from(after).ok(),
    };
    let needle = query.q;
    let items = store
        .read(move |conn| match needle {
            Some(needle) => crate::search(conn, &needle, after, limit),
            None => crate::list(conn, after, limit),
        })
        .await?;
    let next_after = match items.last() {
        Some(last) if items.len() as i64 == limit => Some(last.id),
        _ => None,
    };
    Ok(Json(PersonPage::Keyset(KeysetPage {
        items,
        limit,
        next_after,
    })))
}

/// The person with this id.
#[utoipa::path(
    get, path = "/persons/{id}", tag = "persons",
    params(("id" = i32, Path, description = "The person's id", example = 1)),
    responses(
        (status = 200, description = "The person", body = PersonSchema),
        (status = 404, description = "No person has this id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(store): State<Store>,
    Path(id): Path<String>,
) -> Result<Json<Person>, Problem> {
    let id = parse_id(&id)?;
    Ok(Json(store.read(move |conn| crate::get(conn, id)).await?))
}

/// Adds a person.
#[utoipa::path(
    post, path = "/persons", tag = "persons",
    request_body(content = NameBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Added; `Location` is the new person's URL", body = PersonSchema,
            headers(("Location" = String, description = "/persons/{id} of the new person"))),
        (status = 400, description = "The body is not a JSON object with a string `name`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site request (see the README's CSRF note)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another person has this name", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The name breaks a rule; `detail` says which", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    State(store): State<Store>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let name = name_from_body(&headers, body)?;
    let person = store.write(move |conn| crate::create(conn, name)).await?;
    let location = format!("{}/{}", uri.path().trim_end_matches('/'), person.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(person),
    )
        .into_response())
}

/// Renames a person.
#[utoipa::path(
    patch, path = "/persons/{id}", tag = "persons",
    params(("id" = i32, Path, description = "The person's id", example = 1)),
    request_body(content = NameBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The renamed person", body = PersonSchema),
        (status = 400, description = "The body is not a JSON object with a string `name`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site request", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No person has this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another person has this name", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The name breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn rename(
    State(store): State<Store>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Person>, Problem> {
    let id = parse_id(&id)?;
    let name = name_from_body(&headers, body)?;
    Ok(Json(
        store
            .write(move |conn| crate::rename(conn, id, name))
            .await?,
    ))
}

/// Deletes a person.
#[utoipa::path(
    delete, path = "/persons/{id}", tag = "persons",
    params(("id" = i32, Path, description = "The person's id", example = 1)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "A cross-site request", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No person has this id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete(
    State(store): State<Store>,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let id = parse_id(&id)?;
    store.write(move |conn| crate::delete(conn, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the database answers.
#[utoipa::path(
    get, path = "/healthz", tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = Health),
        (status = 503, description = "It does not", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn health(State(store): State<Store>) -> Result<Json<Health>, Problem> {
    store.ping().await?;
    Ok(Json(Health { status: "ok" }))
}

/// An id from a path; anything that is not one names no person (404).
fn parse_id(raw: &str) -> Result<i32, Problem> {
    raw.parse().map_err(|_| {
        Problem::status(
            StatusCode::NOT_FOUND,
            format!(
                "no person with id {}",
                crate::name::preview_at_most(raw, 24)
            ),
        )
    })
}

/// The checked `name` of a JSON body `{"name": …}`.
fn name_from_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<PersonName, Problem> {
    let body = body.map_err(|r| Problem::status(r.status(), r.body_text()))?;
    if !is_json(headers) {
        return Err(Problem::status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as application/json",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| Problem::bad_request(format!("the body is not JSON: {e}")))?;
    let Some(serde_json::Value::String(name)) = value.as_object().and_then(|o| o.get("name"))
    else {
        return Err(Problem::bad_request(
            r#"the body must be a JSON object with a string "name""#,
        ));
    };
    Ok(PersonName::new(name.as_str())?)
}

/// `application/json`, or any `application/…+json`, with any parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}
