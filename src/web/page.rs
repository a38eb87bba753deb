//! The page at `/`: the numbered list with pagination links and a search
//! box, a form to add, and per row forms to rename and delete. Server-rendered
//! by askama (`templates/page.html`), which escapes every name; no
//! JavaScript. A form that succeeds redirects (303, so a reload does not
//! post again); one that fails shows the page again with the error next to
//! the form and the typed name kept.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, OriginalUri, Path, Query, Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::problem::Problem;
use super::store::Store;
use crate::{PageRequest, PageWindow, Pagination, PersonName};

/// People per page (Flask-SQLAlchemy's default).
pub const PER_PAGE: i64 = 20;

/// Which page to show: `?page=P&q=TEXT`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct View {
    /// The page number; anything but a number from 1 shows "no such page".
    pub page: Option<String>,
    /// Only names containing this text.
    pub q: String,
}

/// A form's fields: the name (add, rename) and the view to go back to.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NameForm {
    /// The name typed.
    pub name: String,
    /// The page the form was on.
    pub page: Option<String>,
    /// The search the form was under.
    pub q: String,
}

/// What every form post carries: where the app is mounted, the fields, and
/// the page the form was on. A body that is not a form is a problem (415,
/// or 413 when too big).
pub struct Posted {
    base: String,
    form: NameForm,
    page: i64,
}

impl<S: Send + Sync> FromRequest<S> for Posted {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let base = match request.extensions().get::<OriginalUri>() {
            Some(OriginalUri(original)) => base_path(original, request.uri()),
            None => String::new(),
        };
        let Form(form) = Form::<NameForm>::from_request(request, state)
            .await
            .map_err(|rejection| form_rejected(&rejection))?;
        let page = page_number(form.page.as_deref()).unwrap_or(1);
        Ok(Posted { base, form, page })
    }
}

