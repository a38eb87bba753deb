//! Rows in PostgreSQL's binary `COPY` format, written into the sink Diesel's
//! `copy_from(…).from_raw_data(…)` hands its callback, through one 64 KiB
//! buffer: Diesel's own `from_insertable` hands libpq one `PQputCopyData` per
//! row, and a protocol message per row costs the server more than the row.
//! <https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4>

use std::io::{BufWriter, Write};

use chrono::NaiveDateTime;
use diesel::QueryResult;
use diesel::result::Error as DieselError;

/// PostgreSQL's timestamps count microseconds from 2000-01-01 00:00:00.
const POSTGRES_EPOCH: NaiveDateTime = match chrono::NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(date) => date.and_time(chrono::NaiveTime::MIN),
    None => NaiveDateTime::MIN,
};

/// A binary COPY stream: the header on creation, then [`row`](Self::row)
/// and its fields, then [`finish`](Self::finish).
pub(crate) struct BinaryCopy<'a> {
    out: BufWriter<&'a mut dyn Write>,
}

impl<'a> BinaryCopy<'a> {
    pub(crate) fn new(sink: &'a mut dyn Write) -> QueryResult<Self> {
        let mut copy = BinaryCopy {
            out: BufWriter::with_capacity(64 * 1024, sink),
        };
        // Signature, flags (no OIDs), header extension length.
        copy.bytes(b"PGCOPY\n\xff\r\n\0")?;
        copy.bytes(&0_i32.to_be_bytes())?;
        copy.bytes(&0_i32.to_be_bytes())?;
        Ok(copy)
    }

    /// Starts a row of `fields` fields.
    #[inline]
    pub(crate) fn row(&mut self, fields: i16) -> QueryResult<()> {
        self.bytes(&fields.to_be_bytes())
    }

    /// A `TEXT` field.
    #[inline]
    pub(crate) fn text(&mut self, text: &str) -> QueryResult<()> {
        let len = i32::try_from(text.len()).map_err(failed)?;
        self.bytes(&len.to_be_bytes())?;
        self.bytes(text.as_bytes())
    }

    /// An `INTEGER` field.
    #[inline]
    pub(crate) fn integer(&mut self, value: i32) -> QueryResult<()> {
        self.bytes(&4_i32.to_be_bytes())?;
        self.bytes(&value.to_be_bytes())
    }

    /// A `TIMESTAMP` field (as Diesel's `ToSql` encodes it).
    #[inline]
    pub(crate) fn timestamp(&mut self, at: NaiveDateTime) -> QueryResult<()> {
        self.encoded_timestamp(&EncodedTimestamp::new(at)?)
    }

    /// A `TIMESTAMP` field encoded once, for a time that many rows share.
    #[inline]
    pub(crate) fn encoded_timestamp(&mut self, at: &EncodedTimestamp) -> QueryResult<()> {
        self.bytes(&at.0)
    }

    /// The trailer, and everything still in the buffer.
    pub(crate) fn finish(mut self) -> QueryResult<()> {
        self.bytes(&(-1_i16).to_be_bytes())?;
        self.out.flush().map_err(failed)
    }

    #[inline]
    fn bytes(&mut self, bytes: &[u8]) -> QueryResult<()> {
        self.out.write_all(bytes).map_err(failed)
    }
}

/// A `TIMESTAMP` field, length and value, as [`BinaryCopy`] writes it.
pub(crate) struct EncodedTimestamp([u8; 12]);

impl EncodedTimestamp {
    #[inline]
    pub(crate) fn new(at: NaiveDateTime) -> QueryResult<Self> {
        let micros = at
            .signed_duration_since(POSTGRES_EPOCH)
            .num_microseconds()
            .ok_or_else(|| failed(format!("{at} is out of PostgreSQL's range")))?;
        let mut field = [0; 12];
        field[..4].copy_from_slice(&8_i32.to_be_bytes());
        field[4..].copy_from_slice(&micros.to_be_bytes());
        Ok(EncodedTimestamp(field))
    }
}

/// What a COPY callback may return.
pub(crate) fn failed(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> DieselError {
    DieselError::SerializationError(error.into())
}
