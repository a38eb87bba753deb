//! The page at `/` end to end, in a real headless Chromium driven through
//! chromedriver (WebDriver). The server runs in this process on 127.0.0.1
//! (an ephemeral port, its own tokio runtime on a background thread); the
//! browser types and clicks as a person would; every change is checked on
//! the page and again in the database through the library. A full-page
//! screenshot is kept under `target/browser/` (CI keeps it as an artifact).
//!
//! Waits poll with a deadline ([`TIMEOUT`]); the only fixed pause is the
//! [`POLL`] interval between two looks.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::*;

crate::support::tests! {
    per_backend {
        add_rename_search_page_and_delete_in_a_real_browser => [CHROMIUM],
    }
}

/// How long any one wait may take: the first page load starts Chromium, on
/// a 2-core machine that may also be compiling.
const TIMEOUT: Duration = Duration::from_secs(60);
/// The pause between two looks while waiting.
const POLL: Duration = Duration::from_millis(50);
/// People per page on `/`.
const PER_PAGE: usize = people::web::page::PER_PAGE as usize;

/// Markup, both quotes and an ampersand: must come back as text, verbatim.
const HOSTILE: &str = r#"<script>alert(1)</script> "quoted" & 'single'"#;
/// Hebrew, right to left.
const RTL: &str = "שלום עולם";

