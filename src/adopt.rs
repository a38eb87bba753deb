//! Taking over a database another tool made — Flask-SQLAlchemy's
//! `db.create_all()` on the tutorial's model: a `person` table with an
//! integer id and a unique name, and no people migration history.
//!
//! [`adopt`] checks the table's shape and every row against the model, and
//! writes nothing unless all of it passes. Then, in one transaction, it gives
//! the table people's constraints, records the migration history and applies
//! the later migrations, keeping every id and name.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use diesel_migrations::MigrationHarness;

use crate::catalog::has_table;
use crate::connection::{DbConnection, transaction};
use crate::error::{Error, Result};
use crate::migrations::BOOKKEEPING_TABLE;
use crate::name::PersonName;

/// A row that breaks the model's rules, so the database cannot be adopted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BadRow {
    /// The row's id, as stored (it may be outside the model's 32 bits).
    pub id: i64,
    /// Which rule it breaks.
    pub reason: String,
}

/// What [`adopt`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Adopted {
    /// People taken over, every one with its id and name.
    pub people: u64,
}

/// Rows read per query while checking them.
const SCAN_BATCH: i64 = 1_000;

/// Takes over a database whose `person` table another tool made.
///
/// `on_bad_row` is called for each row that breaks the model's rules, as the
/// rows are read (so a million bad rows do not fill memory); if it is called
/// at all, nothing is written and the result is [`Error::AdoptionRefused`].
///
/// On success, in one transaction: SQLite's table is rebuilt the way people
/// makes it (AUTOINCREMENT, the length and id CHECKs, the sequence set from
/// the highest id); PostgreSQL's gets the length CHECK, and keeps its
/// sequence. The migration history is recorded and the later migrations are
/// applied (`created_at`/`updated_at` become the time of adoption). A crash
/// leaves either the original table or the adopted one.
///
/// # Errors
/// [`Error::AdoptionRefused`] if there is no `person` table, people already
/// manages the database, the table's shape differs from the model (the
/// message names each difference), or rows break the rules; nothing is
/// written then. Database errors otherwise.
///
/// # Example
/// ```
/// use diesel::connection::SimpleConnection;
/// let mut conn = people::open(":memory:")?;
/// // What Flask-SQLAlchemy's create_all() makes for the tutorial's model.
/// conn.batch_execute("CREATE TABLE person (id INTEGER NOT NULL, name VARCHAR(80) NOT NULL, \
///                     PRIMARY KEY (id), UNIQUE (name)); \
///                     INSERT INTO person (id, name) VALUES (7, 'Ada'), (9, ' Bo');")?;
/// let opened = people::migrations::run_migrations(&mut conn);
/// assert!(matches!(opened, Err(people::Error::NeedsAdoption)), "and nothing written");
/// let mut bad = Vec::new();
/// let refused = people::adopt::adopt(&mut conn, |row| bad.push(row.id));
/// assert!(matches!(refused, Err(people::Error::AdoptionRefused { .. })));
/// assert_eq!(bad, [9]);
/// conn.batch_execute("UPDATE person SET name = 'Bo' WHERE id = 9")?;
/// assert_eq!(people::adopt::adopt(&mut conn, |_| {})?.people, 2);
/// assert_eq!(people::get(&mut conn, 9)?.name, "Bo");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn adopt(conn: &mut DbConnection, mut on_bad_row: impl FnMut(&BadRow)) -> Result<Adopted> {
    let refused = |reason: String| Error::AdoptionRefused { reason };
    if !has_table(conn, "person")? {
        return Err(refused("there is no person table to adopt".to_owned()));
    }
    if has_table(conn, BOOKKEEPING_TABLE)? {
        return Err(refused(
            "people already manages this database (it has a migration history)".to_owned(),
        ));
    }
    let differences = shape_differences(conn)?;
    if !differences.is_empty() {
        return Err(refused(format!(
            "the person table differs from the model: {}",
            differences.join("; ")
        )));
    }
    let adopted = transaction(conn, |conn| {
        #[cfg(feature = "postgres")]
        if let DbConnection::Postgres(c) = conn {
            // Readers go on; no other writer may slip a bad row in meanwhile.
            c.batch_execute("LOCK TABLE person IN EXCLUSIVE MODE")?;
        }
        let (people, bad) = check_rows(conn, &mut on_bad_row)?;
        if bad > 0 {
            return Err(refused(format!(
                "{bad} row(s) break the model's rules; nothing was changed"
            )));
        }
        match conn {
            DbConnection::Sqlite(c) => rebuild_sqlite(c)?,
            #[cfg(feature = "postgres")]
            DbConnection::Postgres(c) => constrain_postgres(c)?,
        }
        crate::migrations::apply_pending(conn)?;
        Ok(Adopted { people })
    })?;
    // people's SQLite files are WAL. The adoption is committed: were this to
    // fail, the file works as it is, in its old journal mode.
    #[allow(irrefutable_let_patterns)] // in an SQLite-only build
    if let DbConnection::Sqlite(c) = conn {
        let _ = crate::migrations::enable_wal(c);
    }
    Ok(adopted)
}

