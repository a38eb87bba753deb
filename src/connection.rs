//! Opening a database from a URL: the backend is chosen by the URL's scheme,
//! and every connection gets the same per-connection setup.

use std::time::Duration;

#[cfg(feature = "postgres")]
use diesel::connection::CacheSize;
use diesel::connection::{
    AnsiTransactionManager, Instrumentation, InstrumentationEvent, SimpleConnection,
    TransactionManager,
};
use diesel::prelude::*;

use crate::error::{Error, Result};
use crate::sqlite_ffi::{SqliteHandle, open_noting_handle};
use crate::statement_log::StatementLog;
use crate::url::{Backend, DatabaseUrl, Synchronous};

/// A connection to SQLite or PostgreSQL, chosen at run time by the URL.
///
/// Every CRUD function takes `&mut DbConnection`; the same code serves both
/// backends. Match on the variants only for backend-specific work: which
/// variants exist depends on the crate's features, hence `#[non_exhaustive]`.
///
/// A connection belongs to one thread at a time; for many threads share a
/// [`Pool`](crate::Pool).
#[derive(diesel::MultiConnection)]
#[non_exhaustive]
pub enum DbConnection {
    /// An SQLite database file (or `:memory:`).
    Sqlite(diesel::SqliteConnection),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
}

/// Runs `$body` with `$c` bound to the inner connection of whichever backend
/// `$conn` is. The CRUD queries all go through it: Diesel cannot build batch
/// inserts or upserts on the multi-connection, and for the rest the
/// multi-connection renders the SQL twice per call even when the prepared
/// statement is cached (about 20% of a point read, measured by the benchmark).
/// The query is still written once; the compiler checks it per backend.
macro_rules! with_inner {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::connection::DbConnection::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            $crate::connection::DbConnection::Postgres($c) => $body,
        }
    };
}
pub(crate) use with_inner;

/// How long an SQLite statement waits for another writer's lock before it
/// gives up with "database is locked".
pub(crate) const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Per-connection SQLite setup, one per durability choice. busy_timeout goes
/// first (it matches [`SQLITE_BUSY_TIMEOUT`]): the other pragmas may themselves
/// need a lock. WAL is a property of the file and is switched on by the
/// migrations step (see `migrations.rs`).
const SQLITE_PRAGMAS_NORMAL: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = NORMAL;";
const SQLITE_PRAGMAS_FULL: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = FULL;";

/// Opens a connection and applies the per-connection setup, without running
/// migrations (see [`init`](crate::init) for that). The connection carries
/// the [statement log](crate::statement_log).
///
/// `url` is a [`DatabaseUrl`] or a string, parsed here.
///
/// # Errors
/// [`Error::InvalidUrl`] or [`Error::Connection`].
///
/// # Example
/// ```
/// let mut conn = people::open(":memory:")?;
/// assert_eq!(conn.backend(), people::Backend::Sqlite);
/// # Ok::<(), people::Error>(())
/// ```
pub fn open<U>(url: U) -> Result<DbConnection>
where
    U: TryInto<DatabaseUrl>,
    Error: From<U::Error>,
{
    connect(&url.try_into()?)
}

/// [`open`] for a parsed URL.
pub(crate) fn connect(url: &DatabaseUrl) -> Result<DbConnection> {
    let connection_error = |source| Error::Connection {
        url: url.to_string(),
        source,
    };
    match url.backend() {
        Backend::Sqlite => {
            let (conn, handle) =
                open_noting_handle(|| diesel::SqliteConnection::establish(url.connect_target()));
            let mut conn = conn.map_err(connection_error)?;
            conn.set_instrumentation(ConnectionExtras::new(handle));
            let pragmas = match url.synchronous() {
                Synchronous::Normal => SQLITE_PRAGMAS_NORMAL,
                Synchronous::Full => SQLITE_PRAGMAS_FULL,
            };
            conn.batch_execute(pragmas).map_err(|e| {
                connection_error(diesel::ConnectionError::CouldntSetupConfiguration(e))
            })?;
            Ok(DbConnection::Sqlite(conn))
        }
        #[cfg(feature = "postgres")]
        Backend::Postgres => {
            let mut conn =
                diesel::PgConnection::establish(url.connect_target()).map_err(connection_error)?;
            conn.set_instrumentation(ConnectionExtras::new(None));
            if !url.statement_cache() {
                // Unnamed statements only: behind PgBouncer in transaction
                // mode, the next transaction may run on a server connection
                // that never saw a named one.
                conn.set_prepared_statement_cache_size(CacheSize::Disabled);
            }
            Ok(DbConnection::Postgres(conn))
        }
        #[cfg(not(feature = "postgres"))]
        Backend::Postgres => Err(Error::InvalidUrl {
            url: url.to_string(),
            reason: "this build of people has no PostgreSQL support".to_owned(),
        }),
    }
}

