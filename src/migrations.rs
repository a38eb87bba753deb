//! The embedded migrations, one folder per backend, and the rules around
//! applying them: look before writing, refuse a newer schema, never race
//! another process.

use std::collections::BTreeSet;

use diesel::backend::Backend as DieselBackend;
use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::connection::{DbConnection, SQLITE_BUSY_TIMEOUT, transaction, with_inner};
use crate::error::{Error, Result};
use crate::url::Backend;

pub use crate::database::create_database_if_missing;

/// `migrations/sqlite`, compiled into the binary.
pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// `migrations/postgres`, compiled into the binary; mirrors the SQLite set
/// version for version.
#[cfg(feature = "postgres")]
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Applies the pending embedded migrations for this connection's backend and
/// returns the versions it applied (empty when the schema was up to date).
///
/// It reads before it writes: an up-to-date database, or one it refuses, is
/// left exactly as it was. Safe to call from many processes at once: on
/// SQLite the work runs under the database's write lock (`BEGIN IMMEDIATE`),
/// on PostgreSQL under a transaction-scoped advisory lock (which PgBouncer's
/// transaction mode cannot leak to another client), and whoever comes second
/// sees them applied. On SQLite it also switches the file to WAL, so readers
/// never wait for a writer.
///
/// # Errors
/// [`Error::SchemaTooNew`] if the database holds migrations this build does
/// not know (it was made by a newer `people`); [`Error::NeedsAdoption`] if it
/// has a `person` table but no migration history (another tool made it: see
/// [`adopt`](crate::adopt::adopt)). Either way the database is left untouched.
/// [`Error::Migration`] if a migration fails; it is rolled back.
///
/// # Example
/// ```
/// let mut conn = people::open(":memory:")?;
/// assert_eq!(
///     people::migrations::run_migrations(&mut conn)?,
///     ["20250101000000", "20261126000000"]
/// );
/// assert!(people::migrations::run_migrations(&mut conn)?.is_empty());
/// # Ok::<(), people::Error>(())
/// ```
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>> {
    if pending(conn)?.is_empty() {
        return Ok(Vec::new());
    }
    refuse_a_table_made_by_another_tool(conn)?;
    // Irrefutable in an SQLite-only build.
    #[allow(irrefutable_let_patterns)]
    if let DbConnection::Sqlite(c) = conn {
        enable_wal(c)?;
    }
    let applied = transaction(conn, |conn| {
        #[cfg(feature = "postgres")]
        if let DbConnection::Postgres(c) = conn {
            lock_for_migrations(c)?;
        }
        // Again: another process may have migrated while we waited for the lock.
        if pending(conn)?.is_empty() {
            return Ok(Vec::new());
        }
        refuse_a_table_made_by_another_tool(conn)?;
        apply_pending(conn)
    })?;
    #[allow(irrefutable_let_patterns)]
    if let DbConnection::Sqlite(c) = conn {
        // A migration may rewrite the whole table (2026-11-26 does, on
        // SQLite): give the WAL's space back now rather than keep the file
        // at that size. Best effort: a reader may hold it.
        let _ = c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    Ok(applied)
}

/// Runs Diesel's harness for the connection's backend, inside the caller's
/// transaction; returns the versions it applied.
pub(crate) fn apply_pending(conn: &mut DbConnection) -> Result<Vec<String>> {
    let applied = match conn {
        DbConnection::Sqlite(c) => apply(c, SQLITE),
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => apply(c, POSTGRES),
    };
    applied.map_err(|source| Error::Migration { source })
}

/// [`Error::NeedsAdoption`] for a `person` table without people's history,
/// before anything is written (Diesel's harness would create its
/// bookkeeping table and then fail on `CREATE TABLE person`).
fn refuse_a_table_made_by_another_tool(conn: &mut DbConnection) -> Result<()> {
    // `person` first: a process migrating at the same moment commits both
    // tables at once, so seeing its `person` means seeing its history too.
    if crate::catalog::has_table(conn, "person")?
        && !crate::catalog::has_table(conn, BOOKKEEPING_TABLE)?
    {
        return Err(Error::NeedsAdoption);
    }
    Ok(())
}

/// Where a migration stands in a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// Applied.
    Applied,
    /// Embedded in this build and not applied yet.
    Pending,
    /// Applied, but this build does not know it (a newer people made it).
    Unknown,
}

/// One migration of [`status`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationStatus {
    /// The version, e.g. `20250101000000`.
    pub version: String,
    /// The folder name, e.g. `2025-01-01-000000_create_person` (the version
    /// alone when this build does not know it).
    pub name: String,
    /// Applied, pending or unknown.
    pub state: State,
}

/// Every migration this build embeds and every one the database has, by
/// version, with where it stands. Only reads.
///
/// # Errors
/// Database errors.
///
/// # Example
/// ```
/// use people::migrations::State;
/// let mut conn = people::open(":memory:")?;
/// let states: Vec<State> = people::migrations::status(&mut conn)?.iter().map(|m| m.state).collect();
/// assert_eq!(states, [State::Pending, State::Pending]);
/// people::migrations::run_migrations(&mut conn)?;
/// assert!(people::migrations::status(&mut conn)?.iter().all(|m| m.state == State::Applied));
/// # Ok::<(), people::Error>(())
/// ```
pub fn status(conn: &mut DbConnection) -> Result<Vec<MigrationStatus>> {
    let known = known_names(conn.backend())?;
    let applied = applied_versions(conn)?;
    let mut all: Vec<MigrationStatus> = known
        .into_iter()
        .map(|(version, name)| MigrationStatus {
            state: if applied.contains(&version) {
                State::Applied
            } else {
                State::Pending
            },
            version,
            name,
        })
        .collect();
    for version in applied {
        if !all.iter().any(|m| m.version == version) {
            all.push(MigrationStatus {
                name: version.clone(),
                version,
                state: State::Unknown,
            });
        }
    }
    all.sort_by(|a, b| a.version.cmp(&b.version));
    Ok(all)
}

