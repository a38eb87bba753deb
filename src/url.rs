//! [`DatabaseUrl`]: a database URL parsed once, where it enters the program.
//! It knows its backend and options, and its `Display`/`Debug` never show a
//! password.
//!
//! SQLite spellings follow the diesel CLI, which reads the same
//! `DATABASE_URL`: `sqlite://REST` means exactly `file:REST`, and `file:`
//! URIs follow SQLite's own URI rules. So `sqlite://people.db` is relative,
//! `sqlite:///srv/people.db` is absolute, and SQLAlchemy's four-slash form is
//! refused with the spelling to use instead.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{Error, Result};

/// Which database engine a URL (or a connection) talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite, bundled into this crate.
    Sqlite,
    /// PostgreSQL, through a bundled libpq (the `postgres` feature).
    Postgres,
}

/// How hard SQLite works to make a commit survive a crash.
///
/// Both settings survive a crash of the process: a commit that returned is
/// never lost when `people` (or your app) is killed. They differ on power
/// loss or an OS crash:
///
/// * [`Normal`](Synchronous::Normal) (the default) may lose the last commits
///   before the failure (never corrupting the file). No fsync per commit:
///   about 55,000 single-row commits/s measured on the development machine.
/// * [`Full`](Synchronous::Full) fsyncs the WAL on every commit, so a commit
///   that returned survives power loss too: about 8,000 commits/s there.
///
/// Choose it with the URL parameter `synchronous` on a URI spelling:
/// `file:app.db?synchronous=full` or `sqlite://app.db?synchronous=full`. It
/// applies to every connection opened from that URL, pooled ones included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Synchronous {
    /// `PRAGMA synchronous = NORMAL` in WAL mode.
    #[default]
    Normal,
    /// `PRAGMA synchronous = FULL`.
    Full,
}

/// A database URL: an SQLite path or URI, or a PostgreSQL URL.
///
/// | spelling | meaning |
/// |---|---|
/// | `people.db`, `data/people.db`, `/srv/people.db` | an SQLite file, relative to the current directory or absolute |
/// | `sqlite://people.db` | the same as `file:people.db`: relative |
/// | `sqlite:///srv/people.db` | the same as `file:/srv/people.db`: absolute (SQLAlchemy would read it as relative) |
/// | `file:people.db?mode=ro`, `file:///srv/people.db` | SQLite URIs, with SQLite's own parameters |
/// | `:memory:`, `sqlite://:memory:`, `file:x?mode=memory` | a private in-memory database |
/// | `…?synchronous=full` on a URI spelling | see [`Synchronous`] |
/// | `postgres://user:pass@host:5432/db?sslmode=require` (or `postgresql://`) | PostgreSQL |
/// | `…?statement_cache=off` on a PostgreSQL URL | unnamed statements only, for PgBouncer in transaction mode |
///
/// Refused, each with a one-line error that shows the right spelling:
/// SQLAlchemy's `sqlite:////abs/path.db` and `postgresql+psycopg2://…`, a
/// plain path with `?parameters` (the diesel CLI would take `?` as part of the
/// file name), Windows drive paths, `sqlite:path` without `//`, remote
/// `file://host/…` URIs, other schemes (`mysql://`, `Postgres://`…), and an
/// empty URL.
///
/// # Example
/// ```
/// use people::{Backend, DatabaseUrl};
///
/// let url = DatabaseUrl::parse("sqlite:///srv/people.db")?;
/// assert_eq!(url.backend(), Backend::Sqlite);
/// assert_eq!(url.sqlite_path(), Some(std::path::Path::new("/srv/people.db")));
/// assert!(DatabaseUrl::parse("sqlite:////srv/people.db").is_err());
/// # #[cfg(feature = "postgres")] {
/// let url: DatabaseUrl = "postgres://app:s3cret@db:5432/people".parse()?;
/// assert_eq!(url.backend(), Backend::Postgres);
/// assert_eq!(url.to_string(), "postgres://app:***@db:5432/people");
/// assert_eq!(format!("{url:?}"), r#"DatabaseUrl("postgres://app:***@db:5432/people")"#);
/// # }
/// # Ok::<(), people::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    /// The URL as given. Holds the password: shown only redacted.
    original: String,
    kind: Kind,
}

