//! What a database holds, read from its own catalog with typed queries:
//! which tables exist, and where an SQLite database lives. Reading only.

use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::Result;

diesel::table! {
    /// SQLite's schema table.
    sqlite_master (name) {
        #[sql_name = "type"]
        kind -> Text,
        name -> Text,
    }
}

diesel::table! {
    /// The databases attached to an SQLite connection (a table-valued pragma).
    pragma_database_list (name) {
        name -> Text,
        file -> Text,
    }
}

diesel::table! {
    /// SQLite's AUTOINCREMENT counters: the highest id each table handed out.
    sqlite_sequence (name) {
        name -> Text,
        seq -> BigInt,
    }
}

diesel::table! {
    /// A number that changes whenever another connection commits to the
    /// database (a table-valued pragma).
    pragma_data_version (data_version) {
        data_version -> BigInt,
    }
}

#[diesel::declare_sql_function]
extern "SQL" {
    /// Rows this connection changed since it was opened.
    fn total_changes() -> diesel::sql_types::BigInt;
}

/// What changes whenever an SQLite database does, seen from `conn`: the
/// data version (commits by other connections) and this connection's own
/// changes. Inside a read transaction it is that snapshot's.
pub(crate) fn sqlite_change_stamp(conn: &mut diesel::SqliteConnection) -> Result<(i64, i64)> {
    Ok(pragma_data_version::table
        .select((pragma_data_version::data_version, total_changes()))
        .get_result(conn)?)
}

#[cfg(feature = "postgres")]
diesel::table! {
    information_schema.tables (table_name) {
        table_schema -> Text,
        table_name -> Text,
    }
}

#[cfg(feature = "postgres")]
#[diesel::declare_sql_function]
extern "SQL" {
    /// The schema new tables go to (the first of the search path).
    fn current_schema() -> diesel::sql_types::Text;
}

/// Whether the database has a table called `name` (on PostgreSQL: in the
/// current schema, where Diesel and `people` create theirs).
pub(crate) fn has_table(conn: &mut DbConnection, name: &str) -> Result<bool> {
    let count: i64 = match conn {
        DbConnection::Sqlite(c) => sqlite_master::table
            .filter(sqlite_master::kind.eq("table"))
            .filter(sqlite_master::name.eq(name))
            .count()
            .get_result(c)?,
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => tables::table
            .filter(tables::table_schema.eq(current_schema()))
            .filter(tables::table_name.eq(name))
            .count()
            .get_result(c)?,
    };
    Ok(count > 0)
}

/// The file of an SQLite connection's main database; `None` in memory.
pub(crate) fn sqlite_main_file(conn: &mut diesel::SqliteConnection) -> Result<Option<String>> {
    let file: String = pragma_database_list::table
        .filter(pragma_database_list::name.eq("main"))
        .select(pragma_database_list::file)
        .get_result(conn)?;
    Ok((!file.is_empty()).then_some(file))
}

#[cfg(feature = "postgres")]
#[diesel::declare_sql_function]
extern "SQL" {
    /// A server setting, as text (`max_connections`, ...).
    fn current_setting(name: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

#[cfg(feature = "postgres")]
diesel::table! {
    /// One row per server process (only its type is read).
    pg_stat_activity (pid) {
        pid -> Integer,
        backend_type -> Nullable<Text>,
    }
}

/// How many more client connections the PostgreSQL server accepts from an
/// ordinary role now: `max_connections` less the slots reserved for
/// superusers and the client connections already open.
#[cfg(feature = "postgres")]
pub(crate) fn postgres_free_connections(conn: &mut DbConnection) -> Result<u32> {
    let DbConnection::Postgres(c) = conn else {
        return Ok(0);
    };
    let setting = |c: &mut diesel::PgConnection, name: &str| -> Result<i64> {
        let text: String = diesel::select(current_setting(name)).get_result(c)?;
        Ok(text.trim().parse().unwrap_or(0))
    };
    let max = setting(c, "max_connections")?;
    let reserved = setting(c, "superuser_reserved_connections")?;
    let open: i64 = pg_stat_activity::table
        .filter(pg_stat_activity::backend_type.eq("client backend"))
        .count()
        .get_result(c)?;
    Ok(u32::try_from((max - reserved - open).max(0)).unwrap_or(u32::MAX))
}
