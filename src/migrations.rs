//! The embedded migrations, one folder per backend, and the rules around
//! applying them: refuse a newer schema, never race another process.

use std::collections::BTreeSet;

use diesel::backend::Backend as DieselBackend;
use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::connection::DbConnection;
use crate::error::{Error, Result};

/// `migrations/sqlite`, compiled into the binary.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// `migrations/postgres`, compiled into the binary; mirrors the SQLite set
/// version for version.
#[cfg(feature = "postgres")]
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Applies the pending embedded migrations for this connection's backend and
/// returns the versions it applied (empty when the schema was up to date).
///
/// Safe to call from many processes at once: on SQLite the work runs under
/// the database's write lock (`BEGIN IMMEDIATE`), on PostgreSQL under a
/// session advisory lock, and whoever comes second sees them applied.
/// On SQLite it also switches the file to WAL, so readers never wait for a writer.
///
/// # Errors
/// [`Error::SchemaTooNew`] if the database holds migrations this build does
/// not know (it was made by a newer `people`); the database is left untouched.
/// [`Error::Migration`] if a migration fails; it is rolled back.
///
/// # Example
/// ```
/// let mut conn = people::open(":memory:")?;
/// assert_eq!(people::run_migrations(&mut conn)?, ["20250101000000"]);
/// assert!(people::run_migrations(&mut conn)?.is_empty());
/// # Ok::<(), people::Error>(())
/// ```
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>> {
    match conn {
        DbConnection::Sqlite(c) => {
            if pending(c, &SQLITE_MIGRATIONS)?.is_empty() {
                return Ok(Vec::new());
            }
            enable_wal(c)?;
            crate::connection::transaction(conn, |conn| match conn {
                DbConnection::Sqlite(c) => apply(c, SQLITE_MIGRATIONS),
                #[cfg(feature = "postgres")]
                DbConnection::Postgres(_) => unreachable!("matched as SQLite above"),
            })
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => with_advisory_lock(c, |c| apply(c, POSTGRES_MIGRATIONS)),
    }
}

/// Switches an SQLite file to WAL; a no-op when it is in WAL already (or in memory).
///
/// The switch needs an exclusive lock, and SQLite skips the busy handler when
/// waiting could deadlock (several processes creating the same fresh file), so
/// "database is locked" is retried here, for as long as the busy timeout.
/// journal_mode cannot change inside a transaction, hence not in the
/// `BEGIN IMMEDIATE` below.
fn enable_wal(conn: &mut diesel::SqliteConnection) -> Result<()> {
    use diesel::result::Error as DieselError;
    let timeout =
        std::time::Duration::from_millis(crate::connection::SQLITE_BUSY_TIMEOUT_MS.into());
    let started = std::time::Instant::now();
    loop {
        match conn.batch_execute("PRAGMA journal_mode = WAL;") {
            Err(DieselError::DatabaseError(_, info))
                if info.message().contains("database is locked") && started.elapsed() < timeout =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            result => return result.map_err(Error::from),
        }
    }
}

/// The versions not yet applied, after refusing a newer schema.
///
/// `applied_migrations` creates the bookkeeping table when it is missing, so
/// this writes only to a brand-new database.
fn pending<DB, C>(conn: &mut C, source: &EmbeddedMigrations) -> Result<BTreeSet<String>>
where
    DB: DieselBackend,
    C: MigrationHarness<DB>,
    EmbeddedMigrations: MigrationSource<DB>,
{
    let known: BTreeSet<String> = MigrationSource::<DB>::migrations(source)
        .map_err(|source| Error::Migration { source })?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    // The returned versions borrow the connection: own them right away.
    let applied: BTreeSet<String> = conn
        .applied_migrations()
        .map_err(|source| Error::Migration { source })?
        .iter()
        .map(ToString::to_string)
        .collect();
    // Diesel ignores applied versions it does not know (diesel-rs/diesel#4235):
    // refusing them is ours to do.
    let unknown: Vec<String> = applied.difference(&known).cloned().collect();
    if !unknown.is_empty() {
        return Err(Error::SchemaTooNew { versions: unknown });
    }
    Ok(known.difference(&applied).cloned().collect())
}

/// Checks again (another process may have migrated meanwhile), then applies.
fn apply<DB, C>(conn: &mut C, source: EmbeddedMigrations) -> Result<Vec<String>>
where
    DB: DieselBackend,
    C: MigrationHarness<DB>,
    EmbeddedMigrations: MigrationSource<DB>,
{
    if pending(conn, &source)?.is_empty() {
        return Ok(Vec::new());
    }
    let applied = conn
        .run_pending_migrations(source)
        .map_err(|source| Error::Migration { source })?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Any fixed key shared by every `people` process; "person" in ASCII.
#[cfg(feature = "postgres")]
const MIGRATION_LOCK_KEY: i64 = 0x7065_7273_6f6e;

/// Runs `f` holding a session-level PostgreSQL advisory lock, so exactly one
/// of several processes starting together migrates and the others wait.
#[cfg(feature = "postgres")]
fn with_advisory_lock<T>(
    conn: &mut diesel::PgConnection,
    f: impl FnOnce(&mut diesel::PgConnection) -> Result<T>,
) -> Result<T> {
    use diesel::RunQueryDsl;
    use diesel::sql_types::BigInt;

    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(conn)?;
    let result = f(conn);
    let unlocked = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(conn);
    let value = result?;
    unlocked?;
    Ok(value)
}
