//! The CRUD queries on `person`: one function each, all on `&mut DbConnection`.

use std::collections::HashSet;

use diesel::prelude::*;

use crate::connection::{self, DbConnection, MultiBackend, statement, transaction, with_inner};
use crate::error::{Error, Result};
use crate::models::{NewPerson, Person, UtcTimestamp, now};
use crate::name::{MAX_NAME_CHARS, PersonName};
#[cfg(feature = "postgres")]
use crate::pg_copy::{self, BinaryCopy, EncodedTimestamp};
use crate::schema::person;
use crate::statements::{
    CREATE_MANY_ROWS, Create, CreateMany, LimitPlus, PageAt, PersonWhere, Rename,
};

#[diesel::declare_sql_function]
extern "SQL" {
    /// SQL `lower()`: Unicode-aware on PostgreSQL, ASCII-only on SQLite.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;

    /// SQLite's id of the connection's last successful INSERT.
    fn last_insert_rowid() -> diesel::sql_types::BigInt;
}

/// What [`create_many`] does with a name that already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnConflict {
    /// Refuse the whole batch with [`Error::NameTaken`]; nothing is written.
    #[default]
    Fail,
    /// Skip the name and count it in [`BulkReport::skipped`].
    Skip,
}

/// What [`create_many`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BulkReport {
    /// Rows inserted.
    pub inserted: u64,
    /// Names skipped because they already existed (only with [`OnConflict::Skip`]).
    pub skipped: u64,
}