/// What people keeps with each connection it opens, in the one
/// per-connection place Diesel offers: the connection's `Instrumentation`,
/// which Diesel hands back on request and which can be downcast. An app that
/// sets its own instrumentation replaces this, and people then does without
/// (no statement log; a create reads its id with a statement).
#[derive(Debug)]
pub(crate) struct ConnectionExtras {
    /// The [statement log](crate::statement_log).
    pub(crate) log: StatementLog,
    /// On SQLite, the connection's C handle.
    sqlite: Option<SqliteHandle>,
}

impl ConnectionExtras {
    /// A fresh connection's extras: an empty statement log and, on SQLite,
    /// the handle noted while it was opened.
    fn new(sqlite: Option<SqliteHandle>) -> Self {
        ConnectionExtras {
            log: StatementLog::default(),
            sqlite,
        }
    }

    pub(crate) fn of<C: Connection>(conn: &mut C) -> Option<&mut ConnectionExtras> {
        conn.instrumentation().downcast_mut::<ConnectionExtras>()
    }
}

impl Instrumentation for ConnectionExtras {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        self.log.on_connection_event(event);
    }
}

/// The rowid of the last row `conn` inserted, read without a statement;
/// `None` if people's extras are not on the connection.
pub(crate) fn last_insert_rowid(conn: &mut diesel::SqliteConnection) -> Option<i64> {
    let handle = ConnectionExtras::of(conn)?.sqlite.as_ref()?;
    Some(handle.last_insert_rowid())
}

impl DbConnection {
    /// Which backend this connection talks to.
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            DbConnection::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Runs one statement's worth of work `f`: as it is when no transaction is
/// open (an autocommit statement is atomic by itself, and on SQLite takes the
/// write lock when it starts, so the busy timeout applies), and on SQLite
/// also inside one (a failed statement undoes only itself and the
/// transaction goes on). Inside a PostgreSQL transaction it runs in a
/// savepoint, so that its failure leaves that transaction usable
/// (PostgreSQL aborts a transaction on any error).
pub(crate) fn statement<T, F>(conn: &mut DbConnection, f: F) -> diesel::QueryResult<T>
where
    F: FnOnce(&mut DbConnection) -> diesel::QueryResult<T>,
{
    match conn {
        DbConnection::Sqlite(_) => f(conn),
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(_) => {
            if transaction_open(conn)? {
                transaction(conn, f)
            } else {
                f(conn)
            }
        }
    }
}

/// Whether a transaction (or a savepoint in one) is open on `conn`.
fn transaction_open(conn: &mut DbConnection) -> diesel::QueryResult<bool> {
    let depth = match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()?
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()?
        }
    };
    Ok(depth.is_some())
}

/// Ends the transaction `outcome` came out of: commits after `Ok`, rolls
/// back after `Err`.
fn end_transaction<T, E>(
    conn: &mut DbConnection,
    outcome: std::result::Result<T, E>,
) -> std::result::Result<T, E>
where
    E: From<diesel::result::Error>,
{
    type Manager = <DbConnection as Connection>::TransactionManager;
    match outcome {
        Ok(value) => {
            // A failed COMMIT is rolled back by Diesel and reported.
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            // The first error is the one worth reporting. After some failures
            // (disk full, I/O error) SQLite has already rolled back, so this
            // rollback fails too ("no transaction is active"); Diesel notices
            // and keeps the connection usable.
            let _ = Manager::rollback_transaction(conn);
            Err(error)
        }
    }
}