#[derive(Clone, PartialEq, Eq)]
enum Kind {
    Sqlite(SqliteUrl),
    Postgres(PostgresUrl),
}

#[derive(Clone, PartialEq, Eq)]
struct SqliteUrl {
    /// What SQLite opens: a plain path, or a `file:` URI without our parameters.
    target: String,
    /// The file, or `None` in memory.
    path: Option<PathBuf>,
    synchronous: Synchronous,
}

#[derive(Clone, PartialEq, Eq)]
struct PostgresUrl {
    /// What libpq gets: the URL without our parameters. Holds the password.
    conninfo: String,
    /// Byte range of the database name (still percent-encoded) in `conninfo`.
    database: std::ops::Range<usize>,
    statement_cache: bool,
}

impl DatabaseUrl {
    /// Parses and checks `url`.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`], saying what to write instead.
    pub fn parse(url: &str) -> Result<DatabaseUrl> {
        let invalid = |reason: String| Error::InvalidUrl {
            url: redact(url),
            reason,
        };
        let kind = match scheme(url) {
            Some((scheme @ ("postgres" | "postgresql"), rest)) if !rest.starts_with("//") => {
                return Err(invalid(format!("write {scheme}://HOST/DATABASE")));
            }
            Some(("postgres" | "postgresql", _)) if cfg!(feature = "postgres") => {
                Kind::Postgres(PostgresUrl::parse(url).map_err(invalid)?)
            }
            Some(("postgres" | "postgresql", _)) => {
                return Err(invalid(
                    "this build of people has no PostgreSQL support (enable the `postgres` feature)"
                        .to_owned(),
                ));
            }
            Some(("sqlite", rest)) => {
                Kind::Sqlite(SqliteUrl::parse_sqlite_scheme(rest).map_err(invalid)?)
            }
            Some(("file", rest)) => Kind::Sqlite(SqliteUrl::parse_uri(rest).map_err(invalid)?),
            Some((other, rest)) => return Err(invalid(unsupported_scheme(other, rest))),
            None => Kind::Sqlite(SqliteUrl::parse_path(url).map_err(invalid)?),
        };
        Ok(DatabaseUrl {
            original: url.to_owned(),
            kind,
        })
    }

    /// The URL exactly as given, password included: for handing on to
    /// another program (a child process's `DATABASE_URL`), never for display.
    /// `Display` and `Debug` show it with the password as `***`.
    pub fn expose(&self) -> &str {
        &self.original
    }

    /// Which backend the URL opens.
    pub fn backend(&self) -> Backend {
        match self.kind {
            Kind::Sqlite(_) => Backend::Sqlite,
            Kind::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite database file, made absolute only if the URL was; `None`
    /// for an in-memory database or PostgreSQL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Sqlite(sqlite) => sqlite.path.as_deref(),
            Kind::Postgres(_) => None,
        }
    }

    /// Whether this is an in-memory SQLite database, private to its connection.
    pub fn is_in_memory(&self) -> bool {
        matches!(&self.kind, Kind::Sqlite(SqliteUrl { path: None, .. }))
    }

    /// The durability setting for SQLite (`Normal` for PostgreSQL, where it does not apply).
    pub fn synchronous(&self) -> Synchronous {
        match &self.kind {
            Kind::Sqlite(sqlite) => sqlite.synchronous,
            Kind::Postgres(_) => Synchronous::default(),
        }
    }

    /// Whether PostgreSQL connections keep named prepared statements
    /// (`false` with `?statement_cache=off`, for PgBouncer in transaction
    /// mode); always `true` for SQLite, whose statements never leave the process.
    pub fn statement_cache(&self) -> bool {
        match &self.kind {
            Kind::Sqlite(_) => true,
            Kind::Postgres(pg) => pg.statement_cache,
        }
    }

    /// The PostgreSQL database name (percent-decoded), if the URL names one.
    pub fn database_name(&self) -> Option<String> {
        match &self.kind {
            Kind::Postgres(pg) => {
                let name = percent_decode(&pg.conninfo[pg.database.clone()])?;
                (!name.is_empty()).then_some(name)
            }
            Kind::Sqlite(_) => None,
        }
    }