fn add_rename_search_page_and_delete_in_a_real_browser(db: &TestDb) {
    let mut conn = db.connect().expect("connect to the test database");
    let seeded = seed(&mut conn);
    let server = Server::start(db.url());
    let driver = ChromeDriver::start();
    let screenshot = match db.backend() {
        people::Backend::Sqlite => "page.png",
        _ => "page-postgres.png",
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the WebDriver client's runtime");
    runtime.block_on(async {
        let browser = Browser::connect(&driver, server.base.clone()).await;
        walk_through(&browser, &mut conn, &seeded, screenshot).await;
        browser
            .client
            .close()
            .await
            .expect("end the WebDriver session (closes Chromium)");
    });
    // On a panic the same happens in the guards' Drop, in this order.
    drop(runtime);
    drop(driver);
    server.stop();
}

/// 45 people, 3 pages: "Seed 01"… with two Adas on different pages, for the search.
fn seed(conn: &mut people::DbConnection) -> Vec<people::Person> {
    let mut names: Vec<String> = (1..=43).map(|i| format!("Seed {i:02}")).collect();
    names.insert(4, "Ada Lovelace".to_owned());
    names.insert(29, "Ada Yonath".to_owned());
    let report = people::create_many(conn, &names, people::OnConflict::Fail).expect("seed");
    assert_eq!(report.inserted, 45);
    let seeded = people::list(conn, None, 1000).expect("list the seeded people");
    let seeded_names: Vec<&str> = seeded.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(seeded_names, names, "seeded in id order");
    seeded
}

/// Everything a person does on the page, checked step by step.
async fn walk_through(
    browser: &Browser,
    conn: &mut people::DbConnection,
    seeded: &[people::Person],
    screenshot: &str,
) {
    // The first page: 20 rows in id order, and the way to the others.
    browser.open("/").await;
    assert_eq!(browser.client.title().await.expect("title"), "People");
    assert_eq!(browser.text("#summary").await, "45 people");
    assert_eq!(browser.text("#page-info").await, "page 1 of 3");
    assert_eq!(browser.row_ids().await, ids(&seeded[..PER_PAGE]));
    assert_eq!(browser.names().await[4], "Ada Lovelace");
    assert!(browser.absent("#prev").await, "no previous page on page 1");
    assert!(browser.absent("#error").await);

    // Add: lands on the last page, at the new row.
    browser.type_into("#add-name", "Grace Hopper").await;
    browser.click_and_load("#add-submit").await;
    let grace = people::find_by_name(conn, "Grace Hopper")
        .expect("look up")
        .expect("Grace Hopper was added");
    browser
        .assert_at("/", &[("page", "3")], Some(grace.id))
        .await;
    assert_eq!(browser.row_name(grace.id).await, "Grace Hopper");
    assert_eq!(browser.text("#page-info").await, "page 3 of 3");
    assert_eq!(browser.text("#summary").await, "46 people");
    assert_eq!(people::count(conn).expect("count"), 46);
    assert_eq!(
        browser.value("#add-name").await,
        "",
        "the add box is empty after a success"
    );

    // Rename in place.
    let row = format!("#person-{}", grace.id);
    browser
        .type_into(
            &format!("{row} form.rename input[name=name]"),
            "Grace Brewster Hopper",
        )
        .await;
    browser
        .click_and_load(&format!("{row} button.rename-submit"))
        .await;
    browser
        .assert_at("/", &[("page", "3")], Some(grace.id))
        .await;
    assert_eq!(browser.row_name(grace.id).await, "Grace Brewster Hopper");
    assert_eq!(
        people::get(conn, grace.id).expect("get").name,
        "Grace Brewster Hopper"
    );
    assert!(browser.absent(".row-error").await);

    // A rename to a taken name: the error in that row, what was typed kept
    // there, the name unchanged.
    let rename_input = format!("{row} form.rename input[name=name]");
    browser.type_into(&rename_input, "Ada Yonath").await;
    browser
        .click_and_load(&format!("{row} button.rename-submit"))
        .await;
    let row_error = browser.text(&format!("{row} p.row-error")).await;
    assert!(
        row_error.contains("already taken") && row_error.contains("Ada Yonath"),
        "p.row-error says: {row_error:?}"
    );
    let row_errors = browser.client.find_all(Locator::Css(".row-error")).await;
    assert_eq!(row_errors.expect("row errors").len(), 1, "only in that row");
    assert_eq!(browser.value(&rename_input).await, "Ada Yonath");
    assert_eq!(browser.row_name(grace.id).await, "Grace Brewster Hopper");
    assert_eq!(
        people::get(conn, grace.id).expect("get").name,
        "Grace Brewster Hopper"
    );
    assert!(browser.absent("#error").await, "not the add form's error");

    // A hostile name is text: not markup, not a script, not an attribute's end.
    browser.type_into("#add-name", HOSTILE).await;
    browser.click_and_load("#add-submit").await;
    let hostile = people::find_by_name(conn, HOSTILE)
        .expect("look up")
        .expect("the hostile name was added verbatim");
    browser
        .assert_at("/", &[("page", "3")], Some(hostile.id))
        .await;
    let alert = browser.client.get_alert_text().await;
    assert!(
        alert.as_ref().is_err_and(|e| e.is_no_such_alert()),
        "no alert may open: {alert:?}"
    );
    assert_eq!(browser.row_name(hostile.id).await, HOSTILE);
    assert_eq!(
        browser
            .js("return document.querySelectorAll('script').length")
            .await,
        json!(0),
        "a <script> element was injected"
    );
    let rename_box = format!("#person-{} form.rename input[name=name]", hostile.id);
    assert_eq!(browser.value(&rename_box).await, HOSTILE);
    assert_eq!(
        browser
            .find(&rename_box)
            .await
            .attr("aria-label")
            .await
            .expect("aria-label"),
        Some(format!("New name for {HOSTILE}"))
    );

    // Right to left, verbatim, and isolated as right-to-left text.
    browser.type_into("#add-name", RTL).await;
    browser.click_and_load("#add-submit").await;
    let rtl = people::find_by_name(conn, RTL)
        .expect("look up")
        .expect("the Hebrew name was added");
    browser.assert_at("/", &[("page", "3")], Some(rtl.id)).await;
    assert_eq!(browser.row_name(rtl.id).await, RTL);
    let direction = |id: i32| {
        format!("return document.querySelector('#person-{id} bdi.name').matches(':dir(rtl)')")
    };
    assert_eq!(browser.js(&direction(rtl.id)).await, json!(true));
    assert_eq!(browser.js(&direction(grace.id)).await, json!(false));
    assert_eq!(
        browser
            .value(&format!("#person-{} form.rename input[name=name]", rtl.id))
            .await,
        RTL
    );
    assert_eq!(browser.text("#summary").await, "48 people");

    // A taken name: the error next to the form, the typed name kept, nothing added.
    let rows_before = browser.row_ids().await;
    browser.type_into("#add-name", "Ada Lovelace").await;
    browser.click_and_load("#add-submit").await;
    let error = browser.text("#error").await;
    assert!(
        error.contains("already taken") && error.contains("Ada Lovelace"),
        "p#error says: {error:?}"
    );
    let role = browser
        .find("#error")
        .await
        .attr("role")
        .await
        .expect("role");
    assert_eq!(role.as_deref(), Some("alert"));
    assert_eq!(browser.value("#add-name").await, "Ada Lovelace");
    assert_eq!(people::count(conn).expect("count"), 48, "nothing was added");
    assert_eq!(browser.row_ids().await, rows_before);
    assert_eq!(browser.text("#page-info").await, "page 3 of 3");
    browser.save_full_page_screenshot(screenshot).await;

    // Search: only the matching rows, on one page, the query kept.
    browser.type_into("#q", "Ada").await;
    browser.click_and_load("#search-submit").await;
    browser.assert_at("/", &[("q", "Ada")], None).await;
    assert_eq!(browser.names().await, ["Ada Lovelace", "Ada Yonath"]);
    assert_eq!(browser.text("#summary").await, "2 people matching “Ada”");
    assert_eq!(browser.value("#q").await, "Ada");
    assert!(
        browser.absent("#pages").await,
        "one page of results has no page links"
    );
    browser.type_into("#q", "שלום").await;
    browser.click_and_load("#search-submit").await;
    browser.assert_at("/", &[("q", "שלום")], None).await;
    assert_eq!(browser.names().await, [RTL]);

    // Paging, forward and back, against the library's order.
    let everyone = people::list(conn, None, 1000).expect("list");
    let pages: Vec<&[people::Person]> = everyone.chunks(PER_PAGE).collect();
    assert_eq!(pages.len(), 3);
    browser.open("/").await;
    assert_eq!(browser.text("#page-info").await, "page 1 of 3");
    assert_eq!(browser.text("#pages .current").await, "1");
    assert_eq!(browser.row_ids().await, ids(pages[0]));
    browser.click_and_load("#next").await;
    browser.assert_at("/", &[("page", "2")], None).await;
    assert_eq!(browser.text("#page-info").await, "page 2 of 3");
    assert_eq!(browser.row_ids().await, ids(pages[1]));
    browser.click_and_load("#next").await;
    assert_eq!(browser.text("#page-info").await, "page 3 of 3");
    assert_eq!(browser.row_ids().await, ids(pages[2]));
    assert!(
        browser.absent("#next").await,
        "no next page on the last page"
    );
    browser.click_and_load("#prev").await;
    assert_eq!(browser.text("#page-info").await, "page 2 of 3");
    assert_eq!(browser.row_ids().await, ids(pages[1]));
    browser.click_and_load("#prev").await;
    assert_eq!(browser.text("#page-info").await, "page 1 of 3");
    assert!(browser.absent("#prev").await, "no previous page on page 1");
    browser.click_link("3").await;
    assert_eq!(browser.text("#page-info").await, "page 3 of 3");
    assert_eq!(browser.text("#pages .current").await, "3");

    // Delete on page 2: the same page again, without the row, and the row
    // gone from the database.
    browser.open("/?page=2").await;
    let doomed = &pages[1][5];
    browser
        .click_and_load(&format!("#person-{} button.delete-submit", doomed.id))
        .await;
    browser.assert_at("/", &[("page", "2")], None).await;
    assert!(browser.absent(&format!("#person-{}", doomed.id)).await);
    assert!(
        matches!(people::get(conn, doomed.id), Err(people::Error::NotFound { id }) if id == doomed.id),
        "deleted from the database"
    );
    assert_eq!(people::count(conn).expect("count"), 47);
    assert_eq!(browser.text("#summary").await, "47 people");
    let after: Vec<i32> = ids(&everyone)
        .into_iter()
        .filter(|&id| id != doomed.id)
        .skip(PER_PAGE)
        .take(PER_PAGE)
        .collect();
    assert_eq!(browser.row_ids().await, after, "page 2 closed the gap");
}

fn ids(people: &[people::Person]) -> Vec<i32> {
    people.iter().map(|p| p.id).collect()
}

/// A WebDriver session in Chromium, on the server at `base`.
struct Browser {
    client: Client,
    base: String,
}

impl Browser {
    async fn connect(driver: &ChromeDriver, base: String) -> Browser {
        let options = json!({
            "browserName": "chrome",
            // An alert (if a name ever ran as script) stays open for the test to see.
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": {
                "binary": CHROMIUM_BIN,
                "args": [
                    "--headless",
                    // Root cannot use Chromium's sandbox; the page is our own.
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    // No network here: without these it waits on the network.
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--lang=en-US",
                    "--force-device-scale-factor=1",
                    "--window-size=1000,800",
                    format!("--user-data-dir={}", driver.profile.path().display()),
                ],
            },
        });
        let Value::Object(capabilities) = options else {
            unreachable!("an object literal")
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("start Chromium through chromedriver");
        Browser { client, base }
    }

    /// Goes to `path` on the server and waits for the page.
    async fn open(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
        self.find("#people").await;
    }

    /// Clicks `css` and waits until a new page has replaced this one.
    async fn click_and_load(&self, css: &str) {
        // A mark on this document's window; the next document has none.
        self.js("window.peopleTestOld = true; return true").await;
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
        self.wait_for_new_page(css).await;
    }

    /// Follows the link whose text is exactly `text`.
    async fn click_link(&self, text: &str) {
        self.js("window.peopleTestOld = true; return true").await;
        let link = self
            .client
            .wait()
            .at_most(TIMEOUT)
            .every(POLL)
            .for_element(Locator::LinkText(text))
            .await
            .unwrap_or_else(|e| panic!("the link {text:?}: {e}"));
        link.click()
            .await
            .unwrap_or_else(|e| panic!("click the link {text:?}: {e}"));
        self.wait_for_new_page(text).await;
    }

    async fn wait_for_new_page(&self, after: &str) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let fresh = self
                .client
                .execute(
                    "return window.peopleTestOld === undefined && document.readyState === 'complete'",
                    vec![],
                )
                .await;
            let last = match fresh {
                Ok(Value::Bool(true)) => break,
                Ok(other) => other.to_string(),
                Err(e) if e.is_unexpected_alert_open() => {
                    panic!("an alert opened after clicking {after:?} (a name ran as script?): {e}")
                }
                // Mid-navigation a script may fail.
                Err(e) => e.to_string(),
            };
            assert!(
                Instant::now() < deadline,
                "no new page {TIMEOUT:?} after clicking {after:?} (last look: {last})"
            );
            tokio::time::sleep(POLL).await;
        }
        self.find("#people").await;
    }

    /// The URL is `path` with exactly the query `pairs` and the fragment `#person-{row}`.
    async fn assert_at(&self, path: &str, pairs: &[(&str, &str)], row: Option<i32>) {
        let url = self.client.current_url().await.expect("current URL");
        let query: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let expected: Vec<(String, String)> = pairs
            .iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(url.path(), path, "at {url}");
        assert_eq!(query, expected, "at {url}");
        assert_eq!(
            url.fragment().map(str::to_owned),
            row.map(|id| format!("person-{id}")),
            "at {url}"
        );
    }

    async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("run {script:?}: {e}"))
    }

    /// The element at `css`, waiting for it to appear.
    async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(TIMEOUT)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
    }

    /// Whether nothing matches `css` (on a page that has loaded).
    async fn absent(&self, css: &str) -> bool {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find all {css}: {e}"))
            .is_empty()
    }

    /// The rendered text of `css`.
    async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// The current value of the input at `css`.
    async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .unwrap_or_else(|e| panic!("value of {css}: {e}"))
            .unwrap_or_default()
    }

    /// Replaces what the input at `css` holds by typing `text`.
    async fn type_into(&self, css: &str, text: &str) {
        let input = self.find(css).await;
        input
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        input
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
        assert_eq!(self.value(css).await, text, "typed into {css}");
    }

    /// The name shown in row `id`, checked to be the same rendered and as
    /// the DOM's text (so nothing of it became markup).
    async fn row_name(&self, id: i32) -> String {
        let css = format!("#person-{id} bdi.name");
        let bdi = self.find(&css).await;
        let content = bdi
            .prop("textContent")
            .await
            .unwrap_or_else(|e| panic!("textContent of {css}: {e}"))
            .unwrap_or_default();
        let children = self
            .js(&format!(
                "return document.querySelector('{css}').children.length"
            ))
            .await;
        assert_eq!(children, json!(0), "{css} holds elements: {content:?}");
        content
    }

    /// The ids of the listed rows, in order, from their `person-{id}` ids.
    async fn row_ids(&self) -> Vec<i32> {
        let rows = self
            .client
            .find_all(Locator::Css("#people > li"))
            .await
            .expect("rows");
        let mut ids = Vec::new();
        for row in rows {
            let id = row.attr("id").await.expect("row id").unwrap_or_default();
            ids.push(
                id.strip_prefix("person-")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("a row's id is {id:?}")),
            );
        }
        ids
    }

    /// The listed names, in order.
    async fn names(&self) -> Vec<String> {
        let names = self
            .client
            .find_all(Locator::Css("#people > li bdi.name"))
            .await
            .expect("names");
        let mut texts = Vec::new();
        for name in names {
            texts.push(name.text().await.expect("a name's text"));
        }
        texts
    }

    /// Saves the whole page (the window grown to fit it) as a PNG under
    /// `target/browser/`.
    async fn save_full_page_screenshot(&self, file: &str) {
        let size = self
            .js("return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]")
            .await;
        let height = size[0].as_u64().expect("page height") + size[1].as_u64().unwrap_or(0);
        self.client
            .set_window_size(1000, u32::try_from(height).expect("a page height"))
            .await
            .expect("grow the window to the page");
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
        let dir = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(
                || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
                PathBuf::from,
            )
            .join("browser");
        std::fs::create_dir_all(&dir).expect("create target/browser");
        std::fs::write(dir.join(file), png).expect("save the screenshot");
        self.client
            .set_window_size(1000, 800)
            .await
            .expect("restore the window");
    }
}

