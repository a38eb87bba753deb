//! CRUD throughput of `people` (through its public API) against raw
//! `rusqlite` at its best, doing the same work on the same bundled SQLite.
//!
//! ```text
//! cargo bench --bench crud                    # N = 100,000, 3 rounds
//! cargo bench --bench crud -- --quick         # N = 2,000 smoke run
//! cargo bench --bench crud -- --rounds 5 --n 50000 --json target/crud.json
//! ```
//!
//! The workload is the one in the project's performance baseline: seven
//! phases run in order on one fresh database file per contestant and round,
//! each contestant on its own single connection. The connections are open
//! side by side and the contestants take turns within each phase, slice by
//! slice (`common::race_round`), so that a drift of the shared machine's
//! speed falls on all of them alike. The rival is the fastest correct code a raw-SQLite programmer would
//! write: every single-row write is one autocommit statement, every statement
//! is `prepare_cached`, and every read builds the whole `Person`, its
//! timestamps parsed by hand in one pass (`SqliteTime`: the parser people
//! uses, which does in about 300 instructions what rusqlite's chrono
//! `FromSql` does in about 2,400). Where there is more than one way to write a phase, each way is a
//! form (A, B, C), every form runs in every round, and people is raced against
//! the fastest form of that round:
//!
//! | phase | form A | form B | form C |
//! |---|---|---|---|
//! | bulk_insert | a cached single-row INSERT in a loop, one transaction | multi-row INSERTs of 1,000 rows (`prepare_cached`), one transaction | as B, but prepared once and the time bound once per INSERT (`?2`) |
//! | page | `LIMIT ?2` | `LIMIT +?2` | a literal `LIMIT 50` |
//! | insert_single | INSERT, then `last_insert_rowid()`; the row from the values | `INSERT … RETURNING *`, stepped to its end | as A |
//! | rename | `UPDATE … RETURNING created_at`; the row from the values | `UPDATE … RETURNING *` | UPDATE, then SELECT created_at |
//! | delete | `DELETE … RETURNING *`, stepped to its end | as A | as A |
//! | get_by_id, get_by_name | one cached SELECT, `query_row` | as A | as A |
//!
//! people runs as its docs tell an app to: `people::use_sqlite_multi_thread_mode()`
//! first, so SQLite takes no mutex per call (rusqlite opens every connection
//! with `SQLITE_OPEN_NO_MUTEX`; Diesel, in serialized mode, would).
//!
//! "Stepped to its end" matters: a RETURNING statement read with `query_row`
//! never reaches SQLITE_DONE, which is where SQLite checkpoints the WAL, so it
//! looks faster only by letting the -wal file grow without bound (95 MB after
//! 10,000 inserts, measured while planning); that is not counted as correct.
//!
//! Every phase is checked inline, its checksum must be the same for every
//! contestant and round, and the final state of every file is verified; any
//! mismatch exits non-zero. Nothing about timing is asserted.
//!
//! Without `--bench` (that is, under `cargo test --benches`/`--all-targets`)
//! it runs one small round as a smoke test, like criterion's test mode.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use people::Person;
use rusqlite::OptionalExtension;

mod common;
use common::*;
#[path = "common/sqlite_time.rs"]
mod sqlite_time;
use sqlite_time::SqliteTime;

/// The SQLite per-connection setup `people::open` applies (src/connection.rs),
/// plus WAL, which `people::run_migrations` switches on (src/migrations.rs).
const RUSQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = NORMAL;";

struct Config {
    n: usize,
    rounds: usize,
    dir: Option<PathBuf>,
    /// Where to write the per-phase results for `benches/chart.py`.
    json: Option<PathBuf>,
}