    /// What the driver is given: an SQLite path or `file:` URI, or the
    /// PostgreSQL URL without our own parameters. Holds the password: never
    /// show it.
    pub(crate) fn connect_target(&self) -> &str {
        match &self.kind {
            Kind::Sqlite(sqlite) => &sqlite.target,
            Kind::Postgres(pg) => &pg.conninfo,
        }
    }

    /// The same PostgreSQL server and options, another database. `name` must
    /// not need percent-encoding (letters, digits, `_`).
    #[cfg(feature = "postgres")]
    pub(crate) fn with_database(&self, name: &str) -> Option<DatabaseUrl> {
        let Kind::Postgres(pg) = &self.kind else {
            return None;
        };
        let mut conninfo = pg.conninfo.clone();
        let range = pg.database.clone();
        let path = if range.is_empty() && !conninfo[..range.start].ends_with('/') {
            format!("/{name}")
        } else {
            name.to_owned()
        };
        conninfo.replace_range(range.clone(), &path);
        let database = range.start + path.len() - name.len()..range.start + path.len();
        let original = if pg.statement_cache {
            conninfo.clone()
        } else {
            append_query(&conninfo, "statement_cache=off")
        };
        Some(DatabaseUrl {
            original,
            kind: Kind::Postgres(PostgresUrl {
                conninfo,
                database,
                statement_cache: pg.statement_cache,
            }),
        })
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.original))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl")
            .field(&redact(&self.original))
            .finish()
    }
}

impl FromStr for DatabaseUrl {
    type Err = Error;
    fn from_str(url: &str) -> Result<Self> {
        DatabaseUrl::parse(url)
    }
}

impl TryFrom<&str> for DatabaseUrl {
    type Error = Error;
    fn try_from(url: &str) -> Result<Self> {
        DatabaseUrl::parse(url)
    }
}

impl TryFrom<&String> for DatabaseUrl {
    type Error = Error;
    fn try_from(url: &String) -> Result<Self> {
        DatabaseUrl::parse(url)
    }
}

impl TryFrom<String> for DatabaseUrl {
    type Error = Error;
    fn try_from(url: String) -> Result<Self> {
        DatabaseUrl::parse(&url)
    }
}

impl From<&DatabaseUrl> for DatabaseUrl {
    fn from(url: &DatabaseUrl) -> Self {
        url.clone()
    }
}

/// `Some((scheme, rest))` for `scheme:rest` where the scheme is a word of two
/// or more characters (a single letter is a Windows drive), else `None`.
fn scheme(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once(':')?;
    let is_word = scheme.len() >= 2
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    is_word.then_some((scheme, rest))
}

fn unsupported_scheme(scheme: &str, rest: &str) -> String {
    let lower = scheme.to_ascii_lowercase();
    if let Some((dialect, _driver)) = lower.split_once('+') {
        return format!(
            "{scheme:?} is SQLAlchemy's dialect+driver form; write {}",
            match dialect {
                "sqlite" => "a file path or sqlite://PATH",
                _ => "postgres://",
            }
        );
    }
    if lower != scheme
        && matches!(
            lower.as_str(),
            "postgres" | "postgresql" | "sqlite" | "file"
        )
    {
        return format!("write the scheme in lower case: {lower}:");
    }
    if rest.starts_with("//") {
        format!("unsupported scheme {scheme:?}; use a file path, sqlite://, file: or postgres://")
    } else {
        format!("for a file name with a colon, write ./{scheme}:{rest}")
    }
}

impl SqliteUrl {
    /// `sqlite:` + `rest`. The diesel CLI turns `sqlite://` into `file:`; so do we.
    fn parse_sqlite_scheme(rest: &str) -> std::result::Result<SqliteUrl, String> {
        let Some(after) = rest.strip_prefix("//") else {
            return Err(format!(
                "write sqlite://{rest} (relative) or sqlite:///{} (absolute)",
                rest.trim_start_matches('/')
            ));
        };
        if after.starts_with("//") {
            let path = after.trim_start_matches('/');
            return Err(format!(
                "four slashes is SQLAlchemy's absolute form, which the diesel CLI cannot open; \
                 write sqlite:///{path} or /{path}"
            ));
        }
        Self::parse_uri(after)
    }

