//! `people::web`: every route and status of the JSON API and the page, on
//! both backends, with the router called in-process (no socket). The real
//! binary on a port is in `cli::serve`; the page in a browser in `web_browser`.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use people::web::{Store, StoreOptions};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::*;

crate::support::tests! {
    plain {
        a_person_serializes_as_its_schema_says,
        the_name_pattern_is_person_name_s_rules,
    }
    per_backend {
        get_returns_the_person_with_the_cli_field_names,
        get_of_a_missing_or_malformed_id_is_a_404_problem,
        post_creates_with_201_and_location,
        post_of_a_taken_name_is_409_and_adds_nothing,
        post_of_an_invalid_name_is_422_with_the_reason,
        post_of_a_malformed_body_is_400,
        post_of_another_media_type_is_415,
        post_of_a_body_over_64_kib_is_413,
        patch_renames_or_answers_404_409_422,
        delete_is_204_then_404,
        numbered_pages_follow_flask_sqlalchemy,
        numbered_page_totals_follow_every_write,
        keyset_pages_walk_everyone_with_a_cursor,
        search_narrows_both_page_kinds,
        bad_query_parameters_are_400,
        healthz_answers_200,
        an_exhausted_pool_answers_503_with_retry_after,
        cross_site_writes_are_refused,
        unknown_routes_and_methods_are_problems,
        openapi_document_is_3_1_and_lists_every_route,
        the_page_lists_people_escaped_with_links,
        the_page_adds_renames_and_deletes_with_redirects,
        the_page_shows_form_errors_next_to_the_form,
        a_nested_router_keeps_its_prefix,
    }
}

/// The router over `db`, with small waits so a 503 test is quick.
fn app(db: &TestDb) -> Router {
    people::web::router(store(db, StoreOptions::default()))
}

fn store(db: &TestDb, options: StoreOptions) -> Store {
    Store::open(db.url(), &options).unwrap()
}

/// A runtime per test: the harness runs tests on plain threads.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A response, read whole.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json body with this status, and returns it.
    fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        assert_eq!(
            self.header(header::CONTENT_TYPE),
            Some("application/problem+json")
        );
        let problem = self.json();
        for field in ["type", "title", "detail"] {
            assert!(problem[field].is_string(), "{field} missing: {problem}");
        }
        assert_eq!(problem["status"], status);
        problem
    }
}

fn send(app: &Router, request: Request<Body>) -> Reply {
    runtime().block_on(send_async(app, request))
}