/// Inserts a person and returns the new row, in one round trip (`RETURNING`).
///
/// # Errors
/// [`Error::InvalidName`] if `name` is not a valid [`PersonName`];
/// [`Error::NameTaken`] if the name exists, even when another writer won a race for it.
///
/// # Example
/// ```
/// # let mut conn = people::init(":memory:")?;
/// let alice = people::create(&mut conn, "Alice")?;
/// assert_eq!(alice.name, "Alice");
/// assert!(matches!(people::create(&mut conn, "Alice"), Err(people::Error::NameTaken { .. })));
/// # Ok::<(), people::Error>(())
/// ```
pub fn create<N>(conn: &mut DbConnection, name: N) -> Result<Person>
where
    N: TryInto<PersonName>,
    Error: From<N::Error>,
{
    let name = name.try_into()?;
    let at = now();
    let insert = Create {
        name: name.as_str(),
        at: at.into(),
    };
    // One autocommit statement: it takes SQLite's write lock when it starts,
    // so the busy timeout applies without a BEGIN IMMEDIATE. Only the id is
    // read back: the rest is what was written. On SQLite it is the
    // connection's last rowid, read through the C API (see `sqlite_ffi`), or
    // with `SELECT last_insert_rowid()` where that is not at hand.
    // `execute`/`get_results` step each statement to its end, where SQLite
    // checkpoints the WAL (a RETURNING statement read with `get_result` would
    // never get there, and the -wal file would grow without bound).
    let id: Option<i64> = statement(conn, |conn| match conn {
        DbConnection::Sqlite(c) => {
            insert.execute(c)?;
            match connection::last_insert_rowid(c) {
                Some(id) => Ok(Some(id)),
                None => Ok(diesel::select(last_insert_rowid())
                    .get_results::<i64>(c)?
                    .first()
                    .copied()),
            }
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => Ok(insert.get_results::<i32>(c)?.first().map(|&id| id.into())),
    })
    .map_err(|e| Error::from_write(e, name.as_str()))?;
    // The id CHECK keeps SQLite's ids in the model's range.
    let id = id
        .and_then(|id| i32::try_from(id).ok())
        .ok_or(Error::Database {
            source: diesel::result::Error::NotFound,
        })?;
    Ok(Person {
        id,
        name: name.into_string(),
        created_at: at,
        updated_at: at,
    })
}

/// Inserts many people in one transaction, all or nothing: on SQLite in
/// multi-row INSERTs of 1,000 rows, on PostgreSQL with binary `COPY` of
/// 10,000 rows at a time.
///
/// `names` may be any strings (each is validated) or already-validated
/// [`PersonName`]s, or a fallible stream of names such as the one
/// `formats::read_names` returns. The first invalid name aborts the batch
/// and nothing is written. Names are consumed as they are inserted, so a
/// stream of millions keeps memory flat.
///
/// # Errors
/// [`Error::InvalidName`] (or the stream's own error) for a bad name;
/// [`Error::NameTaken`] for the first name that exists or repeats, with
/// [`OnConflict::Fail`].
///
/// # Example
/// ```
/// use people::{BulkReport, OnConflict};
/// # let mut conn = people::init(":memory:")?;
/// people::create(&mut conn, "Bob")?;
/// let report = people::create_many(&mut conn, ["Ann", "Bob", "Cy"], OnConflict::Skip)?;
/// assert_eq!(report, BulkReport { inserted: 2, skipped: 1 });
/// # Ok::<(), people::Error>(())
/// ```
pub fn create_many<I>(
    conn: &mut DbConnection,
    names: I,
    on_conflict: OnConflict,
) -> Result<BulkReport>
where
    I: IntoIterator,
    I::Item: TryInto<PersonName>,
    Error: From<<I::Item as TryInto<PersonName>>::Error>,
{
    // One time for the whole batch: it is one transaction.
    let at = now();
    transaction(conn, |conn| {
        #[cfg(feature = "postgres")]
        if let DbConnection::Postgres(_) = conn {
            return copy_many(conn, names.into_iter(), at, on_conflict);
        }
        let mut report = BulkReport::default();
        let mut batch = Vec::with_capacity(CREATE_MANY_ROWS);
        for name in names {
            batch.push(name.try_into()?);
            if batch.len() == CREATE_MANY_ROWS {
                insert_batch(conn, &batch, at, on_conflict, &mut report)?;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            insert_batch(conn, &batch, at, on_conflict, &mut report)?;
        }
        Ok(report)
    })
}

fn insert_batch(
    conn: &mut DbConnection,
    batch: &[PersonName],
    at: chrono::DateTime<chrono::Utc>,
    on_conflict: OnConflict,
    report: &mut BulkReport,
) -> Result<()> {
    // Each batch in a savepoint: after a unique violation the transaction is
    // still usable (PostgreSQL aborts it otherwise), to name the culprit or
    // to insert the batch again, skipping.
    let inserted = match transaction(conn, |conn| write_rows(conn, batch, at)) {
        Ok(inserted) => inserted,
        Err(e) if Error::is_unique_violation(&e) => match on_conflict {
            OnConflict::Fail => return Err(first_taken(conn, batch)?),
            OnConflict::Skip => write_rows_skipping_taken(conn, &new_rows(batch, at))?,
        },
        Err(e) => return Err(e.into()),
    };
    let inserted = inserted as u64;
    report.inserted += inserted;
    report.skipped += batch.len() as u64 - inserted;
    Ok(())
}

/// Names per `COPY` on PostgreSQL: each COPY has a fixed cost (measured:
/// 10,000 per COPY took 1.17x `psql \copy`'s time for 1,000,000 names), and
/// a batch of names in memory stays a few megabytes.
#[cfg(feature = "postgres")]
const POSTGRES_BATCH: usize = 100_000;

/// `create_many` on PostgreSQL: `COPY … FROM STDIN (FORMAT binary)` of up
/// to [`POSTGRES_BATCH`] names at a time, each in a savepoint (after a unique
/// violation the transaction is still usable, to name the culprit or to
/// insert the batch again, skipping). The names are read, checked and sent
/// while the server inserts the ones before them, as `psql \copy` does; a
/// batch is kept only to name the culprit. Each row carries `at` in both
/// times, as on SQLite and in a skipping batch's INSERT: one time for the
/// whole call, and two column DEFAULTs per row the server does not evaluate.
#[cfg(feature = "postgres")]
fn copy_many<It>(
    conn: &mut DbConnection,
    names: It,
    at: chrono::DateTime<chrono::Utc>,
    on_conflict: OnConflict,
) -> Result<BulkReport>
where
    It: Iterator,
    It::Item: TryInto<PersonName>,
    Error: From<<It::Item as TryInto<PersonName>>::Error>,
{
    use std::cell::RefCell;
    let mut report = BulkReport::default();
    let names = RefCell::new(names.peekable());
    // Peeked, so that an input of exactly k batches sends k COPYs, not an
    // empty one after them.
    while names.borrow_mut().peek().is_some() {
        let batch = RefCell::new(Vec::with_capacity(POSTGRES_BATCH));
        // A bad name stops the COPY from inside its callback, where only
        // Diesel's error fits; the real one waits here.
        let bad_name = RefCell::new(None);
        let copied = transaction(conn, |conn| match conn {
            DbConnection::Postgres(c) => diesel::copy_from(person::table)
                .from_raw_data(
                    (person::name, person::created_at, person::updated_at),
                    |sink| copy_names(sink, &mut *names.borrow_mut(), at, &batch, &bad_name),
                )
                .with_format(diesel::pg::CopyFormat::Binary)
                .execute(c),
            DbConnection::Sqlite(_) => Err(not_this_backend("copy_many is PostgreSQL's")),
        });
        if let Some(error) = bad_name.into_inner() {
            return Err(error);
        }
        let batch = batch.into_inner();
        let inserted = match copied {
            Ok(inserted) => inserted,
            Err(e) if Error::is_unique_violation(&e) => match on_conflict {
                OnConflict::Fail => return Err(first_taken(conn, &batch)?),
                OnConflict::Skip => write_rows_skipping_taken(conn, &new_rows(&batch, at))?,
            },
            Err(e) => return Err(e.into()),
        };
        report.inserted += inserted as u64;
        report.skipped += (batch.len() - inserted) as u64;
    }
    Ok(report)
}

/// Writes up to [`POSTGRES_BATCH`] checked names from `names`, each with `at`
/// as both its times, in PostgreSQL's binary COPY format (buffered:
/// [`pg_copy`](crate::pg_copy)), keeping them in `batch`; a name that fails
/// its check goes to `bad_name` and ends the COPY.
#[cfg(feature = "postgres")]
fn copy_names<It>(
    sink: &mut dyn std::io::Write,
    names: &mut It,
    at: chrono::DateTime<chrono::Utc>,
    batch: &std::cell::RefCell<Vec<PersonName>>,
    bad_name: &std::cell::RefCell<Option<Error>>,
) -> QueryResult<()>
where
    It: Iterator,
    It::Item: TryInto<PersonName>,
    Error: From<<It::Item as TryInto<PersonName>>::Error>,
{
    let mut batch = batch.borrow_mut();
    let mut out = BinaryCopy::new(sink)?;
    let at = EncodedTimestamp::new(at.naive_utc())?;
    while batch.len() < POSTGRES_BATCH {
        let Some(item) = names.next() else { break };
        let name: PersonName = match item.try_into() {
            Ok(name) => name,
            Err(e) => {
                *bad_name.borrow_mut() = Some(Error::from(e));
                return Err(pg_copy::failed("a name failed its check"));
            }
        };
        out.row(3)?;
        out.text(name.as_str())?;
        out.encoded_timestamp(&at)?;
        out.encoded_timestamp(&at)?;
        batch.push(name);
    }
    out.finish()
}

/// A backend-specific path called with the other backend: a bug, reported
/// as an error rather than a panic.
#[cfg(feature = "postgres")]
fn not_this_backend(what: &'static str) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(what.into())
}

fn new_rows(batch: &[PersonName], at: chrono::DateTime<chrono::Utc>) -> Vec<NewPerson<'_>> {
    batch.iter().map(|name| NewPerson::new(name, at)).collect()
}

/// All of `batch`, created `at`, or a unique violation.
fn write_rows(
    conn: &mut DbConnection,
    batch: &[PersonName],
    at: chrono::DateTime<chrono::Utc>,
) -> QueryResult<usize> {
    match conn {
        DbConnection::Sqlite(c) => {
            let at = at.into();
            match CreateMany::full(batch, at) {
                Some(full) => full.execute(c),
                None => CreateMany::partial(batch, at).execute(c),
            }
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(_) => Err(not_this_backend("PostgreSQL batches go to copy_many")),
    }
}

/// The rows whose names are free; the rest are skipped.
fn write_rows_skipping_taken(conn: &mut DbConnection, rows: &[NewPerson<'_>]) -> Result<usize> {
    Ok(match conn {
        // Diesel's SQLite batch insert has no ON CONFLICT clause; OR IGNORE is the same here.
        DbConnection::Sqlite(c) => diesel::insert_or_ignore_into(person::table)
            .values(rows)
            .execute(c)?,
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => {
            // COPY has no conflict handling. Multi-row INSERTs, under
            // PostgreSQL's 65,535 bound parameters at three per row.
            let mut inserted = 0;
            for chunk in rows.chunks(CREATE_MANY_ROWS) {
                inserted += diesel::insert_into(person::table)
                    .values(chunk)
                    .on_conflict_do_nothing()
                    .execute(c)?;
            }
            inserted
        }
    })
}

/// The error for the first name of `batch` that is stored already or repeats
/// within the batch.
fn first_taken(conn: &mut DbConnection, batch: &[PersonName]) -> Result<Error> {
    let stored: HashSet<String> = person::table
        .select(person::name)
        .filter(person::name.eq_any(batch.iter().map(PersonName::as_str)))
        .load(conn)?
        .into_iter()
        .collect();
    let mut seen = HashSet::with_capacity(batch.len());
    let taken = batch
        .iter()
        .find(|name| stored.contains(name.as_str()) || !seen.insert(name.as_str()))
        .or(batch.first());
    Ok(Error::NameTaken {
        name: taken.map(|n| n.to_string()).unwrap_or_default(),
    })
}

/// The person with this id.
///
/// # Errors
/// [`Error::NotFound`] if there is none.
///
/// # Example
/// ```
/// # let mut conn = people::init(":memory:")?;
/// let id = people::create(&mut conn, "Alice")?.id;
/// assert_eq!(people::get(&mut conn, id)?.name, "Alice");
/// assert!(matches!(people::get(&mut conn, id + 1), Err(people::Error::NotFound { .. })));
/// # Ok::<(), people::Error>(())
/// ```
pub fn get(conn: &mut DbConnection, id: i32) -> Result<Person> {
    // Not `first()`: it adds a bound `LIMIT ?`, which makes SQLite re-prepare
    // the statement on every call (see `statements.rs`).
    let by_id = PersonWhere::new(person::id, id);
    with_inner!(conn, |c| by_id.get_result(c).optional())?.ok_or(Error::NotFound { id })
}

/// The person with exactly this name (case-sensitive), if any.
///
/// # Errors
/// Only database failures; an absent name is `Ok(None)`.
///
/// # Example
/// ```
/// # let mut conn = people::init(":memory:")?;
/// people::create(&mut conn, "Alice")?;
/// assert!(people::find_by_name(&mut conn, "Alice")?.is_some());
/// assert!(people::find_by_name(&mut conn, "alice")?.is_none());
/// # Ok::<(), people::Error>(())
/// ```
pub fn find_by_name(conn: &mut DbConnection, name: &str) -> Result<Option<Person>> {
    let by_name = PersonWhere::new(person::name, name);
    Ok(with_inner!(conn, |c| by_name.get_result(c).optional())?)
}

/// Up to `limit` people with an id greater than `after`, by id: keyset
/// pagination, as fast on the millionth page as on the first. Pass the last
/// id of one page as `after` to get the next.
///
/// # Errors
/// Only database failures.
///
/// # Example
/// ```
/// # let mut conn = people::init(":memory:")?;
/// people::create_many(&mut conn, ["A", "B", "C"], people::OnConflict::Fail)?;
/// let first = people::list(&mut conn, None, 2)?;
/// let rest = people::list(&mut conn, Some(first[1].id), 2)?;
/// assert_eq!(rest.len(), 1);
/// # Ok::<(), people::Error>(())
/// ```
pub fn list(conn: &mut DbConnection, after: Option<i32>, limit: i64) -> Result<Vec<Person>> {
    let Some(first_id) = first_id_after(after) else {
        return Ok(Vec::new());
    };
    let page = PageAt {
        from_id: first_id,
        limit: limit.max(0),
        offset: 0,
    };
    Ok(with_inner!(conn, |c| page.load(c))?)
}

/// Like [`list`], but only names that contain `needle`, ignoring ASCII case
/// (and all case on PostgreSQL). `%`, `_` and `\` in `needle` match
/// themselves, not patterns.
///
/// # Errors
/// Only database failures.
///
/// # Example
/// ```
/// # let mut conn = people::init(":memory:")?;
/// people::create_many(&mut conn, ["Alice", "MALICE", "Bob", "50%_off"], people::OnConflict::Fail)?;
/// let found = people::search(&mut conn, "lic", None, 10)?;
/// assert_eq!(found.len(), 2);
/// assert_eq!(people::search(&mut conn, "%_", None, 10)?[0].name, "50%_off");
/// # Ok::<(), people::Error>(())
/// ```
pub fn search(
    conn: &mut DbConnection,
    needle: &str,
    after: Option<i32>,
    limit: i64,
) -> Result<Vec<Person>> {
    let Some(first_id) = first_id_after(after) else {
        return Ok(Vec::new());
    };
    if cannot_match(needle) {
        return Ok(Vec::new());
    }
    let pattern = like_pattern(needle);
    Ok(with_inner!(conn, |c| LimitPlus {
        query: person::table
            .filter(person::id.ge(first_id))
            .filter(name_contains!(pattern.as_str()))
            .order(person::id.asc())
            .select(Person::as_select()),
        limit: limit.max(0),
    }
    .load(c))?)
}

/// The smallest id a keyset page after `after` may hold; `None` past the last
/// possible id. One query shape for "from the start" and "after an id", so
/// that Diesel caches one prepared statement.
fn first_id_after(after: Option<i32>) -> Option<i32> {
    match after {
        None => Some(i32::MIN),
        Some(after) => after.checked_add(1),
    }
}

/// No name can contain these. SQLite would read a NUL as the end of the
/// pattern (matching everyone), and refuses patterns over 50 kB.
fn cannot_match(needle: &str) -> bool {
    needle.contains('\0') || needle.chars().nth(MAX_NAME_CHARS).is_some()
}

/// `%needle%` with `%`, `_` and `\` made literal.
fn like_pattern(needle: &str) -> String {
    format!("%{}%", escape_like(needle))
}

/// `lower(name) LIKE lower(pattern) ESCAPE '\'`, for whichever backend the
/// surrounding query is built for.
macro_rules! name_contains {
    ($pattern:expr) => {
        lower(person::name).like(lower($pattern)).escape('\\')
    };
}
use name_contains;

/// The `person` table, narrowed to names containing `needle` when given.
pub(crate) fn filtered(needle: Option<&str>) -> person::BoxedQuery<'static, MultiBackend> {
    let query = person::table.into_boxed();
    match needle {
        Some(needle) if cannot_match(needle) => query.filter(person::id.is_null()),
        Some(needle) => query.filter(name_contains!(like_pattern(needle))),
        None => query,
    }
}

/// Makes `%`, `_` and `\` literal in a LIKE pattern that uses `\` as escape.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Renames a person and returns the updated row: `updated_at` advances,
/// `created_at` stays, in the one UPDATE statement.
///
/// # Errors
/// [`Error::InvalidName`], [`Error::NameTaken`], or [`Error::NotFound`].
///
/// # Example
/// ```
/// # let mut conn = people::init(":memory:")?;
/// let id = people::create(&mut conn, "Alice")?.id;
/// assert_eq!(people::rename(&mut conn, id, "Alicia")?.name, "Alicia");
/// # Ok::<(), people::Error>(())
/// ```
pub fn rename<N>(conn: &mut DbConnection, id: i32, new_name: N) -> Result<Person>
where
    N: TryInto<PersonName>,
    Error: From<N::Error>,
{
    let new_name = new_name.try_into()?;
    let updated_at = now();
    let rename = Rename {
        id,
        name: new_name.as_str(),
        updated_at: updated_at.into(),
    };
    // Autocommit and stepped to completion, as in `create`. Only created_at
    // comes back: the rest is what was written.
    let created: Vec<UtcTimestamp> = statement(conn, |conn| with_inner!(conn, |c| rename.load(c)))
        .map_err(|e| Error::from_write(e, new_name.as_str()))?;
    let created_at = created.into_iter().next().ok_or(Error::NotFound { id })?;
    Ok(Person {
        id,
        name: new_name.into_string(),
        created_at: created_at.into(),
        updated_at,
    })
}

/// Deletes a person and returns the deleted row. Its id is never reused.
///
/// # Errors
/// [`Error::NotFound`] if there is no such person.
///
/// # Example
/// ```
/// # let mut conn = people::init(":memory:")?;
/// let id = people::create(&mut conn, "Alice")?.id;
/// assert_eq!(people::delete(&mut conn, id)?.name, "Alice");
/// assert_eq!(people::count(&mut conn)?, 0);
/// # Ok::<(), people::Error>(())
/// ```
pub fn delete(conn: &mut DbConnection, id: i32) -> Result<Person> {
    // Autocommit and stepped to completion, as in `create`.
    let mut rows: Vec<Person> = statement(conn, |conn| {
        with_inner!(conn, |c| diesel::delete(
            person::table.filter(person::id.eq(id))
        )
        .returning(Person::as_returning())
        .get_results(c))
    })?;
    rows.pop().ok_or(Error::NotFound { id })
}

/// How many people there are.
///
/// # Errors
/// Only database failures.
///
/// # Example
/// ```
/// # let mut conn = people::init(":memory:")?;
/// assert_eq!(people::count(&mut conn)?, 0);
/// # Ok::<(), people::Error>(())
/// ```
pub fn count(conn: &mut DbConnection) -> Result<i64> {
    Ok(with_inner!(conn, |c| person::table.count().get_result(c))?)
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
        assert_eq!(escape_like("plain"), "plain");
    }
}
