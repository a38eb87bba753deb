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