impl Config {
    fn from_args() -> Res<Self> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        // `cargo bench` passes `--bench`; `cargo test` runs us without it.
        let bench_mode = args.iter().any(|a| a == "--bench");
        let (mut n, mut rounds) = if bench_mode { (100_000, 3) } else { (2_000, 1) };
        let mut dir = None;
        let mut json = None;
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .ok_or_else(|| format!("{name} needs a value"))
                    .cloned()
            };
            match arg.as_str() {
                "--bench" => {}
                "--quick" => n = 2_000,
                "--n" => n = value("--n")?.parse().map_err(err("--n"))?,
                "--rounds" => rounds = value("--rounds")?.parse().map_err(err("--rounds"))?,
                "--dir" => dir = Some(PathBuf::from(value("--dir")?)),
                "--json" => json = Some(PathBuf::from(value("--json")?)),
                "-h" | "--help" => {
                    println!(
                        "usage: crud [--quick] [--n N] [--rounds R] [--dir DIR] [--json FILE]\n  \
                         --quick     N = 2,000 (smoke size)\n  \
                         --n N       rows (default 100,000; a multiple of 10, above {PAGE})\n  \
                         --rounds R  rounds of both contestants (default 3)\n  \
                         --dir DIR   where the temporary database files go (default: $TMPDIR)\n  \
                         --json FILE also write the results as JSON (for benches/chart.py)\n\
                         Without --bench (which `cargo bench` passes), the defaults are\n\
                         N = 2,000 and 1 round: the smoke run of `cargo test --benches`."
                    );
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other:?} (try --help)")),
            }
        }
        ensure(n > PAGE && n % 10 == 0, || {
            format!("--n must be a multiple of 10 above {PAGE}, not {n}")
        })?;
        ensure(n as u64 % STRIDE != 0, || {
            format!("--n must not be a multiple of {STRIDE}")
        })?;
        ensure(n <= 9_999_990, || {
            "--n must keep names at six digits (at most 9,999,990)".to_owned()
        })?;
        ensure(rounds >= 1, || "--rounds must be at least 1".to_owned())?;
        if !bench_mode {
            eprintln!("no --bench argument: smoke run (N = {n}, {rounds} round(s))");
        }
        Ok(Config {
            n,
            rounds,
            dir,
            json,
        })
    }
}

/// A way to write the phases that have more than one (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Form {
    A,
    B,
    C,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Contestant {
    People,
    Rusqlite(Form),
}

impl Contestant {
    const ALL: [Contestant; 4] = [
        Contestant::People,
        Contestant::Rusqlite(Form::A),
        Contestant::Rusqlite(Form::B),
        Contestant::Rusqlite(Form::C),
    ];

    fn label(self) -> &'static str {
        match self {
            Contestant::People => "people",
            Contestant::Rusqlite(Form::A) => "rusqlite_A",
            Contestant::Rusqlite(Form::B) => "rusqlite_B",
            Contestant::Rusqlite(Form::C) => "rusqlite_C",
        }
    }

    /// Opens a fresh database file at `path`: people through `people::init`,
    /// rusqlite with the same setup and schema.
    fn open(self, path: &Path) -> Res<Session> {
        Ok(match self {
            Contestant::People => {
                let url = path.to_str().ok_or("temporary path is not UTF-8")?;
                Session::People(people::init(url).map_err(err("people::init"))?)
            }
            Contestant::Rusqlite(form) => Session::Rusqlite(open_rusqlite(path)?, form),
        })
    }
}

/// A contestant's open connection, between slices.
enum Session {
    People(people::DbConnection),
    Rusqlite(rusqlite::Connection, Form),
}

impl Session {
    /// Operations `ops` of phase `p`; returns their checksum.
    fn run(&mut self, w: &Workload, p: Phase, ops: Range<usize>) -> Res<u64> {
        match self {
            Session::People(conn) => people_phase(conn, w, p, ops),
            Session::Rusqlite(conn, form) => rusqlite_phase(conn, w, *form, p, ops),
        }
    }
}

