//! Reading names from, and writing people to, the import/export formats:
//! `lines` (one name per line), `csv` (`id,name,created_at,updated_at` with a
//! header) and `json` (an array of `{"id","name","created_at","updated_at"}`
//! objects; the times are RFC 3339 in UTC). Import reads only the names, so
//! export in one format and import in the same one reproduces the names
//! exactly (new ids and times: `people copy` keeps those).

mod bounded_read;

use std::io::{self, BufRead, Write};
use std::str::FromStr;

use crate::connection::DbConnection;
use crate::error::{Error, Result};
use crate::models::{Person, rfc3339};
use crate::name::{MAX_NAME_CHARS, PersonName};
use bounded_read::{BoundedRead, Limit};

/// An import/export file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// One name per line, UTF-8, `\n` or `\r\n`; blank lines are skipped.
    #[default]
    Lines,
    /// RFC 4180 CSV with an `id,name,created_at,updated_at` header; import
    /// reads the `name` column.
    Csv,
    /// A JSON array of `{"id","name","created_at","updated_at"}` objects;
    /// import reads `name`.
    Json,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "lines" => Ok(Format::Lines),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            other => Err(format!("unknown format {other:?}; use lines, csv or json")),
        }
    }
}

/// People read per query by [`export`]: memory stays flat at any size.
const EXPORT_BATCH: i64 = 1_000;

/// Writes every person to `out` in `format`, in id order, and returns how
/// many. The batches are read in one snapshot ([`read_snapshot`](crate::read_snapshot)),
/// so what other connections commit meanwhile is not in it: an export
/// is always a state the database was in, and imports again.
///
/// # Errors
/// [`Error::UnreadablePerson`] or another database error, or [`Error::Io`]
/// if writing fails. `out` then holds the part written before: write to a
/// file beside the target and rename it once this returns `Ok`, as
/// `people export -o FILE` does, to replace a file only with a whole export.
///
/// # Example
/// ```
/// use people::formats::{Format, export};
/// # let mut conn = people::init(":memory:")?;
/// people::create_many(&mut conn, ["Ann", "Bo"], people::OnConflict::Fail)?;
/// let mut out = Vec::new();
/// assert_eq!(export(&mut conn, Format::Lines, &mut out)?, 2);
/// assert_eq!(out, b"Ann\nBo\n");
/// # Ok::<(), people::Error>(())
/// ```
pub fn export<W: Write>(conn: &mut DbConnection, format: Format, out: W) -> Result<u64> {
    let mut writer = PersonWriter::new(out, format)?;
    crate::read_snapshot(conn, |conn| {
        let mut after = None;
        loop {
            let batch = crate::list(conn, after, EXPORT_BATCH)?;
            for person in &batch {
                writer.write(person)?;
            }
            match batch.last() {
                Some(last) if batch.len() as i64 == EXPORT_BATCH => after = Some(last.id),
                _ => return Ok::<_, Error>(()),
            }
        }
    })?;
    let written = writer.written;
    writer.finish()?;
    Ok(written)
}

/// The names in `input`, validated one by one as they are read; pass the
/// result to [`create_many`](crate::create_many).
///
/// Memory stays bounded whatever the input: an over-long line is refused
/// after reading a few hundred bytes of it.
///
/// # Errors
/// Each item is an error ([`Error::InvalidRecord`] with the 1-based line
/// number, or [`Error::Io`]) where the input cannot be read as a valid name.
///
/// # Example
/// ```
/// use people::formats::{Format, read_names};
/// let names: Vec<_> = read_names(&b"Ann\r\n\nBo\n"[..], Format::Lines).collect::<Result<_, _>>()?;
/// assert_eq!(names.len(), 2);
/// let bad: Vec<_> = read_names(&b"Ann\n Bo\n"[..], Format::Lines).collect();
/// assert_eq!(bad[1].as_ref().unwrap_err().to_string(),
///            r#"line 2: invalid name: " Bo" has leading or trailing whitespace"#);
/// # Ok::<(), people::Error>(())
/// ```
pub fn read_names<R: BufRead + Send + 'static>(
    input: R,
    format: Format,
) -> Box<dyn Iterator<Item = Result<PersonName>> + Send> {
    match format {
        Format::Lines => Box::new(LineNames {
            input,
            line: 0,
            buf: Vec::new(),
            done: false,
        }),
        Format::Csv => Box::new(csv_names(input)),
        Format::Json => Box::new(json_names(input)),
    }
}

/// Longest line the `lines` reader accepts: 80 characters of up to 4 bytes,
/// plus `\r`. Anything longer cannot be a valid name.
const MAX_LINE_BYTES: u64 = MAX_NAME_CHARS as u64 * 4 + 1;

