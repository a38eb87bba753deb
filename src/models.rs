//! The `person` row as Rust structs: [`Person`] to read, [`NewPerson`] to insert.
//! Both are checked against `schema.rs` on every enabled backend.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SubsecRound, Timelike, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::prelude::*;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Timestamp;
use diesel::sqlite::{Sqlite, SqliteType, SqliteValue};

use crate::DbConnection;
use crate::name::PersonName;
use crate::schema::person;
use crate::unreadable::PersonRow;

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
// `Queryable` is written out below, to name the row's id when a column
// cannot be read; `deserialize_as` stays for `Selectable`'s backend check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Selectable, Identifiable)]
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

/// As `#[derive(Queryable)]` would build it, but a column that cannot be read
/// fails the row with an error naming its id
/// ([`Error::UnreadablePerson`](crate::Error::UnreadablePerson)).
impl<DB, ST0, ST1, ST2, ST3> Queryable<(ST0, ST1, ST2, ST3), DB> for Person
where
    DB: Backend,
    PersonRow: deserialize::FromStaticSqlRow<(ST0, ST1, ST2, ST3), DB>,
{
    type Row = PersonRow;

    #[inline(always)]
    fn build(
        PersonRow((id, name, created_at, updated_at)): PersonRow,
    ) -> deserialize::Result<Self> {
        Ok(Person {
            id,
            name,
            created_at: created_at.into(),
            updated_at: updated_at.into(),
        })
    }
}

impl fmt::Display for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<Name {}>", crate::name::quoted(&self.name))
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
    created_at: UtcTimestamp,
    updated_at: UtcTimestamp,
}

impl<'a> NewPerson<'a> {
    /// A new row with this name, created (and updated) `at`.
    pub fn new(name: &'a PersonName, at: DateTime<Utc>) -> Self {
        NewPerson {
            name: name.as_str(),
            created_at: at.into(),
            updated_at: at.into(),
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

/// A `TIMESTAMP` column read and written as UTC (the schema stores UTC
/// without a zone): what [`Person`]'s timestamps are loaded through and new
/// ones bound as. Rarely named; convert it with `DateTime::<Utc>::from` and
/// `UtcTimestamp::from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow, AsExpression)]
#[diesel(sql_type = Timestamp)]
pub struct UtcTimestamp(DateTime<Utc>);

impl From<DateTime<Utc>> for UtcTimestamp {
    fn from(at: DateTime<Utc>) -> Self {
        UtcTimestamp(at)
    }
}

/// On SQLite a `TIMESTAMP` is text: written in the form Diesel writes, by
/// [`format_sqlite_timestamp`] (about 450 instructions with its allocation,
/// against about 3,000 through chrono's format interpreter).
impl ToSql<Timestamp, Sqlite> for UtcTimestamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(format_sqlite_timestamp(self.0.naive_utc()));
        Ok(IsNull::No)
    }
}

/// PostgreSQL takes a `TIMESTAMP` as 8 bytes: Diesel's impl.
#[cfg(feature = "postgres")]
impl ToSql<Timestamp, diesel::pg::Pg> for UtcTimestamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::pg::Pg>) -> serialize::Result {
        ToSql::<Timestamp, diesel::pg::Pg>::to_sql(&self.0.naive_utc(), &mut out.reborrow())
    }
}

/// On the multi-connection itself: the backend's own impl above.
impl ToSql<Timestamp, <DbConnection as Connection>::Backend> for UtcTimestamp {
    fn to_sql<'b>(
        &'b self,
        out: &mut Output<'b, '_, <DbConnection as Connection>::Backend>,
    ) -> serialize::Result {
        out.set_value((Timestamp, self));
        Ok(IsNull::No)
    }
}

/// SQLite stores a `TIMESTAMP` as text. The text people (through Diesel) and
/// Flask-SQLAlchemy write is parsed here in one pass over its bytes; any
/// other form goes to Diesel's parser, which tries its formats one by one
/// through chrono's format interpreter (about 2,300 instructions a value, against
/// about 300 here).
impl FromSql<Timestamp, Sqlite> for UtcTimestamp {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        if value.value_type() == Some(SqliteType::Text) {
            if let Some(naive) = parse_sqlite_timestamp(value.read_text().as_bytes()) {
                return Ok(UtcTimestamp(naive.and_utc()));
            }
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value)
            .map(|naive| UtcTimestamp(naive.and_utc()))
    }
}

/// PostgreSQL sends a `TIMESTAMP` as 8 bytes: nothing to speed up.
#[cfg(feature = "postgres")]
impl FromSql<Timestamp, diesel::pg::Pg> for UtcTimestamp {
    fn from_sql(bytes: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, diesel::pg::Pg>>::from_sql(bytes)
            .map(|naive| UtcTimestamp(naive.and_utc()))
    }
}