/// Opens `path` with the same per-connection setup and schema as
/// `people::init`: the pragmas, WAL, and every `migrations/sqlite/*/up.sql`.
fn open_rusqlite(path: &Path) -> Res<rusqlite::Connection> {
    let mut conn = rusqlite::Connection::open(path).map_err(err("rusqlite open"))?;
    conn.execute_batch(RUSQLITE_PRAGMAS)
        .map_err(err("rusqlite pragmas"))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(err("rusqlite journal_mode"))?;
    ensure(mode == "wal", || format!("journal_mode is {mode}, not wal"))?;
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(err("rusqlite begin"))?;
    for ddl in migration_ddl()? {
        tx.execute_batch(&ddl).map_err(err("rusqlite schema"))?;
    }
    tx.commit().map_err(err("rusqlite commit schema"))?;
    Ok(conn)
}

/// The SQLite migrations' `up.sql`, in version order.
fn migration_ddl() -> Res<Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map_err(err("reading migrations/sqlite"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("up.sql").is_file())
        .collect();
    dirs.sort();
    ensure(!dirs.is_empty(), || {
        format!("no migrations in {}", root.display())
    })?;
    dirs.iter()
        .map(|d| std::fs::read_to_string(d.join("up.sql")).map_err(err("reading up.sql")))
        .collect()
}

/// What people stores as a timestamp: UTC, whole microseconds.
fn now() -> SqliteTime {
    use chrono::SubsecRound;
    SqliteTime(chrono::Utc::now().trunc_subsecs(6))
}

/// The whole row, timestamps parsed, as people returns it.
fn person(r: &rusqlite::Row<'_>) -> rusqlite::Result<Person> {
    Ok(Person {
        id: r.get(0)?,
        name: r.get(1)?,
        created_at: r.get::<_, SqliteTime>(2)?.0,
        updated_at: r.get::<_, SqliteTime>(3)?.0,
    })
}

/// Runs a cached statement that returns rows to its end, and collects them.
fn all_rows<P: rusqlite::Params>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: P,
) -> Res<Vec<Person>> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.query_map(params, person)?.collect())
        .map_err(err(sql))
}

/// `INSERT … VALUES (?, ?, ?2), (?, ?2, ?2), …` with `rows` rows: the time
/// is parameter 2, bound once (a `?` numbers itself one past the largest so far).
fn multi_row_insert(rows: usize) -> String {
    let mut values = vec!["(?, ?2, ?2)"; rows];
    values[0] = "(?, ?, ?2)";
    format!(
        "INSERT INTO person (name, created_at, updated_at) VALUES {}",
        values.join(", ")
    )
}

const INSERT: &str = "INSERT INTO person (name, created_at, updated_at) VALUES (?1, ?2, ?2)";
const COLUMNS: &str = "id, name, created_at, updated_at";

