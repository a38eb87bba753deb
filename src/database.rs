//! Creating the database itself, for `people migrate`: an SQLite file is
//! created by opening it, a PostgreSQL database has to be created on its server.

use crate::connection::Backend;
use crate::error::Result;

/// Creates the database `url` names if it does not exist yet, and says
/// whether it did. SQLite files are created on first open, so for SQLite
/// this does nothing and returns `false`.
///
/// On PostgreSQL it connects to the server's `postgres` database to run
/// `CREATE DATABASE`, which needs the `CREATEDB` privilege.
///
/// # Errors
/// [`Error::Connection`](crate::Error::Connection) if the server cannot be
/// reached, or [`Error::Database`](crate::Error::Database) if the database
/// cannot be created.
pub fn create_database_if_missing(url: &str) -> Result<bool> {
    match Backend::from_url(url)? {
        Backend::Sqlite => Ok(false),
        #[cfg(feature = "postgres")]
        Backend::Postgres => postgres::create_if_missing(url),
        #[cfg(not(feature = "postgres"))]
        Backend::Postgres => Ok(false),
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use diesel::{Connection, PgConnection, RunQueryDsl};

    use crate::error::{Error, Result};

    pub(super) fn create_if_missing(url: &str) -> Result<bool> {
        let missing = match PgConnection::establish(url) {
            Ok(_) => return Ok(false),
            Err(e) => {
                let is_missing = e.to_string().contains("does not exist");
                if !is_missing {
                    return Err(Error::Connection {
                        url: crate::redact_url(url),
                        source: e,
                    });
                }
                e
            }
        };
        let Some((name, server_url)) = split_database(url) else {
            return Err(Error::Connection {
                url: crate::redact_url(url),
                source: missing,
            });
        };
        let mut server =
            PgConnection::establish(&server_url).map_err(|source| Error::Connection {
                url: crate::redact_url(&server_url),
                source,
            })?;
        // DDL takes no bind parameters: the name goes in as a quoted identifier.
        let statement = format!("CREATE DATABASE {}", quote_identifier(&name));
        match diesel::sql_query(statement).execute(&mut server) {
            Ok(_) => Ok(true),
            // Another process created it meanwhile.
            Err(e)
                if Error::is_unique_violation(&e) || e.to_string().contains("already exists") =>
            {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The database name in `url`'s path, and the same URL naming the `postgres` database instead.
    fn split_database(url: &str) -> Option<(String, String)> {
        let authority_start = url.find("://")? + 3;
        // The password may hold '/' or '?': the host starts after the last '@'.
        let host_start = url[authority_start..]
            .rfind('@')
            .map_or(authority_start, |at| authority_start + at + 1);
        let slash = host_start + url[host_start..].find('/')?;
        let (path, query) = match url[slash + 1..].split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (&url[slash + 1..], None),
        };
        let name = percent_decode(path)?;
        if name.is_empty() {
            return None;
        }
        let server = match query {
            Some(query) => format!("{}/postgres?{query}", &url[..slash]),
            None => format!("{}/postgres", &url[..slash]),
        };
        Some((name, server))
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

    fn quote_identifier(name: &str) -> String {
        format!("\"{}\"", name.replace('"', "\"\""))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_database_name_is_taken_from_the_path() {
            assert_eq!(
                split_database("postgres://u:p@h:5432/my%20db?sslmode=require"),
                Some((
                    "my db".into(),
                    "postgres://u:p@h:5432/postgres?sslmode=require".into()
                ))
            );
            assert_eq!(
                split_database("postgres://u:p/?w@h/db"),
                Some(("db".into(), "postgres://u:p/?w@h/postgres".into()))
            );
            assert_eq!(split_database("postgres://h"), None);
            assert_eq!(split_database("postgres://h/"), None);
        }

        #[test]
        fn identifiers_are_quoted() {
            assert_eq!(quote_identifier(r#"a"b"#), r#""a""b""#);
        }
    }
}
