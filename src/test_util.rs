//! [`TestDb`]: a fresh, migrated database per test that removes itself.
//! Enabled by the `test-util` feature; add it to your `[dev-dependencies]`:
//!
//! ```toml
//! [dev-dependencies]
//! people = { version = "…", default-features = false, features = ["test-util"] }
//! ```

use crate::connection::DbConnection;
use crate::error::Result;
use crate::url::{Backend, DatabaseUrl};

/// A fresh, migrated database that is deleted when dropped: a temp SQLite
/// file, or a uniquely named PostgreSQL database.
///
/// # Example
/// ```
/// use people::test_util::TestDb;
///
/// let db = TestDb::sqlite()?;
/// let mut conn = db.connect()?;
/// people::create(&mut conn, "Alice")?;
/// assert_eq!(people::count(&mut conn)?, 1);
/// # Ok::<(), people::Error>(())
/// ```
pub struct TestDb {
    url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    /// Dropped after the connections above it: drops the database.
    #[cfg(feature = "postgres")]
    _postgres: Option<PostgresCleanup>,
}

impl TestDb {
    /// A migrated SQLite database in a new temp directory.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) if the temp directory cannot be made, or as [`init`](crate::init).
    pub fn sqlite() -> Result<TestDb> {
        let dir = tempfile::Builder::new().prefix("people-test-").tempdir()?;
        let url = DatabaseUrl::parse(&dir.path().join("people.db").display().to_string())?;
        crate::init(&url)?;
        Ok(TestDb {
            url,
            _dir: Some(dir),
            #[cfg(feature = "postgres")]
            _postgres: None,
        })
    }

    /// A migrated PostgreSQL database with a unique name, created on the
    /// server `server_url` points to (e.g. `postgres://postgres@127.0.0.1:5432`,
    /// with any options such as `?statement_cache=off`) and dropped again,
    /// with its connections, when this value is dropped.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`](crate::Error::InvalidUrl) unless `server_url` is a
    /// PostgreSQL URL; [`Error::Connection`](crate::Error::Connection) if the
    /// server cannot be reached.
    #[cfg(feature = "postgres")]
    pub fn postgres<U>(server_url: U) -> Result<TestDb>
    where
        U: TryInto<DatabaseUrl>,
        crate::Error: From<U::Error>,
    {
        use diesel::{Connection, RunQueryDsl};
        use std::sync::atomic::{AtomicU32, Ordering};

        static NEXT: AtomicU32 = AtomicU32::new(0);
        let server = server_url.try_into()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        // Only digits, ASCII letters and `_`: it is spliced into DDL, which takes no binds.
        let name = format!(
            "people_test_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let not_postgres = || crate::Error::InvalidUrl {
            url: server.to_string(),
            reason: "TestDb::postgres needs a postgres:// URL".to_owned(),
        };
        let admin = server.with_database("postgres").ok_or_else(not_postgres)?;
        let url = server.with_database(&name).ok_or_else(not_postgres)?;
        let mut admin_conn =
            diesel::PgConnection::establish(admin.connect_target()).map_err(|source| {
                crate::Error::Connection {
                    url: admin.to_string(),
                    source,
                }
            })?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin_conn)?;
        let cleanup = PostgresCleanup { admin, name };
        crate::init_parsed(&url)?;
        Ok(TestDb {
            url,
            _dir: None,
            _postgres: Some(cleanup),
        })
    }

    /// The database URL as a string, password included, for the `people`
    /// binary or any other program under test.
    pub fn url(&self) -> &str {
        self.url.expose()
    }

    /// The database URL, for [`init`](crate::init), [`open`](crate::open) or a [`Pool`](crate::Pool).
    pub fn database_url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Which backend this database is on.
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// A new connection to this database (already migrated).
    ///
    /// # Errors
    /// As [`init`](crate::init).
    pub fn connect(&self) -> Result<DbConnection> {
        crate::init(&self.url)
    }
}

#[cfg(feature = "postgres")]
struct PostgresCleanup {
    admin: DatabaseUrl,
    name: String,
}

#[cfg(feature = "postgres")]
impl Drop for PostgresCleanup {
    // Best effort and never a panic: this may run while a test unwinds.
    fn drop(&mut self) {
        use diesel::{Connection, RunQueryDsl};
        if let Ok(mut admin) = diesel::PgConnection::establish(self.admin.connect_target()) {
            let drop_sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = diesel::sql_query(drop_sql).execute(&mut admin);
        }
    }
}