/// Operations `ops` of phase `p` in rusqlite's form `form`, as
/// [`people_phase`] runs them through people; returns their checksum.
fn rusqlite_phase(
    conn: &mut rusqlite::Connection,
    w: &Workload,
    form: Form,
    p: Phase,
    ops: Range<usize>,
) -> Res<u64> {
    let mut sum = 0u64;
    match p {
        Phase::BulkInsert => return rusqlite_bulk_insert(conn, &w.names[ops], form),
        Phase::GetById => {
            let by_id = format!("SELECT {COLUMNS} FROM person WHERE id = ?1");
            for &id in &w.ids[ops] {
                let got = conn
                    .prepare_cached(&by_id)
                    .and_then(|mut s| s.query_row([id], person))
                    .map_err(err("get_by_id"))?;
                sum += w.check_get(id, &got)?;
            }
        }
        Phase::GetByName => {
            let by_name = format!("SELECT {COLUMNS} FROM person WHERE name = ?1");
            for &id in &w.ids[ops] {
                let got = conn
                    .prepare_cached(&by_name)
                    .and_then(|mut s| s.query_row([w.name_of(id)], person).optional())
                    .map_err(err("get_by_name"))?;
                sum += w.check_find(id, got.as_ref())?;
            }
        }
        Phase::Page => {
            let page = match form {
                Form::A => {
                    format!("SELECT {COLUMNS} FROM person WHERE id > ?1 ORDER BY id LIMIT ?2")
                }
                Form::B => {
                    format!("SELECT {COLUMNS} FROM person WHERE id > ?1 ORDER BY id LIMIT +?2")
                }
                Form::C => {
                    format!("SELECT {COLUMNS} FROM person WHERE id > ?1 ORDER BY id LIMIT {PAGE}")
                }
            };
            for &after in &w.page_keys[ops] {
                let rows = match form {
                    Form::C => all_rows(conn, &page, [after])?,
                    _ => all_rows(conn, &page, (after, PAGE as i64))?,
                };
                sum += sum_page(&rows, after)?;
            }
        }
        Phase::InsertSingle => {
            let returning = format!("{INSERT} RETURNING {COLUMNS}");
            for i in ops {
                let name = &w.new_names[i];
                let at = now();
                let got = match form {
                    Form::A | Form::C => {
                        conn.prepare_cached(INSERT)
                            .and_then(|mut s| s.execute((name, at)))
                            .map_err(err("insert_single"))?;
                        Person {
                            id: conn.last_insert_rowid() as i32,
                            name: name.clone(),
                            created_at: at.0,
                            updated_at: at.0,
                        }
                    }
                    Form::B => all_rows(conn, &returning, (name, at))?
                        .pop()
                        .ok_or("INSERT … RETURNING gave no row")?,
                };
                sum += w.check_create(i, &got)?;
            }
        }
        Phase::Rename => {
            for i in ops {
                let (id, name) = (w.renamed_id(i), &w.renames[i]);
                let at = now();
                let got = match form {
                Form::A => {
                    let SqliteTime(created_at) = conn
                        .prepare_cached(
                            "UPDATE person SET name = ?1, updated_at = ?2 WHERE id = ?3 RETURNING created_at",
                        )
                        .and_then(|mut s| {
                            s.query_map((name, at, id), |r| r.get(0))?
                                .collect::<rusqlite::Result<Vec<_>>>()
                        })
                        .map_err(err("rename"))?
                        .pop()
                        .ok_or("UPDATE … RETURNING gave no row")?;
                    Person {
                        id,
                        name: name.clone(),
                        created_at,
                        updated_at: at.0,
                    }
                }
                Form::B => all_rows(
                    conn,
                    &format!("UPDATE person SET name = ?1, updated_at = ?2 WHERE id = ?3 RETURNING {COLUMNS}"),
                    (name, at, id),
                )?
                .pop()
                .ok_or("UPDATE … RETURNING gave no row")?,
                Form::C => {
                    let changed = conn
                        .prepare_cached("UPDATE person SET name = ?1, updated_at = ?2 WHERE id = ?3")
                        .and_then(|mut s| s.execute((name, at, id)))
                        .map_err(err("rename"))?;
                    ensure(changed == 1, || format!("rename({id}) changed {changed} rows"))?;
                    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM person WHERE id = ?1"))
                        .and_then(|mut s| s.query_row([id], person))
                        .map_err(err("rename: read back"))?
                }
            };
                sum += w.check_rename(i, &got)?;
            }
        }
        Phase::Delete => {
            let delete = format!("DELETE FROM person WHERE id = ?1 RETURNING {COLUMNS}");
            for i in ops {
                let id = w.deleted_id(i);
                let got = all_rows(conn, &delete, [id])?
                    .pop()
                    .ok_or_else(|| format!("delete({id}) deleted nothing"))?;
                sum += w.check_delete(i, &got)?;
            }
        }
    }
    Ok(sum)
}

