//! One phase of the crud race, for one contestant, in a function of its own,
//! so that callgrind can count its instructions alone: wall-clock ratios move
//! by several percent from run to run on a shared machine, instruction counts
//! do not. `benches/callgrind.sh` runs every phase of both contestants under
//! `valgrind --tool=callgrind --toggle-collect=callgrind::<contestant>_<phase>`
//! and prints instructions per operation and their ratio.
//!
//! ```text
//! target/release/deps/callgrind-… people get_by_id      # SQLite: people
//! target/release/deps/callgrind-… rusqlite get_by_id    # SQLite: the raw side
//! target/release/deps/callgrind-… people get_by_id postgres://postgres@127.0.0.1:5432
//! target/release/deps/callgrind-… postgres get_by_id postgres://postgres@127.0.0.1:5432
//! ```
//!
//! The raw side is the form each phase's race picked as fastest (the same SQL
//! as `benches/crud.rs` and `benches/crud_postgres.rs`); both sides work on a
//! fresh database of `ROWS` people and do `OPS` operations (`OPS / 10`
//! pages). On PostgreSQL the count is the client's alone: the server's work
//! is in another process, the same for both sides.

use std::hint::black_box;
use std::path::Path;

use chrono::{NaiveDateTime, SubsecRound};
use people::{OnConflict, Person};
#[path = "common/sqlite_time.rs"]
mod sqlite_time;
use sqlite_time::SqliteTime;

const ROWS: i32 = 10_000;
const OPS: i32 = 10_000;

fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}

fn person(r: &rusqlite::Row<'_>) -> rusqlite::Result<Person> {
    Ok(Person {
        id: r.get(0)?,
        name: r.get(1)?,
        created_at: r.get::<_, SqliteTime>(2)?.0,
        updated_at: r.get::<_, SqliteTime>(3)?.0,
    })
}

fn name(i: i32) -> String {
    format!("person-{i:06}")
}

#[inline(never)]
fn people_bulk_insert(conn: &mut people::DbConnection) {
    let report = people::create_many(conn, (ROWS + 1..=ROWS + OPS).map(name), OnConflict::Fail);
    black_box(report.expect("create_many"));
}

#[inline(never)]
fn people_get_by_id(conn: &mut people::DbConnection) {
    for i in 0..OPS {
        black_box(people::get(conn, i % ROWS + 1).expect("get"));
    }
}

#[inline(never)]
fn people_get_by_name(conn: &mut people::DbConnection) {
    for i in 0..OPS {
        black_box(people::find_by_name(conn, &name(i % ROWS + 1)).expect("find"));
    }
}

#[inline(never)]
fn people_page(conn: &mut people::DbConnection) {
    for i in 0..OPS / 10 {
        black_box(people::list(conn, Some(i % (ROWS - 60)), 50).expect("list"));
    }
}

#[inline(never)]
fn people_insert_single(conn: &mut people::DbConnection) {
    for i in 0..OPS {
        black_box(people::create(conn, format!("new-{i}")).expect("create"));
    }
}

#[inline(never)]
fn people_rename(conn: &mut people::DbConnection) {
    for i in 0..OPS {
        black_box(people::rename(conn, i % ROWS + 1, format!("renamed-{i}")).expect("rename"));
    }
}

#[inline(never)]
fn people_delete(conn: &mut people::DbConnection) {
    for i in 0..OPS {
        black_box(people::delete(conn, i + 1).expect("delete"));
    }
}

const INSERT: &str = "INSERT INTO person (name, created_at, updated_at) VALUES (?1, ?2, ?2)";

