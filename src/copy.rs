//! [`copy`]: every person from one database to another — SQLite to
//! PostgreSQL, back, or to the same backend — keeping ids, names and both
//! timestamps exactly, and the id sequence ahead of every id copied.

use chrono::NaiveDateTime;
#[cfg(feature = "postgres")]
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::catalog::sqlite_sequence;
use crate::connection::{DbConnection, transaction};
use crate::error::{Error, Result};
use crate::models::Person;
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

/// A person as copied: every column, the id included.
#[derive(Insertable)]
#[diesel(table_name = person)]
#[diesel(treat_none_as_default_value = false)]
struct CopiedPerson<'a> {
    id: i32,
    name: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl<'a> From<&'a Person> for CopiedPerson<'a> {
    fn from(person: &'a Person) -> Self {
        CopiedPerson {
            id: person.id,
            name: &person.name,
            created_at: person.created_at.naive_utc(),
            updated_at: person.updated_at.naive_utc(),
        }
    }
}

/// Copies every person of `from` into `to`, both already migrated, in one
/// transaction on `to` (all or nothing), reading `from` in one consistent
/// snapshot, a batch at a time. Afterwards `to` hands out new ids above every
/// id `from` ever handed out. `progress` is called with the running count
/// after each batch.
///
/// PostgreSQL targets are written with `COPY … FROM STDIN (FORMAT binary)`.
///
/// # Errors
/// [`Error::TargetNotEmpty`] if `to` holds anyone (nothing is written);
/// database errors otherwise, after which `to` is as it was.
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
    mut progress: impl FnMut(u64),
) -> Result<Copied> {
    let already = crate::count(to)?;
    if already > 0 {
        return Err(Error::TargetNotEmpty { people: already });
    }
    from.transaction(|from| {
        #[cfg(feature = "postgres")]
        if let DbConnection::Postgres(c) = from {
            // One snapshot for every batch, as SQLite's read transaction gives.
            c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        transaction(to, |to| {
            let mut copied = 0u64;
            let mut highest = None;
            let mut after = None;
            loop {
                let batch = crate::list(from, after, BATCH)?;
                write_batch(to, &batch)?;
                copied += batch.len() as u64;
                progress(copied);
                if let Some(last) = batch.last() {
                    highest = Some(last.id);
                    after = Some(last.id);
                }
                if (batch.len() as i64) < BATCH {
                    break;
                }
            }
            let ever = sequence_value(from)?.max(highest.map(i64::from));
            if let Some(ever) = ever {
                set_sequence(to, ever)?;
            }
            Ok(Copied { people: copied })
        })
    })
}

fn write_batch(to: &mut DbConnection, batch: &[Person]) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let rows: Vec<CopiedPerson<'_>> = batch.iter().map(CopiedPerson::from).collect();
    match to {
        DbConnection::Sqlite(c) => {
            diesel::insert_into(person::table)
                .values(&rows)
                .execute(c)?;
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => {
            diesel::copy_from(person::table)
                .from_insertable(&rows)
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
        DbConnection::Postgres(c) => {
            diesel::sql_query("SELECT setval(pg_get_serial_sequence('person', 'id'), $1)")
                .bind::<diesel::sql_types::BigInt, _>(ever)
                .execute(c)?;
        }
    }
    Ok(())
}