/// Runs `f` in a write transaction and commits if it returns `Ok`.
///
/// On SQLite the outermost transaction is `BEGIN IMMEDIATE`: it takes the
/// write lock up front, so a transaction that reads before it writes waits
/// for other writers (busy timeout) instead of failing with "database is
/// locked". Inside an open transaction it becomes a savepoint, so calls nest,
/// and a failed nested call leaves the outer transaction usable on both
/// backends.
///
/// # Errors
/// Whatever `f` returns, or the database's error on begin/commit.
///
/// # Example
/// ```
/// # let mut conn = people::init(":memory:")?;
/// // Two creates, all or nothing.
/// let pair = people::transaction(&mut conn, |conn| {
///     Ok::<_, people::Error>((people::create(conn, "Ann")?, people::create(conn, "Bo")?))
/// })?;
/// assert_eq!(people::count(&mut conn)?, 2);
/// # Ok::<(), people::Error>(())
/// ```
pub fn transaction<T, E, F>(conn: &mut DbConnection, f: F) -> std::result::Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> std::result::Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Manager = <DbConnection as Connection>::TransactionManager;
    let outermost_sqlite = matches!(conn, DbConnection::Sqlite(_)) && !transaction_open(conn)?;
    match conn {
        DbConnection::Sqlite(c) if outermost_sqlite => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        // BEGIN, or a SAVEPOINT inside an open transaction. The
        // multi-connection's manager delegates to the inner connection's,
        // which also saw the BEGIN IMMEDIATE above, so depths stay right.
        _ => Manager::begin_transaction(conn)?,
    }
    let outcome = f(conn);
    end_transaction(conn, outcome)
}

/// Runs the reads of `f` in one snapshot: they all see the database as it
/// was at the first of them, whatever other connections commit meanwhile.
/// Reading a table in several queries (keyset pages, say) without one can
/// return a state that never existed: a row read before a rename and
/// another after it can hold the same name.
///
/// On SQLite this is a deferred `BEGIN`, which takes no lock until the first
/// read; other connections keep writing (in WAL mode), but the WAL cannot be
/// checkpointed past the snapshot until it ends. On PostgreSQL it is `BEGIN
/// ISOLATION LEVEL REPEATABLE READ, READ ONLY`, so a write inside fails.
/// Writes belong in [`transaction`]: on SQLite a write inside a snapshot may
/// fail with "database is locked" where `transaction` would have waited.
/// Inside an open transaction `f` simply runs in it: that transaction
/// decides what its reads see (on SQLite, one snapshot already).
///
/// # Errors
/// Whatever `f` returns, or the database's error on begin/end.
///
/// # Example
/// ```
/// # let mut conn = people::init(":memory:")?;
/// # people::create_many(&mut conn, ["Ann", "Bo", "Cy"], people::OnConflict::Fail)?;
/// // Two pages of one moment.
/// let (first, rest) = people::read_snapshot(&mut conn, |conn| {
///     let first = people::list(conn, None, 2)?;
///     let rest = people::list(conn, first.last().map(|p| p.id), 2)?;
///     Ok::<_, people::Error>((first, rest))
/// })?;
/// assert_eq!(first.len() + rest.len(), 3);
/// # Ok::<(), people::Error>(())
/// ```
pub fn read_snapshot<T, E, F>(conn: &mut DbConnection, f: F) -> std::result::Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> std::result::Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Manager = <DbConnection as Connection>::TransactionManager;
    if transaction_open(conn)? {
        return f(conn);
    }
    match conn {
        DbConnection::Sqlite(_) => Manager::begin_transaction(conn)?,
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => AnsiTransactionManager::begin_transaction_sql(
            c,
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
        )?,
    }
    let outcome = f(conn);
    end_transaction(conn, outcome)
}