#[inline(never)]
fn rusqlite_bulk_insert(conn: &mut rusqlite::Connection) {
    // Form C: multi-row INSERTs of 1,000 rows in one transaction, prepared
    // once, the time bound once per INSERT (parameter 2).
    let tx = conn.transaction().expect("begin");
    let at = SqliteTime(now().and_utc());
    let names: Vec<String> = (ROWS + 1..=ROWS + OPS).map(name).collect();
    let mut values = vec!["(?, ?2, ?2)"; 1_000];
    values[0] = "(?, ?, ?2)";
    let sql = format!(
        "INSERT INTO person (name, created_at, updated_at) VALUES {}",
        values.join(", ")
    );
    {
        let mut insert = tx.prepare(&sql).expect("prepare");
        for chunk in names.chunks(1_000) {
            insert.raw_bind_parameter(2, at).expect("bind");
            for (i, name) in chunk.iter().enumerate() {
                insert
                    .raw_bind_parameter(if i == 0 { 1 } else { i + 2 }, name)
                    .expect("bind");
            }
            black_box(insert.raw_execute().expect("insert"));
        }
    }
    tx.commit().expect("commit");
}

#[inline(never)]
fn rusqlite_get_by_id(conn: &mut rusqlite::Connection) {
    for i in 0..OPS {
        let mut s = conn
            .prepare_cached("SELECT id, name, created_at, updated_at FROM person WHERE id = ?1")
            .expect("prepare");
        black_box(s.query_row([i % ROWS + 1], person).expect("get"));
    }
}

#[inline(never)]
fn rusqlite_get_by_name(conn: &mut rusqlite::Connection) {
    for i in 0..OPS {
        let mut s = conn
            .prepare_cached("SELECT id, name, created_at, updated_at FROM person WHERE name = ?1")
            .expect("prepare");
        black_box(s.query_row([name(i % ROWS + 1)], person).expect("find"));
    }
}

#[inline(never)]
fn rusqlite_page(conn: &mut rusqlite::Connection) {
    for i in 0..OPS / 10 {
        let mut s = conn
            .prepare_cached(
                "SELECT id, name, created_at, updated_at FROM person WHERE id > ?1 ORDER BY id LIMIT 50",
            )
            .expect("prepare");
        let rows: Vec<Person> = s
            .query_map([i % (ROWS - 60)], person)
            .and_then(Iterator::collect)
            .expect("page");
        black_box(rows);
    }
}

#[inline(never)]
fn rusqlite_insert_single(conn: &mut rusqlite::Connection) {
    for i in 0..OPS {
        let (at, new) = (SqliteTime(now().and_utc()), format!("new-{i}"));
        conn.prepare_cached(INSERT)
            .and_then(|mut s| s.execute((&new, at)))
            .expect("insert");
        black_box(Person {
            id: conn.last_insert_rowid() as i32,
            name: new,
            created_at: at.0,
            updated_at: at.0,
        });
    }
}

#[inline(never)]
fn rusqlite_rename(conn: &mut rusqlite::Connection) {
    for i in 0..OPS {
        let (id, at, new) = (
            i % ROWS + 1,
            SqliteTime(now().and_utc()),
            format!("renamed-{i}"),
        );
        let mut s = conn
            .prepare_cached(
                "UPDATE person SET name = ?1, updated_at = ?2 WHERE id = ?3 RETURNING created_at",
            )
            .expect("prepare");
        let created: Vec<SqliteTime> = s
            .query_map((&new, at, id), |r| r.get(0))
            .and_then(Iterator::collect)
            .expect("rename");
        black_box(Person {
            id,
            name: new,
            created_at: created[0].0,
            updated_at: at.0,
        });
    }
}

#[inline(never)]
fn rusqlite_delete(conn: &mut rusqlite::Connection) {
    for i in 0..OPS {
        let mut s = conn
            .prepare_cached(
                "DELETE FROM person WHERE id = ?1 RETURNING id, name, created_at, updated_at",
            )
            .expect("prepare");
        let rows: Vec<Person> = s
            .query_map([i + 1], person)
            .and_then(Iterator::collect)
            .expect("delete");
        black_box(rows);
    }
}

// The `postgres` crate's side on PostgreSQL: the forms `benches/crud_postgres.rs`
// races (each statement prepared once, every write one statement returning
// the whole row, bulk_insert as one binary COPY).

