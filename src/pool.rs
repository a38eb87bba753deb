//! A pool of connections for multi-threaded apps (r2d2), built from the same
//! URL and giving every connection the same setup as [`open`](crate::open).

use std::time::Duration;

use diesel::r2d2::{self, ManageConnection, R2D2Connection};

use crate::connection::{DbConnection, connect};
use crate::error::{Error, Result};
use crate::url::{Backend, DatabaseUrl};

/// Whether this build's SQLite puts every connection of the process on one
/// page budget (`SQLITE_ENABLE_MEMORY_MANAGEMENT`, libsqlite3-sys's bundled
/// default). Several connections then take each other's cached pages, and
/// one that lost them reads from the file for as long as it lives; the
/// README says how to build without it. [`Pool::new`] warns (a `tracing`
/// event under `people::pool`) when this is true; an app's test can assert
/// it is false.
///
/// ```
/// // This repository's builds turn the option off (.cargo/config.toml).
/// assert!(!people::pool::sqlite_shares_page_cache());
/// ```
pub fn sqlite_shares_page_cache() -> bool {
    crate::sqlite_ffi::shares_page_cache()
}

/// A connection checked out of a [`Pool`]; it goes back when dropped.
/// Use it as `&mut *conn` wherever a `&mut DbConnection` is wanted.
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// A thread-safe pool of [`DbConnection`]s: share it (it is `Clone` and
/// `Sync`), and check out one connection per thread with [`Pool::get`].
///
/// A connection is never shared between threads; a pool is how many threads
/// share a database.
///
/// # Example
/// ```
/// # let dir = tempfile::tempdir()?;
/// # let url = dir.path().join("people.db").display().to_string();
/// let pool = people::Pool::new(&url)?;
/// std::thread::scope(|s| {
///     for t in 0..4 {
///         let pool = &pool;
///         s.spawn(move || -> people::Result<()> {
///             let mut conn = pool.get()?;
///             people::create(&mut conn, format!("thread {t}"))?;
///             Ok(())
///         });
///     }
/// });
/// let mut conn = pool.get()?;
/// assert_eq!(people::count(&mut conn)?, 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Pool {
    inner: r2d2::Pool<ConnectionManager>,
    url: DatabaseUrl,
}

/// Size and timeouts of a [`Pool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections open at once (default 8). An in-memory SQLite
    /// database always gets exactly one, so that every caller sees the same data.
    pub max_size: u32,
    /// How long [`Pool::get`] waits for a free connection before it fails
    /// with [`Error::Pool`] (default 30 s).
    pub connection_timeout: Duration,
    /// Close connections idle this long (default 10 minutes; never for in-memory SQLite).
    pub idle_timeout: Option<Duration>,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_size: 8,
            connection_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(600)),
        }
    }
}

impl Pool {
    /// A pool with [`PoolOptions::default`]; see [`Pool::with_options`].
    ///
    /// # Errors
    /// As [`init`](crate::init).
    pub fn new<U>(url: U) -> Result<Pool>
    where
        U: TryInto<DatabaseUrl>,
        Error: From<U::Error>,
    {
        Pool::with_options(url, PoolOptions::default())
    }

    /// Opens one connection right away (so a bad URL fails now, with the
    /// database's own message), runs the migrations on it, and keeps it as
    /// the pool's first connection.
    ///
    /// # Errors
    /// As [`init`](crate::init).
    pub fn with_options<U>(url: U, options: PoolOptions) -> Result<Pool>
    where
        U: TryInto<DatabaseUrl>,
        Error: From<U::Error>,
    {
        let url = url.try_into()?;
        let mut first = connect(&url)?;
        crate::migrations::run_migrations(&mut first)?;
        let in_memory = url.is_in_memory();
        let manager = ConnectionManager {
            url: url.clone(),
            first: std::sync::Mutex::new(Some(first)),
        };
        let inner = r2d2::Pool::builder()
            .max_size(if in_memory {
                1
            } else {
                options.max_size.max(1)
            })
            .min_idle(Some(if in_memory { 1 } else { 0 }))
            .connection_timeout(options.connection_timeout)
            .idle_timeout(if in_memory {
                None
            } else {
                options.idle_timeout
            })
            .max_lifetime(if in_memory {
                None
            } else {
                Some(Duration::from_secs(1800))
            })
            .test_on_check_out(false)
            .build_unchecked(manager);
        if inner.max_size() > 1 && url.backend() == Backend::Sqlite && sqlite_shares_page_cache() {
            tracing::warn!(
                target: "people::pool",
                "SQLite was built with SQLITE_ENABLE_MEMORY_MANAGEMENT: this pool's connections \
                 share one page cache, and one that loses its pages reads uncached from then on; \
                 build with LIBSQLITE3_FLAGS=-USQLITE_ENABLE_MEMORY_MANAGEMENT (people's README)"
            );
        }
        Ok(Pool { inner, url })
    }

    /// Checks out a connection, waiting up to the connection timeout for one.
    ///
    /// # Errors
    /// [`Error::Pool`] when none became free in time (all in use, or the
    /// database cannot be reached).
    pub fn get(&self) -> Result<PooledConnection> {
        self.inner.get().map_err(|source| Error::Pool { source })
    }

    /// Connections open now, idle or checked out.
    pub fn connections(&self) -> u32 {
        self.inner.state().connections
    }

    /// The most connections the pool opens at once (1 for in-memory SQLite).
    pub fn max_size(&self) -> u32 {
        self.inner.max_size()
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("url", &self.url).finish()
    }
}

/// Opens pool connections from the URL's scheme (never by trial and error,
/// unlike `diesel::r2d2::ConnectionManager<DbConnection>`, which hides
/// PostgreSQL's errors and would open anything as SQLite).
pub struct ConnectionManager {
    url: DatabaseUrl,
    /// The connection `Pool::with_options` migrated, handed out first.
    first: std::sync::Mutex<Option<DbConnection>>,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = Error;

    fn connect(&self) -> Result<DbConnection> {
        let reused = self.first.lock().ok().and_then(|mut first| first.take());
        match reused {
            Some(conn) => Ok(conn),
            None => connect(&self.url),
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<()> {
        conn.ping().map_err(Error::from)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}