async fn send_async(app: &Router, request: Request<Body>) -> Reply {
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

fn get(app: &Router, uri: &str) -> Reply {
    send(app, Request::get(uri).body(Body::empty()).unwrap())
}

fn with_json(method: &str, uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .unwrap()
}

fn post_name(app: &Router, name: &str) -> Reply {
    send(
        app,
        with_json("POST", "/persons", json!({ "name": name }).to_string()),
    )
}

fn form(uri: &str, fields: &[(&str, &str)]) -> Request<Body> {
    let body = fields
        .iter()
        .map(|(k, v)| format!("{}={}", k, encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

/// Percent-encodes everything but unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn seed(db: &TestDb, n: usize) {
    let mut conn = db.connect().unwrap();
    people::create_many(
        &mut conn,
        (1..=n).map(|i| format!("p{i:04}")),
        people::OnConflict::Fail,
    )
    .unwrap();
}

fn count(db: &TestDb) -> i64 {
    people::count(&mut db.connect().unwrap()).unwrap()
}

fn get_returns_the_person_with_the_cli_field_names(db: &TestDb) {
    let app = app(db);
    let created = post_name(&app, "Alice").json();
    let reply = get(&app, &format!("/persons/{}", created["id"]));
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header(header::CONTENT_TYPE), Some("application/json"));
    let person = reply.json();
    assert_eq!(person, created);
    // In the CLI's order, on the wire.
    let text = reply.text();
    let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap();
    assert!(at("id") < at("name") && at("name") < at("created_at"));
    assert!(at("created_at") < at("updated_at"));
    assert_eq!(person.as_object().unwrap().len(), 4);
    let stored = people::get(
        &mut db.connect().unwrap(),
        person["id"].as_i64().unwrap() as i32,
    )
    .unwrap();
    assert_eq!(person, serde_json::to_value(&stored).unwrap());
    assert!(person["created_at"].as_str().unwrap().ends_with('Z'));
}

fn get_of_a_missing_or_malformed_id_is_a_404_problem(db: &TestDb) {
    let app = app(db);
    let problem = get(&app, "/persons/42").problem(404);
    assert_eq!(problem["detail"], "no person with id 42");
    assert_eq!(problem["type"], "tag:people.rs,2026:not-found");
    for malformed in ["abc", "1.5", "99999999999", "-", "%00"] {
        get(&app, &format!("/persons/{malformed}")).problem(404);
    }
}

fn post_creates_with_201_and_location(db: &TestDb) {
    let app = app(db);
    let reply = post_name(&app, "Alice");
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let person = reply.json();
    assert_eq!(person["name"], "Alice");
    assert_eq!(person["created_at"], person["updated_at"]);
    let location = reply.header(header::LOCATION).unwrap().to_owned();
    assert_eq!(location, format!("/persons/{}", person["id"]));
    assert_eq!(get(&app, &location).json(), person);
    // A JSON media type with parameters, or a +json one, is JSON too.
    let reply = send(
        &app,
        Request::post("/persons")
            .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
            .body(Body::from(r#"{"name":"Bob","extra":1}"#))
            .unwrap(),
    );
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(count(db), 2);
}

fn post_of_a_taken_name_is_409_and_adds_nothing(db: &TestDb) {
    let app = app(db);
    post_name(&app, "Alice");
    let problem = post_name(&app, "Alice").problem(409);
    assert_eq!(problem["type"], "tag:people.rs,2026:name-taken");
    assert!(problem["detail"].as_str().unwrap().contains("Alice"));
    assert_eq!(count(db), 1);
}

fn post_of_an_invalid_name_is_422_with_the_reason(db: &TestDb) {
    let app = app(db);
    let long = "x".repeat(81);
    for (name, reason) in [
        ("", "cannot be empty"),
        (long.as_str(), "longer than 80 characters"),
        (" Alice", "whitespace"),
        ("A\u{7}", "control character"),
    ] {
        let problem = post_name(&app, name).problem(422);
        assert_eq!(problem["type"], "tag:people.rs,2026:invalid-name");
        assert!(
            problem["detail"].as_str().unwrap().contains(reason),
            "{problem}"
        );
    }
    assert_eq!(count(db), 0);
}

fn post_of_a_malformed_body_is_400(db: &TestDb) {
    let app = app(db);
    for body in [
        "",
        "not json",
        "[]",
        r#""Alice""#,
        "{}",
        r#"{"name": 5}"#,
        r#"{"name": null}"#,
        r#"{"Name": "Alice"}"#,
        r#"{"name": "Alice""#,
    ] {
        let problem = send(&app, with_json("POST", "/persons", body)).problem(400);
        assert!(!problem["detail"].as_str().unwrap().is_empty());
    }
    assert_eq!(count(db), 0);
}

fn post_of_another_media_type_is_415(db: &TestDb) {
    let app = app(db);
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = Request::post("/persons");
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let reply = send(&app, request.body(Body::from(r#"{"name":"A"}"#)).unwrap());
        reply.problem(415);
    }
    assert_eq!(count(db), 0);
}

fn post_of_a_body_over_64_kib_is_413(db: &TestDb) {
    let app = app(db);
    let body = format!(r#"{{"name":"A","pad":"{}"}}"#, "x".repeat(64 * 1024));
    send(&app, with_json("POST", "/persons", body)).problem(413);
    // Just under the limit is read (and then judged on its name).
    let body = format!(r#"{{"name":"A","pad":"{}"}}"#, "x".repeat(60 * 1024));
    assert_eq!(
        send(&app, with_json("POST", "/persons", body)).status,
        StatusCode::CREATED
    );
}

fn patch_renames_or_answers_404_409_422(db: &TestDb) {
    let app = app(db);
    let alice = post_name(&app, "Alice").json();
    post_name(&app, "Bob");
    let uri = format!("/persons/{}", alice["id"]);
    let renamed = send(
        &app,
        with_json("PATCH", &uri, json!({"name": "Alicia"}).to_string()),
    );
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text());
    let renamed = renamed.json();
    assert_eq!(renamed["name"], "Alicia");
    assert_eq!(renamed["created_at"], alice["created_at"]);
    assert!(renamed["updated_at"].as_str() > alice["updated_at"].as_str());
    send(
        &app,
        with_json("PATCH", &uri, json!({"name": "Bob"}).to_string()),
    )
    .problem(409);
    send(
        &app,
        with_json("PATCH", &uri, json!({"name": ""}).to_string()),
    )
    .problem(422);
    send(
        &app,
        with_json("PATCH", "/persons/999", json!({"name": "Zed"}).to_string()),
    )
    .problem(404);
    send(&app, with_json("PATCH", &uri, "{}")).problem(400);
    assert_eq!(get(&app, &uri).json()["name"], "Alicia");
}

fn delete_is_204_then_404(db: &TestDb) {
    let app = app(db);
    let alice = post_name(&app, "Alice").json();
    let uri = format!("/persons/{}", alice["id"]);
    let reply = send(&app, Request::delete(&uri).body(Body::empty()).unwrap());
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.body.is_empty());
    send(&app, Request::delete(&uri).body(Body::empty()).unwrap()).problem(404);
    get(&app, &uri).problem(404);
    assert_eq!(count(db), 0);
}

fn numbered_pages_follow_flask_sqlalchemy(db: &TestDb) {
    seed(db, 45);
    let app = app(db);
    let page = get(&app, "/persons").json();
    assert_eq!(
        (
            &page["page"],
            &page["per_page"],
            &page["total"],
            &page["pages"]
        ),
        (&json!(1), &json!(20), &json!(45), &json!(3))
    );
    assert_eq!(page["items"].as_array().unwrap().len(), 20);
    assert_eq!(page["items"][0]["name"], "p0001");
    let last = get(&app, "/persons?page=3&per_page=20").json();
    let names: Vec<&str> = last["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["p0041", "p0042", "p0043", "p0044", "p0045"]);
    for past in [
        "/persons?page=4",
        "/persons?page=0",
        "/persons?per_page=0",
        "/persons?page=-1",
    ] {
        let problem = get(&app, past).problem(404);
        assert_eq!(problem["type"], "tag:people.rs,2026:invalid-page");
    }
    // per_page is capped at 100.
    seed_more(db, 46..=250);
    let big = get(&app, "/persons?per_page=1000").json();
    assert_eq!((&big["per_page"], &big["pages"]), (&json!(100), &json!(3)));
    assert_eq!(big["items"].as_array().unwrap().len(), 100);
}

fn seed_more(db: &TestDb, range: std::ops::RangeInclusive<usize>) {
    let mut conn = db.connect().unwrap();
    people::create_many(
        &mut conn,
        range.map(|i| format!("p{i:04}")),
        people::OnConflict::Fail,
    )
    .unwrap();
}

fn numbered_page_totals_follow_every_write(db: &TestDb) {
    // The readers remember totals; each write, through the API or by
    // another program, must show at once.
    seed(db, 30);
    let app = app(db);
    let total = |app: &Router| get(app, "/persons?per_page=10").json()["total"].clone();
    assert_eq!(total(&app), 30);
    assert_eq!(total(&app), 30);
    post_name(&app, "new");
    assert_eq!(total(&app), 31);
    people::create(&mut db.connect().unwrap(), "by another program").unwrap();
    assert_eq!(total(&app), 32);
    let search = |app: &Router| get(app, "/persons?q=p00").json()["total"].clone();
    assert_eq!(search(&app), 30);
    people::delete(&mut db.connect().unwrap(), 1).unwrap();
    assert_eq!(search(&app), 29);
    assert_eq!(total(&app), 31);
}

fn keyset_pages_walk_everyone_with_a_cursor(db: &TestDb) {
    seed(db, 25);
    let app = app(db);
    let mut seen = Vec::new();
    let mut uri = "/persons?limit=10".to_owned();
    loop {
        let page = get(&app, &uri).json();
        assert_eq!(page["limit"], 10);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_i64().unwrap()),
        );
        match page["next_after"].as_i64() {
            Some(after) => uri = format!("/persons?after={after}&limit=10"),
            None => break,
        }
    }
    assert_eq!(seen, (1..=25).collect::<Vec<_>>());
    // The last page, exactly full, still names a cursor; the next is empty.
    let page = get(&app, "/persons?after=15&limit=10").json();
    assert_eq!(page["next_after"], 25);
    let page = get(&app, "/persons?after=25").json();
    assert_eq!(
        (page["items"].as_array().unwrap().len(), &page["next_after"]),
        (0, &Value::Null)
    );
    assert_eq!(page["limit"], 50);
    // Capped at 1,000; past any id there is nothing.
    assert_eq!(
        get(&app, "/persons?after=0&limit=5000").json()["limit"],
        1000
    );
    let page = get(&app, "/persons?after=9999999999").json();
    assert_eq!(page["items"], json!([]));
}

fn search_narrows_both_page_kinds(db: &TestDb) {
    let app = app(db);
    for name in ["Alice", "Malice", "Bob", "50%_off"] {
        post_name(&app, name);
    }
    let page = get(&app, "/persons?q=lic").json();
    assert_eq!(page["total"], 2);
    let keyset = get(&app, "/persons?q=lic&after=0").json();
    assert_eq!(keyset["items"].as_array().unwrap().len(), 2);
    // % and _ are literal.
    let page = get(&app, "/persons?q=%25_").json();
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["name"], "50%_off");
}

fn bad_query_parameters_are_400(db: &TestDb) {
    let app = app(db);
    for uri in [
        "/persons?page=abc",
        "/persons?per_page=1e3",
        "/persons?after=x",
        "/persons?limit=",
        "/persons?limit=0",
        "/persons?page=1&after=3",
        "/persons?per_page=5&limit=5",
    ] {
        get(&app, uri).problem(400);
    }
}

fn healthz_answers_200(db: &TestDb) {
    let app = app(db);
    let reply = get(&app, "/healthz");
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({"status": "ok"}));
}

fn an_exhausted_pool_answers_503_with_retry_after(db: &TestDb) {
    seed(db, 3);
    let options = StoreOptions {
        connections: Some(1),
        wait: Duration::from_millis(200),
        ..StoreOptions::default()
    };
    let store = store(db, options);
    let app = people::web::router(store.clone());
    let rt = runtime();
    // Hold the only read connection for longer than the wait.
    let held = std::sync::Arc::new(std::sync::Barrier::new(2));
    let holder = {
        let store = store.clone();
        let held = held.clone();
        rt.spawn(async move {
            store
                .read(move |_conn| {
                    held.wait();
                    std::thread::sleep(Duration::from_millis(1500));
                    Ok(())
                })
                .await
        })
    };
    held.wait();
    let started = std::time::Instant::now();
    let reply = rt.block_on(send_async(
        &app,
        Request::get("/persons/1").body(Body::empty()).unwrap(),
    ));
    let problem = reply.problem(503);
    assert_eq!(reply.header(header::RETRY_AFTER), Some("1"));
    assert_eq!(problem["type"], "tag:people.rs,2026:unavailable");
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "answered only after the holder let go: {:?}",
        started.elapsed()
    );
    rt.block_on(holder).unwrap().unwrap();
    // Free again: served.
    assert_eq!(get(&app, "/persons/1").status, StatusCode::OK);
}

fn cross_site_writes_are_refused(db: &TestDb) {
    let app = app(db);
    let from = |headers: &[(&str, &str)]| {
        let mut request = Request::post("/persons")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::HOST, "127.0.0.1:8080");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        send(
            &app,
            request.body(Body::from(r#"{"name":"Mallory"}"#)).unwrap(),
        )
    };
    from(&[("origin", "http://evil.example")]).problem(403);
    from(&[("sec-fetch-site", "cross-site")]).problem(403);
    from(&[("sec-fetch-site", "same-site")]).problem(403);
    let form = send(
        &app,
        Request::post("/add")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("origin", "http://evil.example")
            .header(header::HOST, "127.0.0.1:8080")
            .body(Body::from("name=Mallory"))
            .unwrap(),
    );
    form.problem(403);
    assert_eq!(count(db), 0);
    // The same origin, and clients that are not browsers, may write.
    assert_eq!(
        from(&[("origin", "http://127.0.0.1:8080")]).status,
        StatusCode::CREATED
    );
    assert_eq!(count(db), 1);
}

fn unknown_routes_and_methods_are_problems(db: &TestDb) {
    let app = app(db);
    get(&app, "/nope").problem(404);
    let reply = send(
        &app,
        Request::put("/persons/1").body(Body::empty()).unwrap(),
    );
    reply.problem(405);
    let allow = reply.header(header::ALLOW).unwrap();
    for method in ["GET", "PATCH", "DELETE"] {
        assert!(allow.contains(method), "{allow}");
    }
}

fn openapi_document_is_3_1_and_lists_every_route(db: &TestDb) {
    let doc = get(&app(db), "/openapi.json").json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    let mut listed: Vec<String> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            "DELETE /persons/{id}",
            "GET /healthz",
            "GET /persons",
            "GET /persons/{id}",
            "PATCH /persons/{id}",
            "POST /persons",
        ]
    );
    let post = &doc["paths"]["/persons"]["post"]["responses"];
    for status in ["201", "400", "409", "413", "415", "422"] {
        assert!(post[status].is_object(), "POST /persons lacks {status}");
    }
}

fn a_person_serializes_as_its_schema_says() {
    use utoipa::OpenApi;
    let doc = serde_json::to_value(people::web::openapi::ApiDoc::openapi()).unwrap();
    let schema = &doc["components"]["schemas"]["Person"];
    let mut declared: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    declared.sort_unstable();
    let mut conn = people::init(":memory:").unwrap();
    let person = serde_json::to_value(people::create(&mut conn, "Alice").unwrap()).unwrap();
    let mut actual: Vec<&str> = person
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    actual.sort_unstable();
    assert_eq!(declared, actual);
    let mut required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    required.sort_unstable();
    assert_eq!(required, actual);
}

fn the_page_lists_people_escaped_with_links(db: &TestDb) {
    seed(db, 45);
    let hostile = r#"<script>alert("x")</script> & 'quoted'"#;
    people::create(&mut db.connect().unwrap(), hostile).unwrap();
    let app = app(db);
    let reply = get(&app, "/");
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header(header::CONTENT_TYPE),
        Some("text/html; charset=utf-8")
    );
    let html = reply.text();
    assert!(html.contains("46 people"), "{html}");
    assert!(html.contains(r#"<ol id="people" start="1">"#));
    assert!(html.contains(r#"href="/?page=2""#), "no link to page 2");
    assert!(html.contains("page 1 of 3"));
    let last = get(&app, "/?page=3").text();
    assert!(last.contains(r#"<ol id="people" start="41">"#));
    assert!(!last.contains("<script>"), "the name was not escaped");
    assert!(
        last.contains("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;quoted&#39;"),
        "{last}"
    );
    assert!(last.contains(r#"rel="prev" href="/?page=2""#));
    // Searching keeps the search in the links; an unknown page is a 404 page.
    let search = get(&app, "/?q=p000&page=1").text();
    assert!(search.contains("9 people matching"), "{search}");
    let missing = get(&app, "/?page=9");
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.text().contains("no such page"));
    assert_eq!(get(&app, "/?page=x").status, StatusCode::NOT_FOUND);
}

fn the_page_adds_renames_and_deletes_with_redirects(db: &TestDb) {
    seed(db, 25);
    let app = app(db);
    let added = send(&app, form("/add", &[("name", "Zoë"), ("page", "1")]));
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text());
    assert_eq!(added.header(header::LOCATION), Some("/?page=2#person-26"));
    assert!(get(&app, "/?page=2").text().contains("Zoë"));
    let renamed = send(
        &app,
        form("/rename/26", &[("name", "Zoe"), ("page", "2"), ("q", "Z")]),
    );
    assert_eq!(renamed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        renamed.header(header::LOCATION),
        Some("/?page=2&q=Z#person-26")
    );
    let mut conn = db.connect().unwrap();
    assert_eq!(people::get(&mut conn, 26).unwrap().name, "Zoe");
    let deleted = send(&app, form("/delete/26", &[("page", "2")]));
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    // Page 2 is gone with its only row: back to the last page there is.
    assert_eq!(deleted.header(header::LOCATION), Some("/?page=2"));
    assert!(matches!(
        people::get(&mut conn, 26),
        Err(people::Error::NotFound { .. })
    ));
    let deleted = send(&app, form("/delete/21", &[("page", "2")]));
    assert_eq!(deleted.header(header::LOCATION), Some("/?page=2"));
    for id in 22..=25 {
        send(&app, form(&format!("/delete/{id}"), &[("page", "2")]));
    }
    let deleted = send(&app, form("/delete/20", &[("page", "2")]));
    assert_eq!(deleted.header(header::LOCATION), Some("/?page=1"));
}

fn the_page_shows_form_errors_next_to_the_form(db: &TestDb) {
    let app = app(db);
    send(&app, form("/add", &[("name", "Alice")]));
    let taken = send(&app, form("/add", &[("name", "Alice")]));
    assert_eq!(taken.status, StatusCode::CONFLICT);
    let html = taken.text();
    assert!(
        html.contains(r#"id="error" role="alert">name &#34;Alice&#34; is already taken"#),
        "{html}"
    );
    assert!(html.contains(r#"id="add-name" name="name" value="Alice""#));
    // A decomposed "José" is shown as typed, not as `Jose\u{301}`.
    send(&app, form("/add", &[("name", "Jose\u{301}")]));
    let html = send(&app, form("/add", &[("name", "Jose\u{301}")])).text();
    assert!(
        html.contains("role=\"alert\">name &#34;Jose\u{301}&#34; is already taken"),
        "{html}"
    );
    let long = "y".repeat(81);
    let too_long = send(&app, form("/add", &[("name", &long)]));
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_long.text().contains("longer than 80 characters"));
    send(&app, form("/add", &[("name", "Bob")]));
    // PostgreSQL spent an id on the refused insert: ask for Bob's.
    let mut conn = db.connect().unwrap();
    let bob = people::find_by_name(&mut conn, "Bob").unwrap().unwrap().id;
    let clash = send(&app, form(&format!("/rename/{bob}"), &[("name", "Alice")]));
    assert_eq!(clash.status, StatusCode::CONFLICT);
    let html = clash.text();
    let row = &html[html.find(&format!(r#"id="person-{bob}""#)).unwrap()..];
    assert!(
        row[..row.find("</li>").unwrap()].contains("already taken"),
        "{row}"
    );
    assert_eq!(count(db), 3);
}

fn a_nested_router_keeps_its_prefix(db: &TestDb) {
    let app = Router::new().nest("/people", app(db));
    let reply = post_name_at(&app, "/people/persons", "Alice");
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.header(header::LOCATION), Some("/people/persons/1"));
    let html = get(&app, "/people").text();
    assert!(html.contains(r#"action="/people/add""#), "{html}");
    let added = send(&app, form("/people/add", &[("name", "Bob")]));
    assert_eq!(
        added.header(header::LOCATION),
        Some("/people/?page=1#person-2")
    );
}

fn post_name_at(app: &Router, uri: &str, name: &str) -> Reply {
    send(
        app,
        with_json("POST", uri, json!({ "name": name }).to_string()),
    )
}

/// The OpenAPI document's `pattern` for a name accepts exactly the names
/// `PersonName` accepts (up to 80 characters, which `maxLength` says).
fn the_name_pattern_is_person_name_s_rules() {
    use proptest::prelude::*;
    use utoipa::OpenApi;
    let doc = serde_json::to_value(people::web::openapi::ApiDoc::openapi()).unwrap();
    let pattern = doc["components"]["schemas"]["NameBody"]["properties"]["name"]["pattern"]
        .as_str()
        .expect("a pattern")
        .to_owned();
    let regex = regex::Regex::new(&pattern).unwrap();
    let agrees = |name: &str| {
        let short = name.chars().count() <= 80;
        let valid = people::PersonName::new(name).is_ok();
        assert_eq!(
            short && regex.is_match(name),
            valid,
            "pattern and PersonName disagree on {name:?}"
        );
    };
    // Every interesting character, alone, first, last and inside.
    let edges = [
        '\0', '\t', '\n', '\r', '\u{1f}', ' ', '\u{7f}', '\u{85}', '\u{9f}', '\u{a0}', '\u{ad}',
        '\u{1680}', '\u{180e}', '\u{2000}', '\u{200a}', '\u{200b}', '\u{2028}', '\u{2029}',
        '\u{202f}', '\u{205f}', '\u{3000}', '\u{feff}', 'a', 'é', '中', '😀',
    ];
    for c in edges {
        for name in [
            format!("{c}"),
            format!("{c}x"),
            format!("x{c}"),
            format!("x{c}x"),
        ] {
            agrees(&name);
        }
    }
    let config = ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(name in "\\PC{0,3}[\\s\\p{Cc}]?\\PC{0,3}|.{0,82}")| {
        agrees(&name);
    });
}