    /// `file:` + `rest`, by SQLite's URI rules (https://sqlite.org/uri.html).
    fn parse_uri(rest: &str) -> std::result::Result<SqliteUrl, String> {
        let rest = rest
            .split_once('#')
            .map_or(rest, |(before, _fragment)| before);
        let (body, query) = match rest.split_once('?') {
            Some((body, query)) => (body, Some(query)),
            None => (rest, None),
        };
        let path = match body.strip_prefix("//") {
            Some(after) => {
                let (authority, path) = after.split_at(after.find('/').unwrap_or(after.len()));
                if !authority.is_empty() && authority != "localhost" {
                    return Err(format!(
                        "file://{authority}/… names a remote host, which SQLite cannot open; \
                         write file:///ABSOLUTE/PATH or a plain path"
                    ));
                }
                path
            }
            None => body,
        };
        let path = percent_decode(path)
            .ok_or_else(|| "the path has a bad %-escape or is not UTF-8".to_owned())?;
        refuse_windows_drive(path.trim_start_matches('/'))?;
        if path.is_empty() {
            return Err("the URI names no file; write file:people.db or :memory:".to_owned());
        }
        let mut synchronous = Synchronous::default();
        let mut in_memory = path == ":memory:";
        let mut kept = Vec::new();
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "synchronous" => synchronous = parse_synchronous(value)?,
                _ => {
                    in_memory |= key == "mode" && value == "memory";
                    kept.push(pair);
                }
            }
        }
        let mut target = format!("file:{body}");
        if !kept.is_empty() {
            target = format!("{target}?{}", kept.join("&"));
        }
        Ok(SqliteUrl {
            target,
            path: (!in_memory).then(|| PathBuf::from(path)),
            synchronous,
        })
    }

    /// A plain path (or `:memory:`), passed to SQLite as it is.
    fn parse_path(path: &str) -> std::result::Result<SqliteUrl, String> {
        if path.is_empty() {
            return Err("the URL is empty; give a file path such as people.db".to_owned());
        }
        if let Some((file, query)) = path.split_once('?') {
            return Err(format!(
                "a plain path takes no parameters (the diesel CLI would make a file named \
                 {path:?}); write file:{file}?{query}"
            ));
        }
        refuse_windows_drive(path)?;
        Ok(SqliteUrl {
            target: path.to_owned(),
            path: (path != ":memory:").then(|| PathBuf::from(path)),
            synchronous: Synchronous::default(),
        })
    }
}

fn parse_synchronous(value: &str) -> std::result::Result<Synchronous, String> {
    match value.to_ascii_lowercase().as_str() {
        "normal" => Ok(Synchronous::Normal),
        "full" => Ok(Synchronous::Full),
        other => Err(format!("synchronous must be normal or full, not {other:?}")),
    }
}

/// `C:\…` or `C:/…` on a system where that is not a path.
fn refuse_windows_drive(path: &str) -> std::result::Result<(), String> {
    let bytes = path.as_bytes();
    let is_drive = bytes.len() >= 2
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && (bytes.len() == 2 || matches!(bytes[2], b'/' | b'\\'));
    if is_drive && !cfg!(windows) {
        return Err(format!(
            "{path:?} is a Windows drive path; on this system write a path such as /srv/people.db"
        ));
    }
    Ok(())
}

impl PostgresUrl {
    fn parse(url: &str) -> std::result::Result<PostgresUrl, String> {
        let authority_start = url.find("://").map_or(0, |i| i + 3);
        // The password may hold '/', '?' or '#' (libpq takes them unencoded),
        // so the host starts after the last '@'.
        let host_start = url[authority_start..]
            .rfind('@')
            .map_or(authority_start, |at| authority_start + at + 1);
        let query_start = url[host_start..].find('?').map(|i| host_start + i);
        let before_query = query_start.unwrap_or(url.len());
        let database = match url[host_start..before_query].find('/') {
            Some(slash) => host_start + slash + 1..before_query,
            None => before_query..before_query,
        };
        let mut statement_cache = true;
        let mut conninfo = url[..before_query].to_owned();
        if let Some(start) = query_start {
            let mut kept = Vec::new();
            for pair in url[start + 1..].split('&').filter(|p| !p.is_empty()) {
                match pair.split_once('=').unwrap_or((pair, "")) {
                    ("statement_cache", value) => {
                        statement_cache = match value {
                            "on" => true,
                            "off" => false,
                            other => {
                                return Err(format!(
                                    "statement_cache must be on or off, not {other:?}"
                                ));
                            }
                        }
                    }
                    _ => kept.push(pair),
                }
            }
            if !kept.is_empty() {
                conninfo = format!("{conninfo}?{}", kept.join("&"));
            }
        }
        Ok(PostgresUrl {
            conninfo,
            database,
            statement_cache,
        })
    }
}

