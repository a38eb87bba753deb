//! The `person` row as Rust structs: [`Person`] to read, [`NewPerson`] to insert.
//! Both are checked against `schema.rs` on every enabled backend.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::prelude::*;
use diesel::sql_types::Timestamp;

use crate::name::PersonName;
use crate::schema::person;

/// A stored person.
///
/// `created_at` and `updated_at` are UTC, to the microsecond: `create` sets
/// both, `rename` advances `updated_at`. The database keeps `updated_at`
/// true when another program updates a row (a trigger), and fills both when
/// another program inserts one (column defaults).
///
/// `Display` follows the seed tutorial's `__repr__`: `<Name "Alice">`. With
/// the `serde` feature the timestamps are RFC 3339 strings ending in `Z`.
///
/// ```
/// # let mut conn = people::init(":memory:")?;
/// let alice = people::create(&mut conn, "Alice")?;
/// assert_eq!(alice.to_string(), r#"<Name "Alice">"#);
/// assert_eq!(alice.created_at, alice.updated_at);
/// # Ok::<(), people::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Queryable, Selectable, Identifiable)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[diesel(table_name = person)]
#[cfg_attr(
    feature = "postgres",
    diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))
)]
#[cfg_attr(
    not(feature = "postgres"),
    diesel(check_for_backend(diesel::sqlite::Sqlite))
)]
pub struct Person {
    /// Assigned by the database; never reused after a delete.
    pub id: i32,
    /// Unique, 1 to 80 characters (see [`PersonName`]).
    pub name: String,
    /// When the person was created (UTC).
    #[diesel(deserialize_as = UtcTimestamp)]
    #[cfg_attr(feature = "serde", serde(with = "rfc3339"))]
    pub created_at: DateTime<Utc>,
    /// When the person was last changed (UTC); `created_at` until then.
    #[diesel(deserialize_as = UtcTimestamp)]
    #[cfg_attr(feature = "serde", serde(with = "rfc3339"))]
    pub updated_at: DateTime<Utc>,
}

impl fmt::Display for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<Name {:?}>", self.name)
    }
}

/// A person to insert. It borrows a [`PersonName`], so only valid names
/// reach the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Insertable)]
#[diesel(table_name = person)]
// Without this, Diesel's SQLite batch insert runs one INSERT per row in a
// savepoint (it treats every field as maybe-DEFAULT); with it, one multi-row
// INSERT per batch.
#[diesel(treat_none_as_default_value = false)]
pub struct NewPerson<'a> {
    name: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl<'a> NewPerson<'a> {
    /// A new row with this name, created (and updated) `at`.
    pub fn new(name: &'a PersonName, at: DateTime<Utc>) -> Self {
        NewPerson {
            name: name.as_str(),
            created_at: at.naive_utc(),
            updated_at: at.naive_utc(),
        }
    }

    /// The name to insert.
    pub fn name(&self) -> &'a str {
        self.name
    }
}

/// The current time as people stores it: UTC, whole microseconds (what
/// PostgreSQL keeps, so a value reads back exactly as it was written).
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A `TIMESTAMP` column read as UTC (the schema stores UTC without a zone):
/// what [`Person`]'s timestamps are loaded through. Rarely named; convert it
/// with `DateTime::<Utc>::from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct UtcTimestamp(DateTime<Utc>);

impl<DB> FromSql<Timestamp, DB> for UtcTimestamp
where
    DB: Backend,
    NaiveDateTime: FromSql<Timestamp, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        NaiveDateTime::from_sql(bytes).map(|naive| UtcTimestamp(naive.and_utc()))
    }
}

impl From<UtcTimestamp> for DateTime<Utc> {
    fn from(timestamp: UtcTimestamp) -> Self {
        timestamp.0
    }
}

/// RFC 3339 in UTC with a `Z` and microseconds: `2026-11-26T03:42:27.123456Z`.
#[cfg(feature = "serde")]
pub(crate) mod rfc3339 {
    use chrono::{DateTime, SecondsFormat, Utc};

    pub(crate) fn format(at: &DateTime<Utc>) -> String {
        at.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    pub(crate) fn serialize<S: serde::Serializer>(
        at: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(at))
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}
