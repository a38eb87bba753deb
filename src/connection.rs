//! Opening a database from a URL: the backend is chosen by the URL's scheme,
//! and every connection gets the same per-connection setup.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;

use crate::error::{Error, Result};
use crate::sqlite_url::{SqliteUrl, Synchronous};

/// A connection to SQLite or PostgreSQL, chosen at run time by the URL.
///
/// Every CRUD function takes `&mut DbConnection`; the same code serves both
/// backends. Match on the variants only for backend-specific work.
#[derive(diesel::MultiConnection)]
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

/// Which database engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite, bundled into this crate.
    Sqlite,
    /// PostgreSQL, through a bundled libpq.
    Postgres,
}

impl Backend {
    /// The backend a URL selects: `postgres://` and `postgresql://` open
    /// PostgreSQL, anything else is an SQLite path or `file:`/`sqlite://` URI.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] for other `scheme://` URLs (`mysql://`, `http://`...),
    /// so a typo never silently creates an SQLite file, and for `postgres://`
    /// when this build has no PostgreSQL support.
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = url
            .split_once("://")
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("postgres" | "postgresql") if cfg!(feature = "postgres") => Ok(Backend::Postgres),
            Some("postgres" | "postgresql") => Err(invalid_url(
                url,
                "this build of people has no PostgreSQL support (enable the `postgres` feature)",
            )),
            Some("sqlite" | "file") | None => Ok(Backend::Sqlite),
            Some(other) => Err(invalid_url(
                url,
                &format!(
                    "unsupported scheme {other:?}; use a file path, sqlite://, file: or postgres://"
                ),
            )),
        }
    }
}

fn invalid_url(url: &str, reason: &str) -> Error {
    Error::InvalidUrl {
        url: redact_url(url),
        reason: reason.to_owned(),
    }
}

/// How long an SQLite statement waits for another writer's lock before it
/// gives up with "database is locked".
pub const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// Per-connection SQLite setup, one per durability choice. busy_timeout goes
/// first: the other pragmas may themselves need a lock. WAL is a property of
/// the file and is switched on by the migrations step (see `migrations.rs`).
const SQLITE_PRAGMAS_NORMAL: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = NORMAL;";
const SQLITE_PRAGMAS_FULL: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = FULL;";

/// Opens a connection and applies the per-connection setup, without running
/// migrations (see [`init`](crate::init) for that).
///
/// # Errors
/// [`Error::InvalidUrl`] or [`Error::Connection`].
pub fn open(url: &str) -> Result<DbConnection> {
    let connection_error = |source| Error::Connection {
        url: redact_url(url),
        source,
    };
    match Backend::from_url(url)? {
        Backend::Sqlite => {
            let sqlite_url = SqliteUrl::parse(url).map_err(|e| match e {
                Error::InvalidUrl { reason, .. } => invalid_url(url, &reason),
                other => other,
            })?;
            let mut conn = diesel::SqliteConnection::establish(&sqlite_url.target)
                .map_err(connection_error)?;
            let pragmas = match sqlite_url.synchronous {
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
            let conn = diesel::PgConnection::establish(url).map_err(connection_error)?;
            Ok(DbConnection::Postgres(conn))
        }
        #[cfg(not(feature = "postgres"))]
        Backend::Postgres => unreachable!("Backend::from_url refuses postgres URLs in this build"),
    }
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
    let outermost_sqlite = match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()?
            .is_none(),
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(_) => false,
    };
    match conn {
        DbConnection::Sqlite(c) if outermost_sqlite => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        // BEGIN, or a SAVEPOINT inside an open transaction. The
        // multi-connection's manager delegates to the inner connection's,
        // which also saw the BEGIN IMMEDIATE above, so depths stay right.
        _ => Manager::begin_transaction(conn)?,
    }
    match f(conn) {
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

/// The URL with any password replaced by `***`, for messages and logs.
///
/// ```
/// assert_eq!(
///     people::redact_url("postgres://app:s3cret@db:5432/people"),
///     "postgres://app:***@db:5432/people"
/// );
/// assert_eq!(people::redact_url("people.db"), "people.db");
/// ```
pub fn redact_url(url: &str) -> String {
    let mut redacted = match url.split_once("://") {
        // The password may hold '/', '?' or '#' (libpq takes them unencoded),
        // so the user info is everything up to the last '@'.
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((userinfo, after)) => match userinfo.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:***@{after}"),
                None => url.to_owned(),
            },
            None => url.to_owned(),
        },
        None => url.to_owned(),
    };
    // libpq also takes the password as a query parameter.
    if let Some(start) = redacted.find("password=") {
        let value_start = start + "password=".len();
        let value_end = redacted[value_start..]
            .find('&')
            .map_or(redacted.len(), |i| value_start + i);
        redacted.replace_range(value_start..value_end, "***");
    }
    redacted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_picks_the_backend() {
        assert_eq!(Backend::from_url("people.db").unwrap(), Backend::Sqlite);
        assert_eq!(Backend::from_url(":memory:").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("sqlite:///tmp/x.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("file:x.db?mode=rwc").unwrap(),
            Backend::Sqlite
        );
        if cfg!(feature = "postgres") {
            assert_eq!(
                Backend::from_url("postgres://h/db").unwrap(),
                Backend::Postgres
            );
            assert_eq!(
                Backend::from_url("PostgreSQL://h/db").unwrap(),
                Backend::Postgres
            );
        }
    }

    #[test]
    fn unknown_schemes_are_refused_with_the_password_hidden() {
        let err = Backend::from_url("mysql://root:pw@localhost/db").unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("unsupported scheme \"mysql\""),
            "{message}"
        );
        assert!(!message.contains("pw@"), "{message}");
    }

    #[test]
    fn passwords_are_redacted_everywhere_in_the_url() {
        assert_eq!(redact_url("postgres://u:p@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact_url("postgres://u:p:q@h/db?sslmode=require"),
            "postgres://u:***@h/db?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://h/db?user=u&password=secret&x=1"),
            "postgres://h/db?user=u&password=***&x=1"
        );
        assert_eq!(redact_url("postgres://u:p@h"), "postgres://u:***@h");
        assert_eq!(
            redact_url("postgres://u:a?b#c/d@h/db"),
            "postgres://u:***@h/db"
        );
    }
}