/// A row as read for checking: the id wide, so that an SQLite id past the
/// model's 32 bits is seen as it is.
#[derive(QueryableByName)]
struct StoredRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
}

/// Reads every row by id in batches; returns (rows, bad rows).
fn check_rows(conn: &mut DbConnection, on_bad_row: &mut impl FnMut(&BadRow)) -> Result<(u64, u64)> {
    let (mut rows, mut bad) = (0, 0);
    let mut after = i64::MIN;
    loop {
        let batch: Vec<StoredRow> = match conn {
            DbConnection::Sqlite(c) => diesel::sql_query(
                "SELECT id, name FROM person WHERE id > ? ORDER BY id LIMIT ?",
            )
            .bind::<BigInt, _>(after)
            .bind::<BigInt, _>(SCAN_BATCH)
            .load(c)?,
            #[cfg(feature = "postgres")]
            DbConnection::Postgres(c) => diesel::sql_query(
                "SELECT CAST(id AS BIGINT) AS id, name FROM person WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind::<BigInt, _>(after)
            .bind::<BigInt, _>(SCAN_BATCH)
            .load(c)?,
        };
        for row in &batch {
            rows += 1;
            let reason = if i32::try_from(row.id).is_err() {
                Some("the id is outside the model's 32-bit range".to_owned())
            } else {
                match PersonName::new(row.name.as_str()) {
                    Ok(_) => None,
                    Err(Error::InvalidName { reason }) => Some(reason),
                    Err(other) => return Err(other),
                }
            };
            if let Some(reason) = reason {
                bad += 1;
                on_bad_row(&BadRow { id: row.id, reason });
            }
        }
        match batch.last() {
            Some(last) if batch.len() as i64 == SCAN_BATCH => after = last.id,
            _ => return Ok((rows, bad)),
        }
    }
}

/// SQLite: the table aside, people's first migration makes `person` as
/// people makes it (and records it), the rows go over with their ids (which
/// sets the AUTOINCREMENT sequence to the highest), the old table goes.
fn rebuild_sqlite(conn: &mut diesel::SqliteConnection) -> Result<()> {
    conn.batch_execute("ALTER TABLE person RENAME TO person_before_adoption")?;
    conn.run_next_migration(crate::migrations::SQLITE)
        .map_err(|source| Error::Migration { source })?;
    conn.batch_execute(
        "INSERT INTO person (id, name) SELECT id, name FROM person_before_adoption ORDER BY id; \
         DROP TABLE person_before_adoption;",
    )?;
    Ok(())
}

/// PostgreSQL: the table stays (and its sequence); it gets the CHECK people's
/// first migration has, validated now, and the history says so.
#[cfg(feature = "postgres")]
fn constrain_postgres(conn: &mut diesel::PgConnection) -> Result<()> {
    conn.batch_execute(
        "ALTER TABLE person ADD CONSTRAINT person_name_check \
         CHECK (char_length(name) BETWEEN 1 AND 80)",
    )?;
    crate::migrations::record_first_migration(conn)
}

/// A column of the table as the database describes it.
#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    /// The declared type, lower case: `integer`, `varchar(80)`, `text`...
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
    /// Whether the column alone is the primary key.
    #[diesel(sql_type = Bool)]
    primary_key: bool,
    /// Whether the column alone has a UNIQUE constraint or index.
    #[diesel(sql_type = Bool)]
    unique: bool,
    /// Whether inserting without a value gives one (a rowid alias, a sequence).
    #[diesel(sql_type = Bool)]
    generated: bool,
}

