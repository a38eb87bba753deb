//! CRUD throughput of `people` (through its public API) against raw
//! `rusqlite` doing the same work on the same bundled SQLite.
//!
//! ```text
//! cargo bench --bench crud                    # N = 100,000, 3 rounds
//! cargo bench --bench crud -- --quick         # N = 2,000 smoke run
//! cargo bench --bench crud -- --rounds 5 --n 50000
//! ```
//!
//! The workload is the one in the project's performance baseline: seven
//! phases run in order on one fresh database file per contestant and round,
//! each contestant on its own single connection, closed before the other one
//! runs. Contestants alternate (people first in odd rounds, rusqlite first in
//! even ones). Every phase is checked inline, its checksum must be the same
//! for both contestants and all rounds, and the final state of every file is
//! verified; any mismatch exits non-zero. Nothing about timing is asserted.
//!
//! Without `--bench` (that is, under `cargo test --benches`/`--all-targets`)
//! it runs one small round as a smoke test, like criterion's test mode.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use people::Person;
use rusqlite::OptionalExtension;

mod common;
use common::*;

/// The raw contestant's name in the report.
const RIVAL: &str = "rusqlite";

/// The SQLite per-connection setup `people::open` applies (src/connection.rs),
/// plus WAL, which `people::run_migrations` switches on (src/migrations.rs).
const RUSQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = NORMAL;";

struct Config {
    n: usize,
    rounds: usize,
    dir: Option<PathBuf>,
}

