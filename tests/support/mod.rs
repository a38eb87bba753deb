//! Shared fixtures: the harness, what tests require, one runner for the
//! `people` binary, databases per backend, and a private PostgreSQL cluster.

// A prelude for the test modules, some of which need features a build may
// lack (without `cli` nothing runs the binary).
#![allow(unused_imports)]
#![cfg_attr(not(feature = "cli"), allow(dead_code))]

pub mod harness;
mod output;
#[cfg(feature = "postgres")]
mod private_postgres;
mod process;
mod requirements;

pub(crate) use harness::tests;
pub(crate) use output::{
    assert_no_panic, clean_outcome, one_line_error, one_line_error_after_output, succeeded,
    usage_error,
};
#[cfg(feature = "postgres")]
pub(crate) use private_postgres::PrivatePostgres;
pub(crate) use process::{PEOPLE, Runner, closed_port, euid, people_in, runs, temp_dir};
pub(crate) use requirements::*;

pub use people::test_util::TestDb;

/// The environment variable naming the PostgreSQL server for tests, e.g.
/// `postgres://postgres@127.0.0.1:5432` (options such as
/// `?statement_cache=off` are kept for every test database).
pub const POSTGRES_URL_VAR: &str = "PEOPLE_TEST_POSTGRES_URL";

/// The PostgreSQL server URL. Only for tests that require [`POSTGRES`].
#[track_caller]
pub fn postgres_server() -> String {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| panic!("{POSTGRES_URL_VAR} is not set; require POSTGRES"))
}

/// A fresh, migrated SQLite database.
#[track_caller]
pub fn sqlite_db() -> TestDb {
    TestDb::sqlite().expect("temp SQLite database")
}

/// A fresh, migrated PostgreSQL database. A configured server that fails is
/// a test failure, never a skip.
#[track_caller]
pub fn postgres_db() -> TestDb {
    #[cfg(feature = "postgres")]
    return TestDb::postgres(postgres_server()).expect("test database on PEOPLE_TEST_POSTGRES_URL");
    #[cfg(not(feature = "postgres"))]
    panic!("built without the postgres feature; require POSTGRES")
}

/// A fresh, migrated database on the same backend as `db`.
#[track_caller]
pub fn another_db_like(db: &TestDb) -> TestDb {
    match db.backend() {
        people::Backend::Sqlite => sqlite_db(),
        _ => postgres_db(),
    }
}

/// `PEOPLE_TEST_POSTGRES_URL` naming the database `name` (its options kept).
#[track_caller]
pub fn postgres_database_url(name: &str) -> String {
    let server = postgres_server();
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server.as_str(), None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// The inner PostgreSQL connection, for catalog queries only PostgreSQL has.
#[cfg(feature = "postgres")]
#[track_caller]
pub fn pg(conn: &mut people::DbConnection) -> &mut diesel::PgConnection {
    match conn {
        people::DbConnection::Postgres(c) => c,
        _ => panic!("not a PostgreSQL connection"),
    }
}

/// An empty PostgreSQL database (no tables at all) on the test server,
/// dropped when this is dropped.
#[cfg(feature = "postgres")]
pub struct BlankPostgres {
    pub url: String,
    name: String,
}

#[cfg(feature = "postgres")]
impl BlankPostgres {
    #[track_caller]
    pub fn new() -> BlankPostgres {
        use diesel::RunQueryDsl;
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "people_blank_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = people::open(postgres_database_url("postgres")).unwrap();
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        BlankPostgres {
            url: postgres_database_url(&name),
            name,
        }
    }

    /// The tables in its public schema, sorted.
    #[track_caller]
    pub fn tables(&self) -> Vec<String> {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Table {
            #[diesel(sql_type = diesel::sql_types::Text)]
            tablename: String,
        }
        let mut conn = people::open(&self.url).unwrap();
        let tables: Vec<Table> = diesel::sql_query(
            "SELECT tablename::text AS tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
        )
        .load(pg(&mut conn))
        .unwrap();
        tables.into_iter().map(|t| t.tablename).collect()
    }
}

#[cfg(feature = "postgres")]
impl Drop for BlankPostgres {
    // Best effort and never a panic: this may run while a test unwinds.
    fn drop(&mut self) {
        use diesel::RunQueryDsl;
        if let Ok(mut admin) = people::open(postgres_database_url("postgres")) {
            let drop_sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = diesel::sql_query(drop_sql).execute(&mut admin);
        }
    }
}

/// A file under `tests/fixtures/`.
pub fn fixture(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// `text` with every timestamp as people prints it (RFC 3339, UTC, six
/// digits, `Z`: `2026-11-26T03:42:27.123456Z`) replaced by `<time>`, so that
/// an exact output can be compared; anything else that looks like a time is
/// left as it is and fails the comparison.
pub fn mask_times(text: &str) -> String {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd.ddddddZ";
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let is_time = bytes.len() - i >= SHAPE.len()
            && SHAPE
                .iter()
                .zip(&bytes[i..])
                .all(|(shape, byte)| match shape {
                    b'd' => byte.is_ascii_digit(),
                    other => other == byte,
                });
        if is_time {
            out.push_str("<time>");
            i += SHAPE.len();
        } else {
            let c = text[i..].chars().next().unwrap_or_default();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}
