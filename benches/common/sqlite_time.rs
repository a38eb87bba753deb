//! The raw side's timestamp column, read and written as a raw-SQLite
//! programmer at their best does it: the known form parsed by hand, in one
//! pass over the bytes, and written digit by digit (the very parser and
//! formatter people uses, so both sides run the same code); rusqlite's chrono
//! `FromSql` for any other form.

use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::ToSql;
use rusqlite::types::{FromSql, FromSqlResult, ToSqlOutput, ValueRef};

/// A `TIMESTAMP` column as UTC: `row.get::<_, SqliteTime>(i)?.0`, and a
/// time to bind.
#[derive(Debug, Clone, Copy)]
pub struct SqliteTime(pub DateTime<Utc>);

impl ToSql for SqliteTime {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        let text = people::models::format_sqlite_timestamp(self.0.naive_utc());
        Ok(ToSqlOutput::from(text))
    }
}

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