const PG_COLUMNS: &str = "id, name, created_at, updated_at";

fn pg_person(row: &postgres::Row) -> Person {
    Person {
        id: row.get(0),
        name: row.get(1),
        created_at: row.get::<_, NaiveDateTime>(2).and_utc(),
        updated_at: row.get::<_, NaiveDateTime>(3).and_utc(),
    }
}

fn pg_prepare(client: &mut postgres::Client, sql: &str) -> postgres::Statement {
    client.prepare(sql).expect("prepare")
}

#[inline(never)]
fn postgres_bulk_insert(client: &mut postgres::Client) {
    use postgres::binary_copy::BinaryCopyInWriter;
    use postgres::types::Type;
    let at = now();
    let sink = client
        .copy_in("COPY person (name, created_at, updated_at) FROM STDIN (FORMAT binary)")
        .expect("COPY");
    let mut writer =
        BinaryCopyInWriter::new(sink, &[Type::VARCHAR, Type::TIMESTAMP, Type::TIMESTAMP]);
    for i in ROWS + 1..=ROWS + OPS {
        writer.write(&[&name(i), &at, &at]).expect("COPY row");
    }
    black_box(writer.finish().expect("COPY end"));
}

#[inline(never)]
fn postgres_get_by_id(client: &mut postgres::Client) {
    let s = pg_prepare(
        client,
        &format!("SELECT {PG_COLUMNS} FROM person WHERE id = $1"),
    );
    for i in 0..OPS {
        black_box(pg_person(
            &client.query_one(&s, &[&(i % ROWS + 1)]).expect("get"),
        ));
    }
}

#[inline(never)]
fn postgres_get_by_name(client: &mut postgres::Client) {
    let s = pg_prepare(
        client,
        &format!("SELECT {PG_COLUMNS} FROM person WHERE name = $1"),
    );
    for i in 0..OPS {
        let row = client.query_opt(&s, &[&name(i % ROWS + 1)]).expect("find");
        black_box(row.as_ref().map(pg_person));
    }
}

#[inline(never)]
fn postgres_page(client: &mut postgres::Client) {
    let s = pg_prepare(
        client,
        &format!("SELECT {PG_COLUMNS} FROM person WHERE id > $1 ORDER BY id LIMIT $2"),
    );
    for i in 0..OPS / 10 {
        let rows = client
            .query(&s, &[&(i % (ROWS - 60)), &50i64])
            .expect("page");
        black_box(rows.iter().map(pg_person).collect::<Vec<_>>());
    }
}

#[inline(never)]
fn postgres_insert_single(client: &mut postgres::Client) {
    let s = pg_prepare(
        client,
        &format!(
            "INSERT INTO person (name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING {PG_COLUMNS}"
        ),
    );
    for i in 0..OPS {
        let row = client.query_one(&s, &[&format!("new-{i}"), &now()]);
        black_box(pg_person(&row.expect("insert")));
    }
}

#[inline(never)]
fn postgres_rename(client: &mut postgres::Client) {
    let s = pg_prepare(
        client,
        &format!(
            "UPDATE person SET name = $1, updated_at = $2 WHERE id = $3 RETURNING {PG_COLUMNS}"
        ),
    );
    for i in 0..OPS {
        let row = client.query_one(&s, &[&format!("renamed-{i}"), &now(), &(i % ROWS + 1)]);
        black_box(pg_person(&row.expect("rename")));
    }
}

#[inline(never)]
fn postgres_delete(client: &mut postgres::Client) {
    let s = pg_prepare(
        client,
        &format!("DELETE FROM person WHERE id = $1 RETURNING {PG_COLUMNS}"),
    );
    for i in 0..OPS {
        black_box(pg_person(
            &client.query_one(&s, &[&(i + 1)]).expect("delete"),
        ));
    }
}

/// A fresh database on the server at `server_url`, dropped with this value.
struct PostgresDatabase {
    admin: postgres::Client,
    name: String,
    url: String,
}

