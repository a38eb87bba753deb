//! The raw side's timestamp column, read as a raw-SQLite programmer at their
//! best reads it: the known form parsed by hand, in one pass over the bytes
//! (the very parser people uses, so both sides run the same code), and
//! rusqlite's chrono `FromSql` for any other form.

use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::types::{FromSql, FromSqlResult, ValueRef};

/// A `TIMESTAMP` column as UTC: `row.get::<_, SqliteTime>(i)?.0`.
pub struct SqliteTime(pub DateTime<Utc>);

impl FromSql for SqliteTime {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        if let ValueRef::Text(text) = value
            && let Some(at) = people::models::parse_sqlite_timestamp(text)
        {
            return Ok(SqliteTime(at.and_utc()));
        }
        NaiveDateTime::column_result(value).map(|at| SqliteTime(at.and_utc()))
    }
}