/// bulk_insert of `names` in rusqlite's form `form`, one transaction.
fn rusqlite_bulk_insert(conn: &mut rusqlite::Connection, names: &[String], form: Form) -> Res<u64> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(err("bulk begin"))?;
    let at = now();
    let mut inserted = 0u64;
    match form {
        Form::A => {
            let mut insert = tx.prepare_cached(INSERT).map_err(err("bulk prepare"))?;
            for name in names {
                inserted += insert.execute((name, at)).map_err(err("bulk insert"))? as u64;
            }
        }
        Form::B => {
            for chunk in names.chunks(1_000) {
                let values = vec!["(?, ?, ?)"; chunk.len()].join(", ");
                let sql =
                    format!("INSERT INTO person (name, created_at, updated_at) VALUES {values}");
                let mut insert = tx.prepare_cached(&sql).map_err(err("bulk prepare"))?;
                let params: Vec<&dyn rusqlite::ToSql> = chunk
                    .iter()
                    .flat_map(|name| [name as &dyn rusqlite::ToSql, &at, &at])
                    .collect();
                inserted += insert
                    .execute(params.as_slice())
                    .map_err(err("bulk insert"))? as u64;
            }
        }
        Form::C => {
            let mut full = tx
                .prepare(&multi_row_insert(1_000))
                .map_err(err("bulk prepare"))?;
            for chunk in names.chunks(1_000) {
                let mut partial;
                let insert = if chunk.len() == 1_000 {
                    &mut full
                } else {
                    partial = tx
                        .prepare(&multi_row_insert(chunk.len()))
                        .map_err(err("bulk prepare"))?;
                    &mut partial
                };
                // Parameter 1 is the first name, 2 the time, 3… the other names.
                insert.raw_bind_parameter(2, at).map_err(err("bulk bind"))?;
                for (i, name) in chunk.iter().enumerate() {
                    let index = if i == 0 { 1 } else { i + 2 };
                    insert
                        .raw_bind_parameter(index, name)
                        .map_err(err("bulk bind"))?;
                }
                inserted += insert.raw_execute().map_err(err("bulk insert"))? as u64;
            }
        }
    }
    tx.commit().map_err(err("bulk commit"))?;
    ensure(inserted == names.len() as u64, || {
        format!("bulk inserted {inserted}")
    })?;
    Ok(inserted)
}

/// Checks the end state of a contestant's file with a fresh connection,
/// opened after the contestant's own was closed.
fn verify_final_state(path: &Path, w: &Workload) -> Res<()> {
    let conn = rusqlite::Connection::open(path).map_err(err("verify open"))?;
    let one = |sql: &str| -> Res<i64> { conn.query_row(sql, [], |r| r.get(0)).map_err(err(sql)) };
    let n = w.n as i64;
    let tenth = w.tenth() as i64;
    let deleted = w.deleted_id(0);
    let checks = [
        ("count(*)", one("SELECT count(*) FROM person")?, n),
        (
            "renamed-%",
            one("SELECT count(*) FROM person WHERE name LIKE 'renamed-%'")?,
            tenth,
        ),
        (
            "newperson-%",
            one("SELECT count(*) FROM person WHERE name LIKE 'newperson-%'")?,
            tenth,
        ),
        ("max(id)", one("SELECT max(id) FROM person")?, n + tenth),
        (
            "deleted id present",
            one(&format!("SELECT count(*) FROM person WHERE id = {deleted}"))?,
            0,
        ),
    ];
    for (what, got, expected) in checks {
        ensure(got == expected, || {
            format!("{}: {what} = {got}, expected {expected}", path.display())
        })?;
    }
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .map_err(err("journal_mode"))?;
    ensure(mode == "wal", || {
        format!("{}: journal_mode is {mode}", path.display())
    })
}

/// The SQLite version as `people`'s own connection reports it.
fn people_sqlite_version(path: &Path) -> Res<String> {
    use diesel::RunQueryDsl;
    let url = path.to_str().ok_or("temporary path is not UTF-8")?;
    let mut conn = people::init(url).map_err(err("people::init"))?;
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
        "sqlite_version()",
    ))
    .get_result(&mut conn)
    .map_err(err("sqlite_version() via people"))
}