struct LineNames<R> {
    input: R,
    line: u64,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> Iterator for LineNames<R> {
    type Item = Result<PersonName>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            self.buf.clear();
            self.line += 1;
            let read = io::Read::take(&mut self.input, MAX_LINE_BYTES + 1)
                .read_until(b'\n', &mut self.buf);
            let ended = match read {
                Ok(0) => return None,
                Ok(_) => self.buf.last() == Some(&b'\n'),
                Err(e) => return Some(self.fail(Error::Io { source: e })),
            };
            if ended {
                self.buf.pop();
            }
            if self.buf.len() as u64 > MAX_LINE_BYTES {
                let reason = format!("invalid name: longer than {MAX_NAME_CHARS} characters");
                return Some(self.fail(Error::InvalidRecord {
                    location: self.location(),
                    reason,
                }));
            }
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            let Ok(text) = std::str::from_utf8(&self.buf) else {
                let reason = "not valid UTF-8".to_owned();
                return Some(self.fail(Error::InvalidRecord {
                    location: self.location(),
                    reason,
                }));
            };
            if text.trim().is_empty() {
                continue;
            }
            return Some(PersonName::new(text).map_err(|e| at(self.location(), e)));
        }
        None
    }
}

impl<R> LineNames<R> {
    fn location(&self) -> String {
        format!("line {}", self.line)
    }

    /// After a read error the input's position is unknown: stop there.
    fn fail(&mut self, error: Error) -> Result<PersonName> {
        self.done = true;
        Err(error)
    }
}

/// Says where in the input a name error is.
fn at(location: String, error: Error) -> Error {
    match error {
        Error::InvalidName { reason } => Error::InvalidRecord {
            location,
            reason: format!("invalid name: {reason}"),
        },
        other => other,
    }
}

/// The longest CSV line or JSON string a valid file can hold, with room for
/// quoting, escapes and an id: a name is at most 320 bytes of UTF-8, or 960
/// as JSON `\uXXXX` escapes.
const MAX_RECORD_BYTES: usize = 4 * 1024;

fn csv_names<R: BufRead>(input: R) -> impl Iterator<Item = Result<PersonName>> {
    let (input, overflow) = BoundedRead::new(input, Limit::Line(MAX_RECORD_BYTES));
    let csv_error = move |error: csv::Error| match overflow.get() {
        Some(line) => record_too_long(format!("line {line}")),
        None => csv_error(error),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(input);
    let name_column = match reader.headers() {
        Ok(headers) => {
            headers
                .iter()
                .position(|h| h == "name")
                .ok_or_else(|| Error::InvalidRecord {
                    location: "line 1".to_owned(),
                    reason: "the CSV header has no \"name\" column".to_owned(),
                })
        }
        Err(e) => Err(csv_error(e)),
    };
    let (header_error, column) = match name_column {
        Ok(column) => (None, column),
        Err(e) => (Some(e), 0),
    };
    let records = header_error.is_none().then(|| reader.into_records());
    header_error
        .map(Err)
        .into_iter()
        .chain(records.into_iter().flatten().map(move |record| {
            let record = record.map_err(&csv_error)?;
            let location = format!("line {}", record.position().map_or(0, |p| p.line()));
            let name = record.get(column).ok_or_else(|| Error::InvalidRecord {
                location: location.clone(),
                reason: "the record has no name field".to_owned(),
            })?;
            PersonName::new(name).map_err(|e| at(location, e))
        }))
}

/// Refused before the record was read whole, so there is no name to show.
fn record_too_long(location: String) -> Error {
    let reason = format!("invalid name: longer than {MAX_NAME_CHARS} characters");
    Error::InvalidRecord { location, reason }
}

fn csv_error(error: csv::Error) -> Error {
    let location = format!("line {}", error.position().map_or(0, |p| p.line()));
    match error.into_kind() {
        csv::ErrorKind::Io(source) => Error::Io { source },
        csv::ErrorKind::Utf8 { .. } => Error::InvalidRecord {
            location,
            reason: "not valid UTF-8".to_owned(),
        },
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => Error::InvalidRecord {
            location,
            reason: format!("expected {expected_len} fields, found {len}"),
        },
        other => Error::InvalidRecord {
            location,
            reason: format!("{other:?}"),
        },
    }
}

/// JSON arrays cannot be read element by element with serde_json's
/// iterator, so a thread deserializes the array and hands each name over a
/// small bounded channel: memory stays flat and the caller gets an iterator.
fn json_names<R: BufRead + Send + 'static>(
    input: R,
) -> impl Iterator<Item = Result<PersonName>> + Send {
    use serde::de::{DeserializeSeed, SeqAccess, Visitor};

    #[derive(serde::Deserialize)]
    struct Record {
        name: String,
    }

    struct EachName<'a> {
        sender: &'a std::sync::mpsc::SyncSender<Result<PersonName>>,
        /// Records read so far, to say which one an error is in.
        records: &'a std::cell::Cell<u64>,
        /// Set when this visitor ends the parse on purpose (the error it
        /// returns to serde for that carries no information).
        stopped: &'a std::cell::Cell<bool>,
    }

    impl<'de> DeserializeSeed<'de> for EachName<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(
            self,
            d: D,
        ) -> std::result::Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for EachName<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of {\"id\": .., \"name\": ..} objects")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
            while let Some(record) = seq.next_element::<Record>()? {
                let index = self.records.get() + 1;
                self.records.set(index);
                let name =
                    PersonName::new(record.name).map_err(|e| at(format!("record {index}"), e));
                let failed = name.is_err();
                if self.sender.send(name).is_err() || failed {
                    // The consumer stopped or the batch is lost anyway.
                    self.stopped.set(true);
                    return Err(serde::de::Error::custom("import stopped"));
                }
            }
            Ok(())
        }
    }

    let (sender, receiver) = std::sync::mpsc::sync_channel(1024);
    // Detached: it ends when the input ends or the receiver is dropped.
    std::thread::spawn(move || {
        let (input, overflow) = BoundedRead::new(input, Limit::JsonString(MAX_RECORD_BYTES));
        let mut de = serde_json::Deserializer::from_reader(input);
        let records = std::cell::Cell::new(0);
        let stopped = std::cell::Cell::new(false);
        let result = EachName {
            sender: &sender,
            records: &records,
            stopped: &stopped,
        }
        .deserialize(&mut de)
        .and_then(|()| de.end());
        if let Err(e) = result {
            if stopped.get() {
                return;
            }
            if overflow.get().is_some() {
                let record = records.get() + 1;
                let _ = sender.send(Err(record_too_long(format!("record {record}"))));
                return;
            }
            let message = e.to_string();
            let reason = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            let _ = sender.send(Err(if e.is_io() {
                Error::Io {
                    source: io::Error::other(reason),
                }
            } else {
                Error::InvalidRecord {
                    location: format!("line {}", e.line()),
                    reason: format!("invalid JSON: {reason}"),
                }
            }));
        }
    });
    receiver.into_iter()
}

