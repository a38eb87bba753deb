//! Creating the database itself, for `people migrate`: an SQLite file is
//! created by opening it, a PostgreSQL database has to be created on its server.

use crate::error::Result;
use crate::url::DatabaseUrl;

/// Creates the database `url` names if it does not exist yet, and says
/// whether it did. SQLite files are created on first open, so for SQLite
/// this does nothing and returns `false`.
///
/// On PostgreSQL, when the database cannot be opened, it connects to the
/// server's `postgres` database, looks the name up in `pg_database`, and runs
/// `CREATE DATABASE` if it is missing, which needs the `CREATEDB` privilege.
///
/// # Errors
/// [`Error::InvalidUrl`](crate::Error::InvalidUrl),
/// [`Error::Connection`](crate::Error::Connection) if the server cannot be
/// reached, or [`Error::Database`](crate::Error::Database) if the database
/// cannot be created.
pub fn create_database_if_missing<U>(url: U) -> Result<bool>
where
    U: TryInto<DatabaseUrl>,
    crate::Error: From<U::Error>,
{
    let url = url.try_into()?;
    match url.backend() {
        #[cfg(feature = "postgres")]
        crate::Backend::Postgres => postgres::create_if_missing(&url),
        _ => Ok(false),
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use diesel::prelude::*;

    use crate::error::{Error, Result};
    use crate::url::DatabaseUrl;

    diesel::table! {
        pg_database (datname) {
            datname -> Text,
        }
    }

    pub(super) fn create_if_missing(url: &DatabaseUrl) -> Result<bool> {
        // No name in the URL means libpq's default (the user name): nothing to create.
        let Some(name) = url.database_name() else {
            return Ok(false);
        };
        let unreachable = match PgConnection::establish(url.connect_target()) {
            Ok(_) => return Ok(false),
            Err(source) => Error::Connection {
                url: url.to_string(),
                source,
            },
        };
        // Why it failed is told by the server's catalog, not by the message:
        // a server that cannot be reached, or a database that exists but
        // refuses us, is reported as the error for the URL the user gave.
        let Some(server_url) = url.with_database("postgres") else {
            return Err(unreachable);
        };
        let Ok(mut server) = PgConnection::establish(server_url.connect_target()) else {
            return Err(unreachable);
        };
        if exists(&mut server, &name)? {
            return Err(unreachable);
        }
        // DDL takes no bind parameters: the name goes in as a quoted identifier.
        let statement = format!("CREATE DATABASE {}", quote_identifier(&name));
        match diesel::sql_query(statement).execute(&mut server) {
            Ok(_) => Ok(true),
            // Another process may have created it meanwhile: look again.
            Err(_) if exists(&mut server, &name)? => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn exists(server: &mut PgConnection, name: &str) -> Result<bool> {
        let count: i64 = pg_database::table
            .filter(pg_database::datname.eq(name))
            .count()
            .get_result(server)?;
        Ok(count > 0)
    }

    fn quote_identifier(name: &str) -> String {
        format!("\"{}\"", name.replace('"', "\"\""))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn identifiers_are_quoted() {
            assert_eq!(super::quote_identifier(r#"a"b"#), r#""a""b""#);
        }
    }
}