impl Config {
    fn from_args() -> Res<Self> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        // `cargo bench` passes `--bench`; `cargo test` runs us without it.
        let bench_mode = args.iter().any(|a| a == "--bench");
        let (mut n, mut rounds) = if bench_mode { (100_000, 3) } else { (2_000, 1) };
        let mut dir = None;
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
                "-h" | "--help" => {
                    println!(
                        "usage: crud [--quick] [--n N] [--rounds R] [--dir DIR]\n  \
                         --quick     N = 2,000 (smoke size)\n  \
                         --n N       rows (default 100,000; a multiple of 10, above {PAGE})\n  \
                         --rounds R  rounds of both contestants (default 3)\n  \
                         --dir DIR   where the temporary database files go (default: $TMPDIR)\n\
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
        Ok(Config { n, rounds, dir })
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Contestant {
    People,
    Rusqlite,
}

impl Contestant {
    fn label(self) -> &'static str {
        match self {
            Contestant::People => "people",
            Contestant::Rusqlite => "rusqlite_raw",
        }
    }

    /// Runs the seven phases on a fresh database file at `path`; the
    /// connection is closed when this returns.
    fn run(self, path: &Path, w: &Workload) -> Res<Vec<Measured>> {
        match self {
            Contestant::People => run_people(path, w),
            Contestant::Rusqlite => run_rusqlite(path, w),
        }
    }
}

fn run_people(path: &Path, w: &Workload) -> Res<Vec<Measured>> {
    let url = path.to_str().ok_or("temporary path is not UTF-8")?;
    let mut conn = people::init(url).map_err(err("people::init"))?;
    let conn = &mut conn;
    people_phases(conn, w)
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

/// Runs one cached statement that returns no rows (BEGIN, COMMIT).
fn exec_cached(conn: &rusqlite::Connection, sql: &str) -> Res<()> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map(drop)
        .map_err(err(sql))
}

/// `BEGIN IMMEDIATE; body; COMMIT` with cached statements: the transaction
/// shape of every `people` write (src/connection.rs, `transaction`).
fn immediate<T>(conn: &rusqlite::Connection, body: impl FnOnce() -> Res<T>) -> Res<T> {
    exec_cached(conn, "BEGIN IMMEDIATE")?;
    match body() {
        Ok(value) => {
            exec_cached(conn, "COMMIT")?;
            Ok(value)
        }
        Err(e) => {
            let _ = exec_cached(conn, "ROLLBACK");
            Err(e)
        }
    }
}

/// What people stores as a timestamp: UTC, whole microseconds.
fn now() -> chrono::NaiveDateTime {
    use chrono::SubsecRound;
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}

fn run_rusqlite(path: &Path, w: &Workload) -> Res<Vec<Measured>> {
    let mut conn = open_rusqlite(path)?;
    let n = w.n;
    let tenth = w.tenth();
    let mut out = Vec::with_capacity(PHASES.len());
    let person = |r: &rusqlite::Row<'_>| -> rusqlite::Result<Person> {
        Ok(Person {
            id: r.get(0)?,
            name: r.get(1)?,
            created_at: r.get::<_, chrono::NaiveDateTime>(2)?.and_utc(),
            updated_at: r.get::<_, chrono::NaiveDateTime>(3)?.and_utc(),
        })
    };

    out.push(phase(n, || {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err("bulk begin"))?;
        let mut inserted = 0u64;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO person (name, created_at, updated_at) VALUES (?1, ?2, ?2)",
                )
                .map_err(err("bulk prepare"))?;
            let at = now();
            for name in &w.names {
                inserted += insert.execute((name, at)).map_err(err("bulk insert"))? as u64;
            }
        }
        tx.commit().map_err(err("bulk commit"))?;
        ensure(inserted == n as u64, || format!("bulk inserted {inserted}"))?;
        Ok(inserted)
    })?);
    let conn = &conn;

    out.push(phase(n, || {
        let mut sum = 0u64;
        for &id in &w.ids {
            let p = conn
                .prepare_cached("SELECT id, name, created_at, updated_at FROM person WHERE id = ?1")
                .and_then(|mut s| s.query_row([id], person))
                .map_err(err("get_by_id"))?;
            ensure(p.id == id && p.name == w.name_of(id), || {
                format!("get({id}) = {p:?}")
            })?;
            sum += p.name.len() as u64;
        }
        Ok(sum)
    })?);

    out.push(phase(n, || {
        let mut sum = 0u64;
        for &id in &w.ids {
            let name = w.name_of(id);
            let p = conn
                .prepare_cached(
                    "SELECT id, name, created_at, updated_at FROM person WHERE name = ?1",
                )
                .and_then(|mut s| s.query_row([name], person).optional())
                .map_err(err("get_by_name"))?;
            let p = p.ok_or_else(|| format!("get_by_name({name}) = None"))?;
            ensure(p.id == id, || format!("get_by_name({name}) = {p:?}"))?;
            sum += p.id as u64;
        }
        Ok(sum)
    })?);

    out.push(phase(tenth, || {
        let mut sum = 0u64;
        for &after in &w.page_keys {
            // A bound LIMIT, like the SQL Diesel generates for `people::list`.
            let rows = conn
                .prepare_cached("SELECT id, name, created_at, updated_at FROM person WHERE id > ?1 ORDER BY id LIMIT ?2")
                .and_then(|mut s| {
                    s.query_map((after, PAGE as i64), person)?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(err("page"))?;
            sum += sum_page(&rows, after)?;
        }
        Ok(sum)
    })?);

    out.push(phase(tenth, || {
        let mut sum = 0u64;
        for (i, name) in w.new_names.iter().enumerate() {
            let id = immediate(conn, || {
                conn.prepare_cached(
                    "INSERT INTO person (name, created_at, updated_at) VALUES (?1, ?2, ?2)",
                )
                .and_then(|mut s| s.execute((name, now())))
                .map_err(err("insert_single"))?;
                Ok(conn.last_insert_rowid())
            })?;
            let expected = (n + 1 + i) as i64;
            ensure(id == expected, || {
                format!("insert({name}) = id {id}, expected {expected}")
            })?;
            sum += id as u64;
        }
        Ok(sum)
    })?);

    out.push(phase(tenth, || {
        let mut sum = 0u64;
        for (i, name) in w.renames.iter().enumerate() {
            let id = (i + 1) as i32;
            let changed = immediate(conn, || {
                conn.prepare_cached("UPDATE person SET name = ?1, updated_at = ?2 WHERE id = ?3")
                    .and_then(|mut s| s.execute((name, now(), id)))
                    .map_err(err("rename"))
            })?;
            ensure(changed == 1, || {
                format!("rename({id}) changed {changed} rows")
            })?;
            sum += id as u64;
        }
        Ok(sum)
    })?);

    out.push(phase(tenth, || {
        let mut sum = 0u64;
        for i in 0..tenth {
            let id = w.deleted_id(i);
            let changed = immediate(conn, || {
                conn.prepare_cached("DELETE FROM person WHERE id = ?1")
                    .and_then(|mut s| s.execute([id]))
                    .map_err(err("delete"))
            })?;
            ensure(changed == 1, || {
                format!("delete({id}) changed {changed} rows")
            })?;
            sum += id as u64;
        }
        Ok(sum)
    })?);

    Ok(out)
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
    for _ in 0..rounds {
        for (v, setup) in LogSetup::ALL.into_iter().enumerate() {
            let mut conn = people::open(url).map_err(err("people::open"))?;
            if let LogSetup::Removed = setup {
                conn.set_instrumentation(|_: diesel::connection::InstrumentationEvent<'_>| {});
            }
            let read_all = |conn: &mut people::DbConnection| {
                phase(w.n, || {
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

    // results[round][contestant as usize][phase]
    let mut results: Vec<[Vec<Measured>; 2]> = Vec::with_capacity(config.rounds);
    for round in 0..config.rounds {
        let order = if round % 2 == 0 {
            [Contestant::People, Contestant::Rusqlite]
        } else {
            [Contestant::Rusqlite, Contestant::People]
        };
        let mut this_round: [Vec<Measured>; 2] = Default::default();
        for contestant in order {
            let load = load_average();
            let path = scratch
                .path()
                .join(format!("round{}-{}.db", round + 1, contestant.label()));
            let measured = contestant
                .run(&path, &w)
                .map_err(|e| format!("{} round {}: {e}", contestant.label(), round + 1))?;
            verify_final_state(&path, &w)
                .map_err(|e| format!("{} round {}: {e}", contestant.label(), round + 1))?;
            let mut line = format!(
                "round {} {:<12} load {load:>5}:",
                round + 1,
                contestant.label()
            );
            for (name, m) in PHASES.iter().zip(&measured) {
                let _ = write!(line, " {name} {}/s", thousands(m.ops_per_sec()));
            }
            eprintln!("{line}");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            this_round[contestant as usize] = measured;
        }
        results.push(this_round);
    }

    // Same checksums for every contestant and round.
    let reference = &results[0][0];
    for (round, pair) in results.iter().enumerate() {
        for (c, measured) in pair.iter().enumerate() {
            for (p, m) in measured.iter().enumerate() {
                ensure(m.checksum == reference[p].checksum, || {
                    format!(
                        "checksum mismatch in {}: {} round {} has {}, expected {}",
                        PHASES[p],
                        [Contestant::People, Contestant::Rusqlite][c].label(),
                        round + 1,
                        m.checksum,
                        reference[p].checksum
                    )
                })?;
            }
        }
    }

    let mut table = String::new();
    let _ = writeln!(
        table,
        "SQLite {sqlite_version} (bundled, libsqlite3-sys), {started}, N = {}, {} round(s), median over rounds\n",
        thousands(config.n as f64),
        config.rounds
    );
    table.push_str(&ratio_table(RIVAL, &results));
    println!("{table}");
    println!("All checksums equal across contestants and rounds; final state verified.");

    let log_table =
        statement_log_cost(&scratch.path().join("statement-log.db"), &w, config.rounds)?;
    println!(
        "\nThe statement log's price (median of {} round(s)):\n\n{log_table}",
        config.rounds
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("crud benchmark FAILED: {message}");
            ExitCode::FAILURE
        }
    }
}