/// How the bundled SQLite holds its page caches, from its compile options.
/// With `SQLITE_ENABLE_MEMORY_MANAGEMENT` (libsqlite3-sys's default) every
/// connection of the process draws on one page budget with one LRU list, and
/// a connection whose pages a later one took cannot grow its cache back
/// (BENCHMARKS.md §1): that would couple the contestants, so the repository
/// builds SQLite without it (`.cargo/config.toml`) and the report says which.
fn page_caches() -> Res<&'static str> {
    let conn = rusqlite::Connection::open_in_memory().map_err(err("compile_options"))?;
    let mut stmt = conn
        .prepare("PRAGMA compile_options")
        .map_err(err("compile_options"))?;
    let options: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(Iterator::collect)
        .map_err(err("compile_options"))?;
    Ok(if options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT") {
        "one page cache shared by all connections (SQLITE_ENABLE_MEMORY_MANAGEMENT)"
    } else {
        "one page cache per connection"
    })
}

/// The schema objects of a database file, minus SQLite's and Diesel's own
/// bookkeeping tables.
fn schema_of(path: &Path) -> Res<Vec<(String, String, Option<String>)>> {
    let conn = rusqlite::Connection::open(path).map_err(err("schema open"))?;
    let mut stmt = conn
        .prepare(
            "SELECT type, name, sql FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
               AND name NOT LIKE '\\_\\_diesel\\_%' ESCAPE '\\' \
             ORDER BY type, name",
        )
        .map_err(err("schema query"))?;
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .and_then(Iterator::collect)
        .map_err(err("schema query"))
}

/// Checks that both contestants start from the same SQLite and the same
/// schema: `people::init`'s compiled-in migrations against the `up.sql`
/// files the rusqlite contestant runs. Returns the SQLite version.
fn check_same_setup(dir: &Path) -> Res<String> {
    let people_db = dir.join("setup-people.db");
    let rusqlite_db = dir.join("setup-rusqlite.db");
    let people_version = people_sqlite_version(&people_db)?;
    drop(open_rusqlite(&rusqlite_db)?);
    let rusqlite_version = rusqlite::version();
    ensure(people_version == rusqlite_version, || {
        format!("people runs SQLite {people_version} but rusqlite {rusqlite_version}")
    })?;
    let (people_schema, rusqlite_schema) = (schema_of(&people_db)?, schema_of(&rusqlite_db)?);
    ensure(!people_schema.is_empty(), || {
        "people::init created no schema".to_owned()
    })?;
    ensure(people_schema == rusqlite_schema, || {
        format!(
            "people::init and migrations/sqlite/*/up.sql give different schemas \
             (rebuild the benchmark?):\n  people:   {people_schema:?}\n  rusqlite: {rusqlite_schema:?}"
        )
    })?;
    Ok(people_version)
}

/// How the statement log is set up for one [`statement_log_cost`] variant.
#[derive(Clone, Copy)]
enum LogSetup {
    /// As every connection has it, and no subscriber at all.
    Installed,
    /// Diesel's instrumentation replaced by a closure that does nothing.
    Removed,
    /// An app's subscriber at INFO: people::sql events are off.
    AppAtInfo,
    /// A subscriber that takes every people::sql event (written to a sink).
    Listening,
}

impl LogSetup {
    const ALL: [LogSetup; 4] = [
        LogSetup::Installed,
        LogSetup::Removed,
        LogSetup::AppAtInfo,
        LogSetup::Listening,
    ];

    fn label(self) -> &'static str {
        match self {
            LogSetup::Installed => "log installed, no subscriber",
            LogSetup::Removed => "no instrumentation at all",
            LogSetup::AppAtInfo => "app subscriber at INFO",
            LogSetup::Listening => "people::sql=debug to a sink",
        }
    }
}