/// How the table differs from the model (`id` integer primary key with a
/// default, `name` non-null text unique), one item per difference.
fn shape_differences(conn: &mut DbConnection) -> Result<Vec<String>> {
    let columns: Vec<Column> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(
            "SELECT c.name AS name, lower(c.type) AS kind, c.\"notnull\" OR c.pk = 1 AS not_null, \
                    c.pk = 1 AND (SELECT count(*) FROM pragma_table_info('person') WHERE pk > 0) = 1 \
                        AS primary_key, \
                    EXISTS (SELECT 1 FROM pragma_index_list('person') AS il \
                            WHERE il.\"unique\" AND (SELECT count(*) FROM pragma_index_info(il.name)) = 1 \
                              AND (SELECT name FROM pragma_index_info(il.name)) = c.name) AS \"unique\", \
                    c.pk = 1 AND lower(c.type) = 'integer' AS generated \
             FROM pragma_table_info('person') AS c ORDER BY c.cid",
        )
        .load(c)?,
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => diesel::sql_query(
            "SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS kind, \
                    a.attnotnull AS not_null, \
                    EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary \
                            AND i.indnatts = 1 AND i.indkey[0] = a.attnum) AS primary_key, \
                    EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique \
                            AND i.indnatts = 1 AND i.indkey[0] = a.attnum) AS \"unique\", \
                    COALESCE(a.attidentity <> '' OR pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', \
                             false) AS generated \
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = 'person'::regclass AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
        )
        .load(c)?,
    };
    let mut differences = Vec::new();
    for column in &columns {
        if column.name != "id" && column.name != "name" {
            differences.push(format!(
                "column {:?} ({}) is not in the model",
                column.name, column.kind
            ));
        }
    }
    match columns.iter().find(|c| c.name == "id") {
        None => differences.push("there is no id column".to_owned()),
        Some(id) => {
            if !is_integer(&id.kind) {
                differences.push(format!("id is {}, the model needs an integer", id.kind));
            }
            if !id.primary_key {
                differences.push("id is not the primary key".to_owned());
            } else if !id.generated {
                differences.push("id gets no value on insert (no sequence or rowid)".to_owned());
            }
        }
    }
    match columns.iter().find(|c| c.name == "name") {
        None => differences.push("there is no name column".to_owned()),
        Some(name) => {
            if !is_text(&name.kind) {
                differences.push(format!("name is {}, the model needs text", name.kind));
            }
            if !name.not_null {
                differences.push("name may be NULL".to_owned());
            }
            if !name.unique {
                differences.push("name is not UNIQUE".to_owned());
            }
        }
    }
    Ok(differences)
}

fn is_integer(kind: &str) -> bool {
    matches!(kind, "integer" | "int" | "int4")
}

fn is_text(kind: &str) -> bool {
    kind == "text"
        || ["varchar", "character varying"]
            .iter()
            .any(|prefix| kind == *prefix || kind.starts_with(&format!("{prefix}(")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_types_are_recognised_as_the_backends_spell_them() {
        for kind in ["integer", "int", "int4"] {
            assert!(is_integer(kind), "{kind}");
        }
        for kind in ["text", "varchar(80)", "character varying(80)", "varchar"] {
            assert!(is_text(kind), "{kind}");
        }
        for kind in ["bigint", "varchar2(80)", "blob"] {
            assert!(!is_integer(kind) && !is_text(kind), "{kind}");
        }
    }
}