#[cfg(feature = "postgres")]
fn append_query(url: &str, pair: &str) -> String {
    if url.contains('?') {
        format!("{url}&{pair}")
    } else {
        format!("{url}?{pair}")
    }
}

/// The URL with any password replaced by `***`.
fn redact(url: &str) -> String {
    let mut redacted = match url.split_once("://") {
        // The user info is everything up to the last '@' (see PostgresUrl::parse).
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((userinfo, after)) => match userinfo.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:***@{after}"),
                None => url.to_owned(),
            },
            None => url.to_owned(),
        },
        None => url.to_owned(),
    };
    // libpq also takes the password as a query parameter.
    let mut search_from = 0;
    while let Some(found) = redacted[search_from..].find("password=") {
        let value_start = search_from + found + "password=".len();
        let value_end = redacted[value_start..]
            .find('&')
            .map_or(redacted.len(), |i| value_start + i);
        redacted.replace_range(value_start..value_end, "***");
        search_from = value_start + 3;
    }
    redacted
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(url: &str) -> (String, Option<PathBuf>, Synchronous) {
        let parsed = DatabaseUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(parsed.backend(), Backend::Sqlite);
        let Kind::Sqlite(s) = parsed.kind else {
            unreachable!()
        };
        (s.target, s.path, s.synchronous)
    }

    fn refused(url: &str) -> String {
        match DatabaseUrl::parse(url) {
            Err(Error::InvalidUrl { reason, .. }) => reason,
            other => panic!("{url} was not refused: {other:?}"),
        }
    }

    #[test]
    fn plain_paths_are_passed_as_they_are() {
        assert_eq!(
            sqlite("people.db"),
            (
                "people.db".into(),
                Some("people.db".into()),
                Synchronous::Normal
            )
        );
        assert_eq!(sqlite("/srv/p.db").1, Some("/srv/p.db".into()));
        assert_eq!(sqlite("./my:db.db").1, Some("./my:db.db".into()));
        assert_eq!(
            sqlite(":memory:"),
            (":memory:".into(), None, Synchronous::Normal)
        );
    }

    #[test]
    fn sqlite_scheme_is_file_as_in_the_diesel_cli() {
        assert_eq!(
            sqlite("sqlite://tut.db"),
            (
                "file:tut.db".into(),
                Some("tut.db".into()),
                Synchronous::Normal
            )
        );
        assert_eq!(sqlite("sqlite:///tut.db").1, Some("/tut.db".into()));
        assert_eq!(sqlite("sqlite:///tmp/x.db").0, "file:/tmp/x.db");
        assert_eq!(sqlite("sqlite://:memory:").1, None);
        assert_eq!(
            sqlite("sqlite://app.db?synchronous=full&mode=rwc"),
            (
                "file:app.db?mode=rwc".into(),
                Some("app.db".into()),
                Synchronous::Full
            )
        );
    }

    #[test]
    fn file_uris_follow_sqlite() {
        assert_eq!(sqlite("file:x.db").1, Some("x.db".into()));
        assert_eq!(sqlite("file:///tmp/x.db").1, Some("/tmp/x.db".into()));
        assert_eq!(
            sqlite("file://localhost/tmp/x.db").1,
            Some("/tmp/x.db".into())
        );
        assert_eq!(sqlite("file:my%20db.db").1, Some("my db.db".into()));
        assert_eq!(sqlite("file:x.db#frag").0, "file:x.db");
        assert_eq!(
            sqlite("file:app.db?mode=rwc&synchronous=FULL&cache=private"),
            (
                "file:app.db?mode=rwc&cache=private".into(),
                Some("app.db".into()),
                Synchronous::Full
            )
        );
        assert_eq!(sqlite("file:x?mode=memory&cache=shared").1, None);
        assert_eq!(sqlite("file::memory:").1, None);
    }

    #[test]
    fn sqlalchemy_and_other_misspellings_are_refused_with_the_right_spelling() {
        assert!(
            refused("sqlite:////tmp/abs.db").contains("write sqlite:///tmp/abs.db or /tmp/abs.db")
        );
        assert!(refused("sqlite:tut.db").contains("sqlite://tut.db"));
        assert!(refused("people.db?synchronous=full").contains("file:people.db?synchronous=full"));
        assert!(refused("file://server/x.db").contains("remote host"));
        assert!(refused("postgresql+psycopg2://u@h/db").contains("postgres://"));
        assert!(refused("sqlite+pysqlite:///x.db").contains("SQLAlchemy"));
        assert!(refused("Postgres://h/db").contains("lower case"));
        assert!(refused("mysql://root@h/db").contains("unsupported scheme \"mysql\""));
        assert_eq!(
            refused("my:db.db"),
            "for a file name with a colon, write ./my:db.db"
        );
        assert!(refused("").contains("empty"));
        assert!(refused("file:").contains("names no file"));
        assert!(refused("file:x.db?synchronous=off").contains("normal or full"));
    }

    #[test]
    fn windows_drive_paths_are_refused() {
        for url in [
            r"C:\data\x.db",
            "C:/data/x.db",
            "sqlite://C:/x.db",
            "file:///C:/x.db",
            "d:",
        ] {
            assert!(refused(url).contains("Windows drive"), "{url}");
        }
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres_urls_keep_libpq_parameters_and_lose_ours() {
        let url =
            DatabaseUrl::parse("postgres://u:p@h:5432/db?sslmode=disable&statement_cache=off")
                .unwrap();
        assert_eq!(url.backend(), Backend::Postgres);
        assert_eq!(
            url.connect_target(),
            "postgres://u:p@h:5432/db?sslmode=disable"
        );
        assert!(!url.statement_cache());
        assert_eq!(url.database_name().as_deref(), Some("db"));
        assert!(refused("postgres://h/db?statement_cache=maybe").contains("on or off"));
        let url = DatabaseUrl::parse("postgres://h/my%20db").unwrap();
        assert_eq!(url.database_name().as_deref(), Some("my db"));
        assert!(
            DatabaseUrl::parse("postgresql://h")
                .unwrap()
                .database_name()
                .is_none()
        );
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn another_database_on_the_same_server_keeps_the_options() {
        let server =
            DatabaseUrl::parse("postgres://u:p@h:5432?sslmode=disable&statement_cache=off")
                .unwrap();
        let db = server.with_database("t1").unwrap();
        assert_eq!(
            db.connect_target(),
            "postgres://u:p@h:5432/t1?sslmode=disable"
        );
        assert_eq!(
            db.to_string(),
            "postgres://u:***@h:5432/t1?sslmode=disable&statement_cache=off"
        );
        assert!(!db.statement_cache());
        assert_eq!(db.database_name().as_deref(), Some("t1"));
        let db = DatabaseUrl::parse("postgres://h/old")
            .unwrap()
            .with_database("new")
            .unwrap();
        assert_eq!(db.connect_target(), "postgres://h/new");
        let db = DatabaseUrl::parse("postgres://h/")
            .unwrap()
            .with_database("new")
            .unwrap();
        assert_eq!(db.connect_target(), "postgres://h/new");
    }

    #[test]
    fn passwords_are_redacted_everywhere() {
        for (url, shown) in [
            ("postgres://u:p@h/db", "postgres://u:***@h/db"),
            ("postgres://u@h/db", "postgres://u@h/db"),
            (
                "postgres://u:p:q@h/db?sslmode=require",
                "postgres://u:***@h/db?sslmode=require",
            ),
            (
                "postgres://h/db?user=u&password=secret&x=1",
                "postgres://h/db?user=u&password=***&x=1",
            ),
            ("postgres://u:a?b#c/d@h/db", "postgres://u:***@h/db"),
            ("mysql://root:pw@h/db", "mysql://root:***@h/db"),
        ] {
            assert_eq!(redact(url), shown);
        }
        let error = DatabaseUrl::parse("mysql://root:hunter2@h/db").unwrap_err();
        assert!(!format!("{error} {error:?}").contains("hunter2"));
    }
}