/// The statement log's price on the hottest call, a point read: get_by_id
/// over all N ids on one connection per variant (closed before the next),
/// variants interleaved, `rounds` rounds. Returns the report's table.
fn statement_log_cost(path: &Path, w: &Workload, rounds: usize) -> Res<String> {
    use diesel::Connection as _;
    {
        let mut conn =
            people::init(path.to_str().ok_or("path is not UTF-8")?).map_err(err("people::init"))?;
        people::create_many(&mut conn, &w.names, people::OnConflict::Fail)
            .map_err(err("people::create_many"))?;
    }
    let url = path.to_str().ok_or("path is not UTF-8")?;
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); LogSetup::ALL.len()];
    for round in 0..rounds {
        // A different variant goes first in each round.
        let mut order: Vec<usize> = (0..LogSetup::ALL.len()).collect();
        order.rotate_left(round % LogSetup::ALL.len());
        for v in order {
            let setup = LogSetup::ALL[v];
            let mut conn = people::open(url).map_err(err("people::open"))?;
            if let LogSetup::Removed = setup {
                conn.set_instrumentation(|_: diesel::connection::InstrumentationEvent<'_>| {});
            }
            let read_all = |conn: &mut people::DbConnection| {
                timed(w.n, || {
                    let mut sum = 0u64;
                    for &id in &w.ids {
                        let p = people::get(conn, id).map_err(err("people::get"))?;
                        sum += p.name.len() as u64;
                    }
                    Ok(sum)
                })
            };
            let subscriber = |level| {
                tracing_subscriber::fmt()
                    .with_max_level(level)
                    .with_writer(std::io::sink)
                    .finish()
            };
            let measured = match setup {
                LogSetup::Installed | LogSetup::Removed => read_all(&mut conn)?,
                LogSetup::AppAtInfo => {
                    tracing::subscriber::with_default(subscriber(tracing::Level::INFO), || {
                        read_all(&mut conn)
                    })?
                }
                LogSetup::Listening => {
                    tracing::subscriber::with_default(subscriber(tracing::Level::DEBUG), || {
                        read_all(&mut conn)
                    })?
                }
            };
            rates[v].push(measured.ops_per_sec());
        }
    }
    let baseline = median(rates[1].clone());
    let mut table =
        String::from("| get_by_id with… | ops/s | vs no instrumentation |\n|---|--:|--:|\n");
    for (v, setup) in LogSetup::ALL.into_iter().enumerate() {
        let rate = median(rates[v].clone());
        let _ = writeln!(
            table,
            "| {} | {} | {:.3}x |",
            setup.label(),
            thousands(rate),
            rate / baseline
        );
    }
    Ok(table)
}

