//! Shared fixtures: one test body, run once per backend.

use std::sync::Once;

mod output;
pub(crate) use output::{
    assert_no_panic, clean_outcome, one_line_error, one_line_error_after_output, succeeded,
    usage_error,
};

pub use people::test_util::TestDb;

/// The environment variable naming the PostgreSQL server for tests, e.g.
/// `postgres://postgres@127.0.0.1:5432`.
pub const POSTGRES_URL_VAR: &str = "PEOPLE_TEST_POSTGRES_URL";

/// The PostgreSQL server URL, or `None` (after saying so once) when unset.
pub fn postgres_server() -> Option<String> {
    static SKIP_NOTICE: Once = Once::new();
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            SKIP_NOTICE.call_once(|| {
                eprintln!("note: {POSTGRES_URL_VAR} is not set: PostgreSQL tests were skipped");
            });
            None
        }
    }
}

/// A fresh database on `backend`, or `None` when PostgreSQL is not configured.
/// A configured server that fails is a test failure, never a skip.
pub fn fresh_db(backend: &str) -> Option<TestDb> {
    match backend {
        "sqlite" => Some(TestDb::sqlite().expect("temp SQLite database")),
        "postgres" => {
            let server = postgres_server()?;
            Some(TestDb::postgres(&server).expect("test database on PEOPLE_TEST_POSTGRES_URL"))
        }
        other => panic!("unknown backend {other}"),
    }
}

/// `backend_tests!(a, b)` turns each `fn a(db: &TestDb)` in the calling
/// module into `sqlite::a` and `postgres::a` tests.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let db = $crate::support::fresh_db("sqlite").expect("sqlite is always available");
                    super::$name(&db);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(db) = $crate::support::fresh_db("postgres") {
                        super::$name(&db);
                    }
                }
            )*
        }
    };
}
pub(crate) use backend_tests;
