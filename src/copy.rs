//! [`copy`]: every person from one database to another — SQLite to
//! PostgreSQL, back, or to the same backend — keeping ids, names and both
//! timestamps exactly, and the id sequence ahead of every id copied.

use std::sync::mpsc::{self, Receiver, SyncSender};

use diesel::prelude::*;

use crate::catalog::sqlite_sequence;
use crate::connection::{DbConnection, read_snapshot, transaction};
use crate::error::{Error, Result};
use crate::models::{Person, UtcTimestamp};
#[cfg(feature = "postgres")]
use crate::pg_copy::BinaryCopy;
use crate::schema::person;

/// What [`copy`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Copied {
    /// People copied.
    pub people: u64,
}

/// Rows read from the source and written to the target at a time: well
/// under SQLite's 32,766 bound parameters at four per row, and small enough
/// to keep memory flat whatever the size.
const BATCH: i64 = 5_000;

/// Rows per INSERT into SQLite: 4,000 bound values, well under SQLite's 32,766.
const SQLITE_ROWS: usize = 1_000;

/// A person as copied into SQLite: every column, the id included. It owns
/// its name (moved out of the [`Person`] read) so that a full chunk's
/// statement type is `'static`, as Diesel's statement cache requires.
#[derive(Insertable)]
#[diesel(table_name = person)]
#[diesel(treat_none_as_default_value = false)]
struct CopiedPerson {
    id: i32,
    name: String,
    created_at: UtcTimestamp,
    updated_at: UtcTimestamp,
}

impl From<Person> for CopiedPerson {
    fn from(person: Person) -> Self {
        CopiedPerson {
            id: person.id,
            name: person.name,
            created_at: person.created_at.into(),
            updated_at: person.updated_at.into(),
        }
    }
}