fn run() -> Res<()> {
    let config = Config::from_args()?;
    let w = Workload::new(config.n);
    let started = utc_now();
    let scratch = match &config.dir {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .map_err(err("creating a temporary directory"))?;

    let sqlite_version = check_same_setup(scratch.path())?;
    let page_caches = page_caches()?;

    // results[round][contestant index in Contestant::ALL][phase]
    let mut results: Vec<Vec<Vec<Measured>>> = Vec::with_capacity(config.rounds);
    for round in 0..config.rounds {
        let context = |c: usize| {
            move |e: String| format!("{} round {}: {e}", Contestant::ALL[c].label(), round + 1)
        };
        let path = |c: usize| {
            scratch.path().join(format!(
                "round{}-{}.db",
                round + 1,
                Contestant::ALL[c].label()
            ))
        };
        // Every contestant's file and connection, open side by side.
        let mut sessions = Vec::with_capacity(Contestant::ALL.len());
        for (c, contestant) in Contestant::ALL.iter().enumerate() {
            sessions.push(contestant.open(&path(c)).map_err(context(c))?);
        }
        let load = load_average();
        let this_round = race_round(
            Contestant::ALL.len(),
            &w,
            round,
            || {},
            |c, p, ops| sessions[c].run(&w, p, ops).map_err(context(c)),
        )?;
        drop(sessions);
        for (c, measured) in this_round.iter().enumerate() {
            verify_final_state(&path(c), &w).map_err(context(c))?;
            let mut line = format!(
                "round {} {:<12} load {load:>5}:",
                round + 1,
                Contestant::ALL[c].label()
            );
            for (name, m) in Phase::ALL.map(Phase::name).iter().zip(measured) {
                let _ = write!(line, " {name} {}/s", thousands(m.ops_per_sec()));
            }
            eprintln!("{line}");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path(c).display()));
            }
        }
        results.push(this_round);
    }

    // Same checksums for every contestant and round.
    let reference = &results[0][0];
    for (round, contestants) in results.iter().enumerate() {
        for (c, measured) in contestants.iter().enumerate() {
            for (p, m) in measured.iter().enumerate() {
                ensure(m.checksum == reference[p].checksum, || {
                    format!(
                        "checksum mismatch in {}: {} round {} has {}, expected {}",
                        Phase::ALL[p].name(),
                        Contestant::ALL[c].label(),
                        round + 1,
                        m.checksum,
                        reference[p].checksum
                    )
                })?;
            }
        }
    }

    // Which contestants' code differs, per phase (1 = A, 2 = B, 3 = C).
    let candidates: [&[usize]; 7] = [
        &[1, 2, 3],
        &[1],
        &[1],
        &[1, 2, 3],
        &[1, 2],
        &[1, 2, 3],
        &[1],
    ];
    let (fastest, raced) = fastest_rival(&results, &candidates);

    let mut report = String::new();
    let _ = writeln!(
        report,
        "SQLite {sqlite_version} (bundled, libsqlite3-sys; {page_caches}), {started}, N = {}, {} round(s), median over rounds\n",
        thousands(config.n as f64),
        config.rounds
    );
    report.push_str(&ratio_table("rusqlite (fastest form)", &raced));
    let _ = writeln!(
        report,
        "\nEvery rusqlite form (ops/s, median over rounds; the fastest is the rival):\n"
    );
    report.push_str(
        "| phase | rusqlite_A | rusqlite_B | rusqlite_C | the rival |\n|---|--:|--:|--:|---|\n",
    );
    for (p, name) in Phase::ALL.map(Phase::name).iter().enumerate() {
        let cell = |c: usize| {
            if candidates[p].contains(&c) {
                thousands(median(
                    results.iter().map(|r| r[c][p].ops_per_sec()).collect(),
                ))
            } else {
                "as A".to_owned()
            }
        };
        let _ = writeln!(
            report,
            "| {name} | {} | {} | {} | {} |",
            cell(1),
            cell(2),
            cell(3),
            ["", "A", "B", "C"][fastest[p]]
        );
    }
    println!("{report}");
    println!("All checksums equal across contestants and rounds; final state verified.");

    // More rounds than the race: the differences measured here are small.
    let log_rounds = (config.rounds * 2).max(4);
    let log_table = statement_log_cost(&scratch.path().join("statement-log.db"), &w, log_rounds)?;
    println!("\nThe statement log's price (median of {log_rounds} rounds):\n\n{log_table}");

    if let Some(path) = &config.json {
        let backend = format!("SQLite {sqlite_version}");
        write_json(
            path, "crud", &backend, "rusqlite", &started, config.n, &raced,
        )?;
    }
    Ok(())
}

fn main() -> ExitCode {
    // What people's docs tell an app to do first (and what rusqlite does for
    // every connection it opens): no per-call mutex on connections that are
    // never shared between threads.
    let _ = people::use_sqlite_multi_thread_mode();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("crud benchmark FAILED: {message}");
            ExitCode::FAILURE
        }
    }
}
