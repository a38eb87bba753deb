//! The statement log, like Flask-SQLAlchemy's `SQLALCHEMY_ECHO` and
//! `get_recorded_queries`: every SQL statement a connection runs becomes a
//! [`tracing`] event under the `people::sql` target, and [`record`] collects
//! the statements of a block of code for a test assertion.
//!
//! Each event's message is the SQL on one line, with the fields `duration`
//! and `binds` (the number of bound parameters), and `error` when the
//! database refused it; at `TRACE` level it also carries `values`, the bound
//! values (names, ids: never a password, which only the connection URL holds,
//! and that is not logged). The library never installs a
//! subscriber: the app does, e.g. with `tracing-subscriber` and
//! `RUST_LOG=people::sql=debug`. With no subscriber listening, nothing is
//! rendered or timed.
//!
//! Every connection [`open`](crate::open) makes carries the log as its
//! Diesel [`Instrumentation`]; an app that sets its own instrumentation on a
//! connection replaces it there.
//!
//! ```
//! # let mut conn = people::init(":memory:")?;
//! # let id = people::create(&mut conn, "Alice")?.id;
//! let (alice, statements) = people::statement_log::record(&mut conn, |conn| people::get(conn, id));
//! assert_eq!(alice?.name, "Alice");
//! assert_eq!(statements.len(), 1, "one query for one person");
//! assert!(statements[0].sql.starts_with("SELECT"));
//! assert_eq!(statements[0].binds, 1);
//! # Ok::<(), people::Error>(())
//! ```

use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent};

use crate::connection::{ConnectionExtras, DbConnection};

/// The `tracing` target of the statement events.
pub const TARGET: &str = "people::sql";

/// One statement a connection ran, as [`record`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Statement {
    /// The SQL as sent, on one line, with placeholders for the bound values.
    pub sql: String,
    /// How many values were bound to it.
    pub binds: usize,
    /// From sending it until its result was read (all rows, for a query).
    pub duration: Duration,
    /// Whether the database refused it.
    pub failed: bool,
}

/// Runs `f` on `conn` and returns its result with every statement it ran on
/// that connection, in order.
///
/// Statements run on other connections (another thread, another pooled
/// connection) are not included. If the app replaced this connection's
/// instrumentation, nothing is recorded.
pub fn record<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> T,
) -> (T, Vec<Statement>) {
    let outer = log_of(conn).map(|log| log.recording.replace(Vec::new()));
    let value = f(conn);
    let statements = match (log_of(conn), outer) {
        (Some(log), Some(outer)) => {
            let recorded = std::mem::replace(&mut log.recording, outer).unwrap_or_default();
            if let Some(outer) = &mut log.recording {
                outer.extend(recorded.iter().cloned());
            }
            recorded
        }
        _ => Vec::new(),
    };
    (value, statements)
}

fn log_of(conn: &mut DbConnection) -> Option<&mut StatementLog> {
    ConnectionExtras::of(conn).map(|extras| &mut extras.log)
}

/// The Diesel instrumentation behind the log (each connection carries it in
/// its `ConnectionExtras`).
#[derive(Debug, Default)]
pub(crate) struct StatementLog {
    /// When the running statement started, if anyone is listening.
    started: Option<Instant>,
    /// Statements kept for [`record`], while it runs.
    recording: Option<Vec<Statement>>,
}

impl StatementLog {
    fn listening(&self) -> bool {
        self.recording.is_some() || tracing::enabled!(target: TARGET, tracing::Level::DEBUG)
    }
}

impl Instrumentation for StatementLog {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } if self.listening() => {
                self.started = Some(Instant::now());
            }
            InstrumentationEvent::FinishQuery { query, error, .. } => {
                let Some(started) = self.started.take() else {
                    return;
                };
                let duration = started.elapsed();
                let rendered = query.to_string();
                let (sql, values) = split_binds(&rendered);
                let sql = one_line(sql);
                let binds = count_placeholders(&sql);
                let failed = error.is_some();
                let verbose = tracing::enabled!(target: TARGET, tracing::Level::TRACE);
                match (error, verbose) {
                    (None, false) => tracing::debug!(target: TARGET, ?duration, binds, "{sql}"),
                    (None, true) => {
                        tracing::trace!(target: TARGET, ?duration, binds, values = %values, "{sql}");
                    }
                    (Some(error), false) => {
                        tracing::debug!(target: TARGET, ?duration, binds, %error, "{sql}");
                    }
                    (Some(error), true) => tracing::trace!(
                        target: TARGET, ?duration, binds, values = %values, %error, "{sql}"
                    ),
                }
                if let Some(recording) = &mut self.recording {
                    recording.push(Statement {
                        sql,
                        binds,
                        duration,
                        failed,
                    });
                }
            }
            _ => {}
        }
    }
}

/// Diesel shows a query as `SQL -- binds: [values]` (a plain SQL string, as
/// from `batch_execute`, has no binds part).
fn split_binds(rendered: &str) -> (&str, &str) {
    rendered
        .split_once(" -- binds: ")
        .unwrap_or((rendered, "[]"))
}

fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Bound parameters in SQL that Diesel generated: `?` on SQLite, `$n` on
/// PostgreSQL. Quoted text (only in fixed SQL strings) is skipped.
fn count_placeholders(sql: &str) -> usize {
    // As SQLite numbers them: `?N` is parameter N, a bare `?` is one past the
    // largest so far; PostgreSQL's `$N` are numbered.
    let mut highest = 0;
    let mut quote = None;
    let mut chars = sql.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match (quote, c) {
            (Some(open), c) if c == open => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '?' | '$') => {
                let digits: String = sql[at + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                for _ in 0..digits.len() {
                    chars.next();
                }
                match digits.parse::<usize>() {
                    Ok(n) => highest = highest.max(n),
                    Err(_) if c == '?' => highest += 1,
                    Err(_) => {}
                }
            }
            _ => {}
        }
    }
    highest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_counted_per_backend() {
        assert_eq!(
            count_placeholders("SELECT `a` FROM `t` WHERE `a` = ? AND `b` = ?"),
            2
        );
        assert_eq!(
            count_placeholders(r#"SELECT "a" FROM "t" WHERE "a" = $1 OR "b" = $12"#),
            12
        );
        assert_eq!(count_placeholders("SELECT '?', \"$1\" FROM t"), 0);
        assert_eq!(count_placeholders("PRAGMA busy_timeout = 5000"), 0);
        // A numbered `?N` is parameter N; a bare `?` one past the largest so far.
        assert_eq!(count_placeholders("VALUES (?, ?, ?2), (?, ?2, ?2)"), 3);
        assert_eq!(count_placeholders("VALUES ($1, $2, $2)"), 2);
    }

    #[test]
    fn binds_are_split_off_and_sql_is_one_line() {
        assert_eq!(
            split_binds(r#"SELECT 1 WHERE a = ? -- binds: ["x -- binds: y"]"#),
            ("SELECT 1 WHERE a = ?", r#"["x -- binds: y"]"#)
        );
        assert_eq!(split_binds("BEGIN"), ("BEGIN", "[]"));
        assert_eq!(
            one_line("CREATE TABLE t (\n    a INT\n);"),
            "CREATE TABLE t ( a INT );"
        );
    }
}
