//! `people serve`: the seed's web routes over the library, as an app that
//! embeds it the way the crate docs say (a [`Pool`](crate::Pool), one
//! connection per request).
//!
//! * [`api`]: the JSON API under `/persons`, errors as RFC 9457 problems
//!   ([`problem`]), described by an OpenAPI 3.1 document built from the code
//!   ([`openapi`]).
//! * [`page`]: the server-rendered page at `/` (askama templates in
//!   `src/web/templates/`), with forms to add, rename and delete.
//! * [`store`]: how a request reaches the database. The library is
//!   synchronous, so it never runs on the async executor: reads run on
//!   tokio's blocking threads with a pooled connection, and on SQLite every
//!   write goes through one writer thread (see [`store`] for why).
//! * [`guard`]: one log line per request, and the same-origin check that
//!   refuses cross-site state changes (CSRF).
//! * [`server`]: binding, the signals and the graceful shutdown.
//!
//! Embedding the router in another axum app:
//!
//! ```no_run
//! # async fn app() -> Result<(), Box<dyn std::error::Error>> {
//! let store = people::web::Store::open("people.db", &people::web::StoreOptions::default())?;
//! let app = axum::Router::new().nest("/people", people::web::router(store));
//! # Ok(()) }
//! ```

pub mod api;
pub mod guard;
pub mod openapi;
pub mod page;
pub mod problem;
pub mod server;
pub mod store;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use problem::Problem;
pub use server::{ServeError, ServeOptions, serve};
pub use store::{Store, StoreOptions};

/// The largest request body accepted, in bytes; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every route: the JSON API, the page, `/healthz` and `/openapi.json`, with
/// the request log, the same-origin check and the body limit.
pub fn router(store: Store) -> Router {
    Router::new()
        .route("/persons", get(api::list).post(api::create))
        .route(
            "/persons/{id}",
            get(api::get).patch(api::rename).delete(api::delete),
        )
        .route("/healthz", get(api::health))
        .route("/openapi.json", get(openapi::document))
        .route("/", get(page::show))
        .route("/add", post(page::add))
        .route("/rename/{id}", post(page::rename))
        .route("/delete/{id}", post(page::delete))
        .fallback(problem::no_such_route)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(guard::same_origin))
        .layer(axum::middleware::from_fn(guard::log_request))
        .with_state(store)
}