/// `GET /`.
pub async fn show(
    State(store): State<Store>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    view: Result<Query<View>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let base = base_path(&original, &uri);
    let view = view.map(|Query(v)| v).unwrap_or_default();
    let Some(page) = page_number(view.page.as_deref()) else {
        return no_such_page(&store, base, view.q).await;
    };
    render(
        &store,
        base,
        page,
        view.q,
        Feedback::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /add`: adds the name, then shows the last page, where it is.
pub async fn add(State(store): State<Store>, posted: Posted) -> Response {
    let Posted { base, form, page } = posted;
    let failed = |problem: Problem, typed: String| Feedback {
        add_value: typed,
        add_error: Some(problem.detail.clone()),
        status: Some(problem.status_code()),
        ..Feedback::default()
    };
    let name = match PersonName::new(form.name.as_str()) {
        Ok(name) => name,
        Err(e) => {
            let feedback = failed(Problem::from(e), form.name);
            return render(&store, base, page, form.q, feedback, StatusCode::OK).await;
        }
    };
    match store.write(move |conn| crate::create(conn, name)).await {
        Ok(person) => {
            let last = last_page(&store, String::new()).await;
            see_other(&base, last, "", Some(person.id))
        }
        Err(problem) => {
            let feedback = failed(problem, form.name);
            render(&store, base, page, form.q, feedback, StatusCode::OK).await
        }
    }
}

/// `POST /rename/{id}`.
pub async fn rename(
    State(store): State<Store>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Posted { base, form, page } = posted;
    let outcome = match (id.parse::<i32>(), PersonName::new(form.name.as_str())) {
        (Ok(id), Ok(name)) => store
            .write(move |conn| crate::rename(conn, id, name))
            .await
            .map(|person| person.id),
        (Err(_), _) => Err(Problem::status(
            StatusCode::NOT_FOUND,
            "no such person (deleted meanwhile?)",
        )),
        (_, Err(e)) => Err(Problem::from(e)),
    };
    match outcome {
        Ok(id) => see_other(&base, page, &form.q, Some(id)),
        Err(problem) => {
            let feedback = Feedback {
                row: id.parse().ok(),
                row_value: form.name,
                row_error: Some(problem.detail.clone()),
                status: Some(problem.status_code()),
                ..Feedback::default()
            };
            render(&store, base, page, form.q, feedback, StatusCode::OK).await
        }
    }
}

/// `POST /delete/{id}`: deletes, then shows the same page (or the new last
/// one, if that page is gone).
pub async fn delete(
    State(store): State<Store>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Posted { base, form, page } = posted;
    let outcome = match id.parse::<i32>() {
        Ok(id) => store.write(move |conn| crate::delete(conn, id)).await,
        Err(_) => Err(Problem::status(StatusCode::NOT_FOUND, "no such person")),
    };
    match outcome {
        Ok(_) => {
            let last = last_page(&store, form.q.clone()).await;
            see_other(&base, page.min(last), &form.q, None)
        }
        Err(problem) => {
            let feedback = Feedback {
                notice: Some(problem.detail.clone()),
                status: Some(problem.status_code()),
                ..Feedback::default()
            };
            render(&store, base, page, form.q, feedback, StatusCode::OK).await
        }
    }
}

/// What a failed form shows, and the status of the page that shows it.
#[derive(Debug, Default)]
struct Feedback {
    add_value: String,
    add_error: Option<String>,
    /// The row whose rename failed, what was typed there, and why.
    row: Option<i32>,
    row_value: String,
    row_error: Option<String>,
    notice: Option<String>,
    /// `None` (the default) means the caller's status.
    status: Option<StatusCode>,
}

/// The page template's data.
#[derive(Template)]
#[template(path = "page.html")]
struct PageView {
    base: String,
    rows: Vec<Row>,
    page: i64,
    pages: i64,
    total: i64,
    first: i64,
    q: String,
    links: Vec<Option<Link>>,
    prev: Option<String>,
    next: Option<String>,
    add_value: String,
    add_error: Option<String>,
    notice: Option<String>,
}

struct Row {
    id: i32,
    name: String,
    rename_value: String,
    error: Option<String>,
}

struct Link {
    number: i64,
    query: String,
    current: bool,
}

impl PageView {
    fn new(base: String, pagination: Pagination, q: String, feedback: Feedback) -> Self {
        let page = pagination.page();
        let link = |number: i64| query_string(number, &q);
        let links = pagination
            .iter_pages(PageWindow::default())
            .into_iter()
            .map(|n| {
                n.map(|number| Link {
                    number,
                    query: link(number),
                    current: number == page,
                })
            })
            .collect();
        let rows = pagination
            .items()
            .iter()
            .map(|person| {
                let failed_here = feedback.row == Some(person.id);
                Row {
                    id: person.id,
                    name: person.name.clone(),
                    rename_value: if failed_here {
                        feedback.row_value.clone()
                    } else {
                        person.name.clone()
                    },
                    error: if failed_here {
                        feedback.row_error.clone()
                    } else {
                        None
                    },
                }
            })
            .collect();
        let notice = feedback.notice.or_else(|| {
            (pagination.total() == 0).then(|| {
                if q.is_empty() {
                    "Nobody yet: add the first name above.".to_owned()
                } else {
                    "No name matches the search.".to_owned()
                }
            })
        });
        PageView {
            base,
            rows,
            page,
            pages: pagination.pages(),
            total: pagination.total(),
            first: pagination.first().max(1),
            prev: pagination.prev_num().map(link),
            next: pagination.next_num().map(link),
            links,
            q,
            add_value: feedback.add_value,
            add_error: feedback.add_error,
            notice,
        }
    }
}

/// Renders page `page` of the view `q` with `feedback`.
async fn render(
    store: &Store,
    base: String,
    page: i64,
    q: String,
    feedback: Feedback,
    status: StatusCode,
) -> Response {
    let status = feedback.status.unwrap_or(status);
    let request = PageRequest {
        page,
        per_page: PER_PAGE,
        max_per_page: None,
        search: (!q.is_empty()).then(|| q.clone()),
    };
    match store.paginate(request).await {
        Ok(pagination) => html(status, &PageView::new(base, pagination, q, feedback)),
        Err(problem) if problem.status == 404 => no_such_page(store, base, q).await,
        Err(problem) => problem.into_response(),
    }
}

/// Page 1 with a notice, as 404: the page asked for does not exist.
async fn no_such_page(store: &Store, base: String, q: String) -> Response {
    let search = (!q.is_empty()).then(|| q.clone());
    let request = PageRequest {
        search,
        ..PageRequest::new(1, PER_PAGE)
    };
    match store.paginate(request).await {
        Ok(pagination) => {
            let feedback = Feedback {
                notice: Some("There is no such page; this is the first one.".to_owned()),
                ..Feedback::default()
            };
            html(
                StatusCode::NOT_FOUND,
                &PageView::new(base, pagination, q, feedback),
            )
        }
        Err(problem) => problem.into_response(),
    }
}

/// The number of the last page of the view `q` (1 when it is empty).
async fn last_page(store: &Store, q: String) -> i64 {
    let request = PageRequest {
        search: (!q.is_empty()).then_some(q),
        ..PageRequest::new(1, PER_PAGE)
    };
    store
        .paginate(request)
        .await
        .map_or(1, |first| first.pages().max(1))
}

fn html(status: StatusCode, view: &PageView) -> Response {
    match view.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(error) => {
            tracing::error!(target: "people::web", %error, "the page template failed");
            Problem::internal().into_response()
        }
    }
}

/// 303 to page `page` of the view `q`, at the row `anchor` if given.
fn see_other(base: &str, page: i64, q: &str, anchor: Option<i32>) -> Response {
    let mut location = format!("{base}/?{}", query_string(page, q));
    if let Some(id) = anchor {
        location.push_str(&format!("#person-{id}"));
    }
    Redirect::to(&location).into_response()
}

/// `page=P` and, when searching, `&q=…`, URL-encoded.
fn query_string(page: i64, q: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("page", &page.to_string());
    if !q.is_empty() {
        query.append_pair("q", q);
    }
    query.finish()
}

/// A page number from 1, or `None`.
fn page_number(raw: Option<&str>) -> Option<i64> {
    match raw {
        None | Some("") => Some(1),
        Some(raw) => raw.trim().parse().ok().filter(|&n| n >= 1),
    }
}

/// The path the router is nested under (empty at the root), so that links
/// and redirects stay inside it.
fn base_path(original: &Uri, uri: &Uri) -> String {
    let (outer, inner) = (original.path(), uri.path());
    // Nested at `/people`, a request for `/people` reaches the inner `/`.
    outer
        .strip_suffix(inner)
        .or_else(|| outer.strip_suffix(inner.trim_end_matches('/')))
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_owned()
}

/// A form body that is not `application/x-www-form-urlencoded`, or too big.
fn form_rejected(rejection: &FormRejection) -> Response {
    Problem::status(rejection.status(), rejection.body_text()).into_response()
}