/// Writes people in an export format, streaming: call [`write`](Self::write)
/// per person and [`finish`](Self::finish) at the end.
///
/// # Example
/// ```
/// use people::Person;
/// use people::formats::{Format, PersonWriter};
/// let at = "2026-11-26T03:42:27.5Z".parse().unwrap();
/// let doe = Person { id: 1, name: "Doe, \"J\"".into(), created_at: at, updated_at: at };
/// let mut out = Vec::new();
/// let mut writer = PersonWriter::new(&mut out, Format::Csv)?;
/// writer.write(&doe)?;
/// writer.finish()?;
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "id,name,created_at,updated_at\n\
///      1,\"Doe, \"\"J\"\"\",2026-11-26T03:42:27.500000Z,2026-11-26T03:42:27.500000Z\n"
/// );
/// # Ok::<(), people::Error>(())
/// ```
pub struct PersonWriter<W: Write> {
    out: Output<W>,
    written: u64,
}

enum Output<W: Write> {
    Lines(W),
    Csv(Box<csv::Writer<W>>),
    Json(W),
}

impl<W: Write> PersonWriter<W> {
    /// Starts the output (the CSV header, the JSON `[`).
    ///
    /// # Errors
    /// [`Error::Io`] if writing fails.
    pub fn new(mut out: W, format: Format) -> Result<Self> {
        let out = match format {
            Format::Lines => Output::Lines(out),
            Format::Csv => {
                let mut csv = csv::Writer::from_writer(out);
                csv.write_record(["id", "name", "created_at", "updated_at"])
                    .map_err(csv_write_error)?;
                Output::Csv(Box::new(csv))
            }
            Format::Json => {
                out.write_all(b"[")?;
                Output::Json(out)
            }
        };
        Ok(PersonWriter { out, written: 0 })
    }

    /// Writes one person.
    ///
    /// # Errors
    /// [`Error::Io`] if writing fails.
    pub fn write(&mut self, person: &Person) -> Result<()> {
        match &mut self.out {
            Output::Lines(out) => writeln!(out, "{}", person.name)?,
            Output::Csv(csv) => csv
                .write_record([
                    person.id.to_string().as_str(),
                    person.name.as_str(),
                    &rfc3339::format(&person.created_at),
                    &rfc3339::format(&person.updated_at),
                ])
                .map_err(csv_write_error)?,
            Output::Json(out) => {
                out.write_all(if self.written == 0 { b"\n" } else { b",\n" })?;
                serde_json::to_writer(&mut *out, person).map_err(io::Error::from)?;
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Ends the output (the JSON `]`) and flushes it.
    ///
    /// # Errors
    /// [`Error::Io`] if writing fails.
    pub fn finish(self) -> Result<()> {
        match self.out {
            Output::Lines(mut out) => out.flush()?,
            Output::Csv(mut csv) => csv.flush()?,
            Output::Json(mut out) => {
                out.write_all(if self.written == 0 { b"]\n" } else { b"\n]\n" })?;
                out.flush()?;
            }
        }
        Ok(())
    }
}

fn csv_write_error(error: csv::Error) -> Error {
    match error.into_kind() {
        csv::ErrorKind::Io(source) => Error::Io { source },
        other => Error::Io {
            source: io::Error::other(format!("{other:?}")),
        },
    }
}