/// The web server on 127.0.0.1 (an ephemeral port), on its own runtime
/// thread; stopped when dropped.
struct Server {
    base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(url: &str) -> Server {
        let store = people::web::Store::open(url, &people::web::StoreOptions::default())
            .expect("open the store");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("non-blocking");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("web-browser-server".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("the server's runtime");
                runtime.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                    let serve = axum::serve(listener, people::web::router(store));
                    tokio::select! {
                        served = std::future::IntoFuture::into_future(serve) => {
                            served.expect("the server stopped by itself");
                        }
                        _ = stop => {}
                    }
                });
                runtime.shutdown_timeout(Duration::from_secs(5));
            })
            .expect("start the server thread");
        Server {
            base,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// Stops the server; panics if its thread did.
    fn stop(mut self) {
        let thread = self.halt();
        if let Some(Err(panic)) = thread {
            std::panic::resume_unwind(panic);
        }
    }

    fn halt(&mut self) -> Option<std::thread::Result<()>> {
        drop(self.shutdown.take());
        self.thread.take().map(std::thread::JoinHandle::join)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.halt();
    }
}

/// chromedriver on a port it picks, in its own process group with the
/// Chromium it starts; the whole group is killed when dropped, and then the
/// browser profile is removed.
struct ChromeDriver {
    child: Child,
    port: u16,
    profile: TempDir,
}

