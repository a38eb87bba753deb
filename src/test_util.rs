//! [`TestDb`]: a fresh, migrated database per test that removes itself.
//! Enabled by the `test-util` feature.

use crate::connection::{Backend, DbConnection};
use crate::error::Result;

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
    url: String,
    backend: Backend,
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
        let url = dir.path().join("people.db").display().to_string();
        crate::init(&url)?;
        Ok(TestDb {
            url,
            backend: Backend::Sqlite,
            _dir: Some(dir),
            #[cfg(feature = "postgres")]
            _postgres: None,
        })
    }

    /// A migrated PostgreSQL database with a unique name, created on the
    /// server `server_url` points to (e.g. `postgres://postgres@127.0.0.1:5432`)
    /// and dropped again, with its connections, when this value is dropped.
    ///
    /// # Errors
    /// [`Error::Connection`](crate::Error::Connection) if the server cannot be reached.
    #[cfg(feature = "postgres")]
    pub fn postgres(server_url: &str) -> Result<TestDb> {
        use diesel::{Connection, RunQueryDsl};
        use std::sync::atomic::{AtomicU32, Ordering};

        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        // Only digits and ASCII letters: it is spliced into DDL, which takes no binds.
        let name = format!(
            "people_test_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let admin_url = server_url.to_owned();
        let mut admin = diesel::PgConnection::establish(&admin_url).map_err(|source| {
            crate::Error::Connection {
                url: crate::redact_url(&admin_url),
                source,
            }
        })?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
        let cleanup = PostgresCleanup {
            admin_url,
            name: name.clone(),
        };
        let url = with_database(server_url, &name);
        crate::init(&url)?;
        Ok(TestDb {
            url,
            backend: Backend::Postgres,
            _dir: None,
            _postgres: Some(cleanup),
        })
    }

    /// The database URL, for [`init`](crate::init), a pool, or the `people` binary.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Which backend this database is on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A new connection to this database (already migrated).
    ///
    /// # Errors
    /// As [`init`](crate::init).
    pub fn connect(&self) -> Result<DbConnection> {
        crate::init(&self.url)
    }
}

/// `server_url` with its database path replaced by `name`, query kept.
#[cfg(feature = "postgres")]
fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
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

#[cfg(feature = "postgres")]
struct PostgresCleanup {
    admin_url: String,
    name: String,
}

#[cfg(feature = "postgres")]
impl Drop for PostgresCleanup {
    // Best effort and never a panic: this may run while a test unwinds.
    fn drop(&mut self) {
        use diesel::{Connection, RunQueryDsl};
        if let Ok(mut admin) = diesel::PgConnection::establish(&self.admin_url) {
            let drop_sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = diesel::sql_query(drop_sql).execute(&mut admin);
        }
    }
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    #[test]
    fn database_name_replaces_the_path() {
        use super::with_database;
        assert_eq!(
            with_database("postgres://u@h:5432", "t"),
            "postgres://u@h:5432/t"
        );
        assert_eq!(with_database("postgres://u@h/", "t"), "postgres://u@h/t");
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "t"),
            "postgres://u@h/t?sslmode=disable"
        );
    }
}