/// On the multi-connection itself (queries Diesel cannot run on the inner
/// connection): the backend's own impl above.
impl FromSql<Timestamp, <DbConnection as Connection>::Backend> for UtcTimestamp {
    fn from_sql(
        bytes: <<DbConnection as Connection>::Backend as Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        // The SQL type is inferred (`Timestamp`, the one this type reads).
        bytes.from_sql()
    }
}

/// Reads SQLite `TIMESTAMP` text of the form Diesel writes (`%F %T%.f`:
/// `YYYY-MM-DD HH:MM:SS`, optionally `.` and 1 to 9 digits of a second),
/// which is also Flask-SQLAlchemy's, in one pass over its bytes.
///
/// This is how [`Person`]'s timestamps are read on SQLite; an app that reads
/// the `person` table with raw SQL can use it too. It returns `None` for any
/// other text, including a leap second (`:60`) and an impossible date: people
/// then falls back to Diesel's parser, which knows more forms. Where it
/// returns a time, that is the time Diesel's parser returns (a property
/// test compares the two).
///
/// ```
/// use people::models::parse_sqlite_timestamp;
/// let at = parse_sqlite_timestamp(b"2026-11-27 09:30:00.25").unwrap();
/// assert_eq!(at.to_string(), "2026-11-27 09:30:00.250");
/// assert_eq!(parse_sqlite_timestamp(b"2026-11-27T09:30:00"), None);
/// ```
pub fn parse_sqlite_timestamp(text: &[u8]) -> Option<NaiveDateTime> {
    const SEPARATORS: [(usize, u8); 5] = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')];
    let fraction = match text.len() {
        19 => &[][..],
        21..=29 if text[19] == b'.' => &text[20..],
        _ => return None,
    };
    if SEPARATORS
        .iter()
        .any(|&(at, separator)| text[at] != separator)
    {
        return None;
    }
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0_u32, |value, &digit| {
            digit
                .is_ascii_digit()
                .then(|| value * 10 + u32::from(digit - b'0'))
        })
    };
    let year = i32::try_from(number(&text[0..4])?).ok()?;
    let (month, day) = (number(&text[5..7])?, number(&text[8..10])?);
    let (hour, minute, second) = (
        number(&text[11..13])?,
        number(&text[14..16])?,
        number(&text[17..19])?,
    );
    // Scaled to nanoseconds: ".5" is 500,000,000 (at most 9 digits: no overflow).
    let nanosecond = number(fraction)? * 10_u32.pow(9 - fraction.len() as u32);
    NaiveDate::from_ymd_opt(year, month, day)?.and_hms_nano_opt(hour, minute, second, nanosecond)
}

/// Writes a time as SQLite `TIMESTAMP` text, exactly as Diesel writes it
/// (`%F %T%.f`: `YYYY-MM-DD HH:MM:SS`, then `.` and 3, 6 or 9 digits unless
/// the fraction is zero), one digit at a time rather than through chrono's
/// format interpreter. [`parse_sqlite_timestamp`] reads it back.
///
/// This is how people writes times on SQLite; an app that writes the
/// `person` table with raw SQL can use it too. A year outside 0 to 9999 or a
/// leap second is handed to chrono (a property test holds the two to the same
/// text).
///
/// ```
/// use people::models::{format_sqlite_timestamp, parse_sqlite_timestamp};
/// let at = parse_sqlite_timestamp(b"2026-11-27 09:30:00.25").unwrap();
/// assert_eq!(format_sqlite_timestamp(at), "2026-11-27 09:30:00.250");
/// ```
pub fn format_sqlite_timestamp(at: NaiveDateTime) -> String {
    let nanosecond = at.nanosecond();
    if !(0..=9999).contains(&at.year()) || nanosecond >= 1_000_000_000 {
        return at.format("%F %T%.f").to_string();
    }
    let mut text = String::with_capacity(29);
    let mut digits = |value: u32, count: u32, before: Option<char>| {
        if let Some(separator) = before {
            text.push(separator);
        }
        for place in (0..count).rev() {
            let digit = value / 10_u32.pow(place) % 10;
            text.push(char::from(b'0' + digit as u8));
        }
    };
    // In range: the year is 0 to 9999.
    digits(at.year().unsigned_abs(), 4, None);
    digits(at.month(), 2, Some('-'));
    digits(at.day(), 2, Some('-'));
    digits(at.hour(), 2, Some(' '));
    digits(at.minute(), 2, Some(':'));
    digits(at.second(), 2, Some(':'));
    // As chrono's `%.f`: no fraction for a whole second, else 3, 6 or 9 digits.
    match nanosecond {
        0 => {}
        n if n % 1_000_000 == 0 => digits(n / 1_000_000, 3, Some('.')),
        n if n % 1_000 == 0 => digits(n / 1_000, 6, Some('.')),
        n => digits(n, 9, Some('.')),
    }
    text
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