impl ChromeDriver {
    fn start() -> ChromeDriver {
        use std::os::unix::process::CommandExt;
        let profile = temp_dir();
        let mut child = Command::new(CHROMEDRIVER_BIN)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let stdout = child.stdout.take().expect("chromedriver's stdout");
        let mut driver = ChromeDriver {
            child,
            port: 0,
            profile,
        };
        let (port_tx, port_rx) = mpsc::channel();
        // Reads until chromedriver exits, so its output never blocks it.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = line
                    .split_once("started successfully on port ")
                    .and_then(|(_, rest)| rest.trim_end_matches('.').trim().parse::<u16>().ok())
                {
                    let _ = port_tx.send(port);
                }
            }
        });
        driver.port = port_rx
            .recv_timeout(TIMEOUT)
            .expect("chromedriver says which port it listens on");
        driver
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // After a failure the session may still be open: chromedriver's
        // /shutdown quits its browsers (and reaps them) before it exits.
        if self.port != 0 {
            let _ = shut_down(self.port);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
        // Whatever is left: chromedriver's pid is its process group's id
        // (process_group(0)), which the browser's processes share.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asks chromedriver on `port` to quit its sessions and exit.
fn shut_down(port: u16) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(b"GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
    // Its answer comes once the browsers are gone.
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map(drop)
}