impl PostgresDatabase {
    /// `server_url` names the server only (`postgres://user@host:port`, no
    /// database, no query), as `benches/callgrind.sh` passes it.
    fn create(server_url: &str) -> Self {
        let authority = server_url.split_once("://").map_or(server_url, |(_, a)| a);
        assert!(
            !authority.contains(['/', '?']),
            "give the server without a database or query: {server_url}"
        );
        // TLS off for both sides, as in benches/crud_postgres.rs (the raw
        // client has none; libpq would otherwise negotiate it).
        let admin_url = format!("{server_url}/postgres?sslmode=disable");
        let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls).expect("connect");
        let name = format!("people_callgrind_{}", std::process::id());
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("CREATE DATABASE");
        let url = format!("{server_url}/{name}?sslmode=disable");
        PostgresDatabase { admin, name, url }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = self.admin.batch_execute(&drop) {
            eprintln!("warning: database {} was not dropped: {e}", self.name);
        }
    }
}

/// The phase function of people's side, on either backend.
fn people_phase(phase: &str) -> fn(&mut people::DbConnection) {
    match phase {
        "bulk_insert" => people_bulk_insert,
        "get_by_id" => people_get_by_id,
        "get_by_name" => people_get_by_name,
        "page" => people_page,
        "insert_single" => people_insert_single,
        "rename" => people_rename,
        "delete" => people_delete,
        other => panic!("unknown phase {other}"),
    }
}

/// `people|postgres PHASE URL`: the PostgreSQL race, on a fresh database of
/// `ROWS` people on the server at `URL` (the raw client with TLS off, as in
/// `benches/crud_postgres.rs`).
fn run_postgres(contestant: &str, phase: &str, server_url: &str) {
    let db = PostgresDatabase::create(server_url);
    {
        let mut conn = people::init(&db.url).expect("init");
        people::create_many(&mut conn, (1..=ROWS).map(name), OnConflict::Fail).expect("fill");
    }
    if contestant == "people" {
        people_phase(phase)(&mut people::open(&db.url).expect("open"));
    } else {
        let mut client = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
        let run: fn(&mut postgres::Client) = match phase {
            "bulk_insert" => postgres_bulk_insert,
            "get_by_id" => postgres_get_by_id,
            "get_by_name" => postgres_get_by_name,
            "page" => postgres_page,
            "insert_single" => postgres_insert_single,
            "rename" => postgres_rename,
            "delete" => postgres_delete,
            other => panic!("unknown phase {other}"),
        };
        run(&mut client);
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    // Under `cargo test --benches` there are no arguments: run one phase
    // quickly as a smoke test.
    let (contestant, phase) = match args.as_slice() {
        [c, p, url] => return run_postgres(c, p, url),
        [c, p] => (c.as_str(), p.as_str()),
        _ => ("people", "get_by_id"),
    };
    // As in benches/crud.rs: what people's docs tell an app to do first.
    let _ = people::use_sqlite_multi_thread_mode();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("callgrind.db");
    let url = path.to_str().expect("UTF-8 path");
    {
        let mut conn = people::init(url).expect("init");
        people::create_many(&mut conn, (1..=ROWS).map(name), OnConflict::Fail).expect("fill");
    }
    if contestant == "people" {
        people_phase(phase)(&mut people::open(url).expect("open"));
    } else {
        let mut conn = rusqlite::Connection::open(Path::new(&path)).expect("open");
        conn.execute_batch(
            "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
        )
        .expect("pragmas");
        let run: fn(&mut rusqlite::Connection) = match phase {
            "bulk_insert" => rusqlite_bulk_insert,
            "get_by_id" => rusqlite_get_by_id,
            "get_by_name" => rusqlite_get_by_name,
            "page" => rusqlite_page,
            "insert_single" => rusqlite_insert_single,
            "rename" => rusqlite_rename,
            "delete" => rusqlite_delete,
            other => panic!("unknown phase {other}"),
        };
        run(&mut conn);
    }
}