/// Runs Diesel's harness, owning the versions it reports right away (they borrow `conn`).
fn apply<DB, C>(conn: &mut C, source: EmbeddedMigrations) -> diesel::migration::Result<Vec<String>>
where
    DB: DieselBackend,
    C: MigrationHarness<DB>,
    EmbeddedMigrations: MigrationSource<DB>,
{
    let applied = conn.run_pending_migrations(source)?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// The versions not yet applied, after refusing a newer schema. Only reads.
fn pending(conn: &mut DbConnection) -> Result<BTreeSet<String>> {
    let known = known_versions(conn.backend())?;
    let applied = applied_versions(conn)?;
    // Diesel ignores applied versions it does not know (diesel-rs/diesel#4235):
    // refusing them is ours to do.
    let unknown: Vec<String> = applied.difference(&known).cloned().collect();
    if !unknown.is_empty() {
        return Err(Error::SchemaTooNew { versions: unknown });
    }
    Ok(known.difference(&applied).cloned().collect())
}

/// The versions this build embeds for `backend`.
pub(crate) fn known_versions(backend: Backend) -> Result<BTreeSet<String>> {
    Ok(known_names(backend)?
        .into_iter()
        .map(|(version, _)| version)
        .collect())
}

/// (version, folder name) of each migration this build embeds for `backend`.
fn known_names(backend: Backend) -> Result<Vec<(String, String)>> {
    match backend {
        #[cfg(feature = "postgres")]
        Backend::Postgres => names::<diesel::pg::Pg>(&POSTGRES),
        _ => names::<diesel::sqlite::Sqlite>(&SQLITE),
    }
}

fn names<DB: DieselBackend>(source: &EmbeddedMigrations) -> Result<Vec<(String, String)>>
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    Ok(MigrationSource::<DB>::migrations(source)
        .map_err(|source| Error::Migration { source })?
        .iter()
        .map(|m| (m.name().version().to_string(), m.name().to_string()))
        .collect())
}

mod bookkeeping {
    diesel::table! {
        /// Diesel's bookkeeping table (`diesel/src/migration/setup_migration_table.sql`).
        __diesel_schema_migrations (version) {
            /// A migration's version.
            version -> Text,
        }
    }
}
use bookkeeping::__diesel_schema_migrations;

/// Diesel's bookkeeping table: its presence means people manages the database.
pub(crate) const BOOKKEEPING_TABLE: &str = "__diesel_schema_migrations";

/// Records the first migration as applied without running it: for a table
/// that [`adopt`](crate::adopt::adopt) brought to the same shape.
#[cfg(feature = "postgres")]
pub(crate) fn record_first_migration(conn: &mut diesel::PgConnection) -> Result<()> {
    // Diesel's harness creates its table on first use.
    conn.applied_migrations()
        .map_err(|source| Error::Migration { source })?;
    let first = known_names(Backend::Postgres)?
        .into_iter()
        .map(|(version, _)| version)
        .next()
        .ok_or_else(|| Error::Migration {
            source: "no migration is embedded".into(),
        })?;
    diesel::insert_into(__diesel_schema_migrations::table)
        .values(__diesel_schema_migrations::version.eq(first))
        .execute(conn)?;
    Ok(())
}

/// The applied versions, read without creating the bookkeeping table (Diesel's
/// `applied_migrations` creates it when it is missing).
fn applied_versions(conn: &mut DbConnection) -> Result<BTreeSet<String>> {
    if !crate::catalog::has_table(conn, BOOKKEEPING_TABLE)? {
        return Ok(BTreeSet::new());
    }
    let versions: Vec<String> = with_inner!(conn, |c| __diesel_schema_migrations::table
        .select(__diesel_schema_migrations::version)
        .load(c))?;
    Ok(versions.into_iter().collect())
}

/// Switches an SQLite file to WAL (a no-op in memory, or when it is WAL already).
/// journal_mode cannot change inside a transaction, hence before `BEGIN IMMEDIATE`.
pub(crate) fn enable_wal(conn: &mut diesel::SqliteConnection) -> Result<()> {
    match crate::catalog::sqlite_main_file(conn)? {
        Some(file) => crate::sqlite_ffi::switch_to_wal(&file, SQLITE_BUSY_TIMEOUT),
        None => Ok(()),
    }
}

/// Any fixed key shared by every `people` process; "person" in ASCII.
#[cfg(feature = "postgres")]
const MIGRATION_LOCK_KEY: i64 = 0x7065_7273_6f6e;

/// Takes the migration lock until the end of the current transaction, so
/// exactly one of several processes starting together migrates and the
/// others wait. Transaction-scoped: it cannot outlive the transaction on a
/// pooled server connection (PgBouncer).
#[cfg(feature = "postgres")]
fn lock_for_migrations(conn: &mut diesel::PgConnection) -> Result<()> {
    use diesel::sql_types::BigInt;
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(conn)?;
    Ok(())
}