/// Copies every person of `from` into `to`, both already migrated, in one
/// transaction on `to` (all or nothing), reading `from` in one consistent
/// snapshot, a batch at a time. Afterwards `to` hands out new ids above every
/// id `from` ever handed out. `progress` is called with the running count
/// after each batch.
///
/// `from` is read on a thread of its own, one batch ahead of the writes, so
/// that reading one database and writing the other overlap (as they do in
/// `people export | people import`); at most three batches are in memory.
/// PostgreSQL targets are written with `COPY … FROM STDIN (FORMAT binary)`,
/// buffered into messages of 64 KiB.
///
/// # Errors
/// [`Error::TargetNotEmpty`] if `to` holds anyone (nothing is written);
/// database errors otherwise, after which `to` is as it was. On PostgreSQL
/// that includes its id sequence when the user owns it; a user who does not
/// may only `setval`, which a failed COMMIT does not undo.
///
/// # Example
/// ```
/// # let mut old = people::init(":memory:")?;
/// # let mut new = people::init(":memory:")?;
/// let ada = people::create(&mut old, "Ada")?;
/// let bo = people::create(&mut old, "Bo")?;
/// people::delete(&mut old, bo.id)?;
/// assert_eq!(people::copy::copy(&mut old, &mut new, |_| {})?.people, 1);
/// assert_eq!(people::get(&mut new, ada.id)?, ada);          // id and times kept
/// assert_eq!(people::create(&mut new, "Cy")?.id, ada.id + 2); // Bo's id is not reused
/// # Ok::<(), people::Error>(())
/// ```
pub fn copy(
    from: &mut DbConnection,
    to: &mut DbConnection,
    progress: impl FnMut(u64),
) -> Result<Copied> {
    let already = crate::count(to)?;
    if already > 0 {
        return Err(Error::TargetNotEmpty { people: already });
    }
    std::thread::scope(|scope| {
        // One batch waits in the channel while the next is read and the one
        // before is written.
        let (sender, batches) = mpsc::sync_channel(1);
        let reader = scope.spawn(move || read_all(from, &sender));
        // The receiver is dropped when the writes end, early or not: a
        // reader still sending then stops and ends its read transaction.
        let written = transaction(to, move |to| write_all(to, batches, progress));
        match reader.join() {
            Ok(()) => written,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// What the reader sends the writer.
enum Read {
    Batch(Vec<Person>),
    /// Every person was sent; the highest id `from` ever handed out.
    End {
        ever: Option<i64>,
    },
    Failed(Error),
}

/// Reads every person of `from`, in id order and one snapshot, into `out`;
/// stops early if the writer has gone.
fn read_all(from: &mut DbConnection, out: &SyncSender<Read>) {
    let read = read_snapshot(from, |from| {
        let mut after = None;
        loop {
            let batch = crate::list(from, after, BATCH)?;
            let last = batch.len() < BATCH as usize;
            after = batch.last().map(|person| person.id).or(after);
            if out.send(Read::Batch(batch)).is_err() {
                return Ok(());
            }
            if last {
                break;
            }
        }
        let ever = sequence_value(from)?.max(after.map(i64::from));
        // Ignored if the writer has gone: it has its own error to report.
        let _ = out.send(Read::End { ever });
        Ok::<_, Error>(())
    });
    if let Err(error) = read {
        let _ = out.send(Read::Failed(error));
    }
}

/// Writes what the reader sends into `to` (inside the caller's transaction)
/// and moves `to`'s id sequence past the highest id `from` handed out.
fn write_all(
    to: &mut DbConnection,
    batches: Receiver<Read>,
    mut progress: impl FnMut(u64),
) -> Result<Copied> {
    let mut copied = 0u64;
    for read in batches {
        match read {
            Read::Batch(batch) => {
                copied += batch.len() as u64;
                write_batch(to, batch)?;
                progress(copied);
            }
            Read::End { ever } => {
                if let Some(ever) = ever {
                    set_sequence(to, ever)?;
                }
                return Ok(Copied { people: copied });
            }
            Read::Failed(error) => return Err(error),
        }
    }
    // The reader ends with `End` or `Failed` unless it panicked, which
    // `copy` re-raises after this transaction has rolled back.
    Err(diesel::result::Error::RollbackTransaction.into())
}

fn write_batch(to: &mut DbConnection, batch: Vec<Person>) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    match to {
        DbConnection::Sqlite(c) => {
            let rows: Vec<CopiedPerson> = batch.into_iter().map(CopiedPerson::from).collect();
            for chunk in rows.chunks(SQLITE_ROWS) {
                // A full chunk is an array: its SQL has a static QueryId, so
                // Diesel prepares it once (a slice's is prepared every time:
                // 13% of a copy's instructions, measured with callgrind).
                match <&[CopiedPerson; SQLITE_ROWS]>::try_from(chunk) {
                    Ok(full) => diesel::insert_into(person::table).values(full).execute(c)?,
                    Err(_) => diesel::insert_into(person::table)
                        .values(chunk)
                        .execute(c)?,
                };
            }
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => {
            let columns = (
                person::id,
                person::name,
                person::created_at,
                person::updated_at,
            );
            diesel::copy_from(person::table)
                .from_raw_data(columns, |sink| {
                    let mut out = BinaryCopy::new(sink)?;
                    for person in &batch {
                        out.row(4)?;
                        out.integer(person.id)?;
                        out.text(&person.name)?;
                        out.timestamp(person.created_at.naive_utc())?;
                        out.timestamp(person.updated_at.naive_utc())?;
                    }
                    out.finish()
                })
                .with_format(diesel::pg::CopyFormat::Binary)
                .execute(c)?;
        }
    }
    Ok(())
}

#[cfg(feature = "postgres")]
#[derive(QueryableByName)]
struct Sequence {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    value: Option<i64>,
}

/// The highest id the database ever handed out, deleted or not.
fn sequence_value(conn: &mut DbConnection) -> Result<Option<i64>> {
    Ok(match conn {
        DbConnection::Sqlite(c) => sqlite_sequence::table
            .filter(sqlite_sequence::name.eq("person"))
            .select(sqlite_sequence::seq)
            .get_result(c)
            .optional()?,
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => {
            diesel::sql_query(
                "SELECT pg_sequence_last_value(pg_get_serial_sequence('person', 'id')::regclass) AS value",
            )
            .get_result::<Sequence>(c)?
            .value
        }
    })
}

/// Makes the next id handed out `ever + 1` or more.
fn set_sequence(conn: &mut DbConnection, ever: i64) -> Result<()> {
    match conn {
        DbConnection::Sqlite(c) => {
            diesel::delete(sqlite_sequence::table.filter(sqlite_sequence::name.eq("person")))
                .execute(c)?;
            diesel::insert_into(sqlite_sequence::table)
                .values((
                    sqlite_sequence::name.eq("person"),
                    sqlite_sequence::seq.eq(ever),
                ))
                .execute(c)?;
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => set_postgres_sequence(c, ever)?,
    }
    Ok(())
}

#[cfg(feature = "postgres")]
#[derive(QueryableByName)]
struct SequenceOwner {
    /// As `pg_get_serial_sequence` gives it: schema-qualified, each part
    /// quoted where it needs to be.
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    /// Whether this user may ALTER it (a member of its owner role).
    #[diesel(sql_type = diesel::sql_types::Bool)]
    owned: bool,
}

/// PostgreSQL's half of [`set_sequence`]. `setval` is not transactional: a
/// copy whose COMMIT then failed would leave the empty target's sequence
/// moved. `ALTER SEQUENCE … RESTART` is (it writes a new sequence file, and
/// so does a `nextval` after it in the same transaction), but only the
/// sequence's owner may run it; any other user gets `setval`.
#[cfg(feature = "postgres")]
fn set_postgres_sequence(c: &mut diesel::PgConnection, ever: i64) -> Result<()> {
    // A fresh sequence already starts at 1, above any id below it.
    if ever < 1 {
        return Ok(());
    }
    let sequence = diesel::sql_query(
        "SELECT pg_get_serial_sequence('person', 'id') AS name, pg_has_role(relowner, 'USAGE') AS owned \
         FROM pg_class WHERE oid = pg_get_serial_sequence('person', 'id')::regclass",
    )
    .get_result::<SequenceOwner>(c)
    .optional()?;
    match sequence {
        // No sequence (ids given by hand): nothing hands out ids to move.
        None => {}
        Some(SequenceOwner { name, owned: true }) => {
            // DDL takes no bind parameters: the name is the catalog's, quoted
            // by PostgreSQL, and `ever` an integer.
            diesel::sql_query(format!("ALTER SEQUENCE {name} RESTART WITH {ever}")).execute(c)?;
            // Hands out `ever` so that the next id is `ever + 1`, and the
            // sequence reads as `setval(…, ever)` would leave it.
            diesel::sql_query("SELECT nextval(pg_get_serial_sequence('person', 'id'))")
                .execute(c)?;
        }
        Some(SequenceOwner { owned: false, .. }) => {
            diesel::sql_query("SELECT setval(pg_get_serial_sequence('person', 'id'), $1)")
                .bind::<diesel::sql_types::BigInt, _>(ever)
                .execute(c)?;
        }
    }
    Ok(())
}
