//! The OpenAPI 3.1 document at `/openapi.json`, generated from the handlers'
//! `#[utoipa::path]` attributes and the body types (never written by hand).

use axum::Json;
use utoipa::{OpenApi, ToSchema};

use super::api;
use super::problem::Problem;

/// How a [`Person`](crate::Person) looks in JSON. The library's type has no
/// OpenAPI derive (an embedding app should not compile utoipa), so this
/// mirrors it; `web::a_person_serializes_as_its_schema_says` checks that the
/// two agree.
#[derive(ToSchema)]
#[schema(as = Person)]
#[allow(dead_code)]
pub struct PersonSchema {
    /// The id, from 1.
    #[schema(example = 1)]
    id: i32,
    /// The unique name.
    #[schema(example = "Alice")]
    name: String,
    /// When the person was added: RFC 3339, UTC (ends in `Z`), microseconds.
    #[schema(format = DateTime, example = "2026-11-26T08:24:51.993879Z")]
    created_at: String,
    /// When the name last changed (as `created_at` until then).
    #[schema(format = DateTime, example = "2026-11-26T08:31:02.120004Z")]
    updated_at: String,
}

/// The document's root.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "people",
        description = "The Person model over HTTP: the Flask-SQLAlchemy tutorial's routes, \
                       served by `people serve`. Errors are RFC 9457 problems.",
    ),
    paths(api::list, api::get, api::create, api::rename, api::delete, api::health),
    components(schemas(PersonSchema, Problem, api::NameBody, api::NumberedPage, api::KeysetPage, api::Health)),
    tags(
        (name = "persons", description = "The people"),
        (name = "operations", description = "For load balancers and monitors"),
    )
)]
pub struct ApiDoc;

/// `GET /openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
