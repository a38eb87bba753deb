//! CRUD throughput of `people` (through its public API) against the raw
//! synchronous `postgres` crate doing the same work on the same PostgreSQL
//! server.
//!
//! ```text
//! cargo bench --bench crud_postgres                  # N = 50,000, 3 rounds
//! cargo bench --bench crud_postgres -- --quick       # N = 2,000, 1 round
//! cargo bench --bench crud_postgres -- --rounds 5 --n 100000 --url postgres://…
//! ```
//!
//! The server is `--url`, else `$PEOPLE_TEST_POSTGRES_URL`, else
//! `postgres://postgres@127.0.0.1:5432`; the role needs `CREATEDB` (and
//! superuser or `pg_checkpoint` for the CHECKPOINT between phases, which
//! is skipped with a warning otherwise). Unless the URL says `sslmode=…`, both
//! contestants connect with `sslmode=disable`: the raw client has no TLS
//! here, and libpq would otherwise negotiate TLS for `people` alone.
//!
//! The workload and checks are those of `benches/crud.rs`, with N = 50,000
//! rows by default instead of 100,000 (every operation is a round trip to the
//! server, and 100,000 took over three minutes on a 2-core machine). Seven
//! phases run in order, each contestant on a single connection to its own
//! freshly created database (a unique name, dropped right after it was
//! verified, and also on failure). `people` gets its schema from
//! `people::init`; the raw contestant runs every `migrations/postgres/*/up.sql`
//! (checked to give the same catalog) and is the `postgres` crate at its best:
//! every statement prepared once (a named server-side statement) and reused,
//! every single-row write one autocommit statement returning the whole row
//! (`INSERT/UPDATE/DELETE … RETURNING`), every read building the whole
//! `Person`. bulk_insert has two forms, raced against people as one rival
//! (the faster of the round): A, a prepared INSERT in a loop in one
//! transaction; B, one binary `COPY … FROM STDIN` (`BinaryCopyInWriter`).
//!
//! The contestants take turns within each phase. On this shared 2-vCPU VM
//! the same contestant's rate moved by up to 40% between runs a minute
//! apart, more than any difference between the contestants, so a round opens
//! all three connections side by side and cuts every phase but bulk_insert
//! (one transaction) into 10 slices: slice by slice each contestant runs its
//! share of the same operations, the one going first rotating, and a phase's
//! time is the sum of its slices. A drift of the machine's speed then falls on
//! all contestants alike. A `CHECKPOINT` before each phase (and before each
//! contestant's bulk_insert) keeps the dirty pages written before out of the
//! time. Every phase is checked inline, its checksum must be the same for
//! all contestants and rounds, and the final state of every database is
//! verified (including a digest of all rows, equal across databases); any
//! mismatch exits non-zero. Nothing about timing is asserted.
//!
//! On a small VM a round trip costs far less when the client and its server
//! backend share a CPU than when they do not, and the scheduler's choice can
//! change during a run; `--pin CPU` (a local server only) pins this process
//! and each contestant's backend to one CPU, for steadier ratios.
//!
//! Without `--bench` (that is, under `cargo test --benches`/`--all-targets`)
//! it runs one small round as a smoke test, and only if
//! `PEOPLE_TEST_POSTGRES_URL` is set, like the PostgreSQL tests.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use people::Person;

mod common;
use common::*;

/// The server when neither `--url` nor the environment names one.
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432";
/// The environment variable the PostgreSQL tests read too.
const URL_VAR: &str = "PEOPLE_TEST_POSTGRES_URL";

struct Config {
    n: usize,
    rounds: usize,
    /// The server URL, with `sslmode=disable` added unless it names a mode.
    url: String,
    /// The CPU that this process and each contestant's server backend are
    /// pinned to (`--pin`), if any.
    pin: Option<String>,
    /// Where to write the per-phase results for `benches/chart.py`.
    json: Option<PathBuf>,
}

impl Config {
    /// `None`: a smoke run without a configured server, which is skipped.
    fn from_args() -> Res<Option<Self>> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        // `cargo bench` passes `--bench`; `cargo test` runs us without it.
        let bench_mode = args.iter().any(|a| a == "--bench");
        // Half of crud.rs's 100,000: every operation is a round trip to the
        // server here, and N = 100,000 took 3 min 16 s on the 2-core machine.
        let (mut n, mut rounds) = if bench_mode { (50_000, 3) } else { (2_000, 1) };
        let (mut quick, mut explicit_n, mut explicit_rounds) = (false, None, None);
        let (mut url, mut pin, mut json) = (None, None, None);
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .ok_or_else(|| format!("{name} needs a value"))
                    .cloned()
            };
            match arg.as_str() {
                "--bench" => {}
                "--quick" => quick = true,
                "--n" => explicit_n = Some(value("--n")?.parse().map_err(err("--n"))?),
                "--rounds" => {
                    explicit_rounds = Some(value("--rounds")?.parse().map_err(err("--rounds"))?)
                }
                "--url" => url = Some(value("--url")?),
                "--pin" => pin = Some(value("--pin")?),
                "--json" => json = Some(PathBuf::from(value("--json")?)),
                "-h" | "--help" => {
                    println!(
                        "usage: crud_postgres [--quick] [--n N] [--rounds R] [--url URL] [--pin CPU] [--json FILE]\n  \
                         --quick     N = 2,000 and 1 round (smoke size)\n  \
                         --n N       rows (default 50,000; a multiple of 10, above {PAGE})\n  \
                         --rounds R  rounds of both contestants (default 3)\n  \
                         --url URL   the server (default: ${URL_VAR}, else {DEFAULT_URL});\n              \
                         a database is created on it per contestant and round\n  \
                         --pin CPU   pin this process and each contestant's server backend\n              \
                         to CPU (taskset; the server must run on this machine)\n\
                         Without --bench (which `cargo bench` passes), the defaults are\n\
                         N = 2,000 and 1 round, and without ${URL_VAR} the run is skipped:\n\
                         the smoke run of `cargo test --benches`."
                    );
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other:?} (try --help)")),
            }
        }
        if quick {
            (n, rounds) = (2_000, 1);
        }
        n = explicit_n.unwrap_or(n);
        rounds = explicit_rounds.unwrap_or(rounds);
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
        let url = match url.or_else(|| std::env::var(URL_VAR).ok().filter(|u| !u.is_empty())) {
            Some(url) => url,
            None if bench_mode => DEFAULT_URL.to_owned(),
            None => {
                eprintln!(
                    "no --bench argument and {URL_VAR} is not set: PostgreSQL smoke run skipped"
                );
                return Ok(None);
            }
        };
        if !bench_mode {
            eprintln!("no --bench argument: smoke run (N = {n}, {rounds} round(s))");
        }
        ensure(
            pin.as_deref().is_none_or(|c| c.parse::<u32>().is_ok()),
            || format!("--pin takes one CPU number, not {pin:?}"),
        )?;
        Ok(Some(Config {
            n,
            rounds,
            url: with_sslmode(&url),
            pin,
            json,
        }))
    }
}

/// `url` with `sslmode=disable` appended unless it already names a mode.
fn with_sslmode(url: &str) -> String {
    if url.contains("sslmode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&sslmode=disable")
    } else {
        format!("{url}?sslmode=disable")
    }
}

/// `server_url` with its database path replaced by `name`, query kept.
fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    // The password may hold '/': the host starts after the last '@'.
    let host_start = base[authority_start..]
        .rfind('@')
        .map_or(authority_start, |at| authority_start + at + 1);
    let base = match base[host_start..].find('/') {
        Some(slash) => &base[..host_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// A raw client; errors name the server without its password.
fn connect(url: &str) -> Res<postgres::Client> {
    postgres::Client::connect(url, postgres::NoTls).map_err(|e| {
        // postgres::Error's Display leaves out the cause (the OS error, ...).
        let shown = people::DatabaseUrl::parse(url)
            .map_or_else(|_| "the server".to_owned(), |u| u.to_string());
        let mut message = format!("connecting to {shown}: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            let _ = write!(message, ": {cause}");
            source = cause.source();
        }
        message
    })
}

/// A freshly created database with a unique name, dropped (with any
/// connection still open to it) when this value is dropped: on success, on
/// error and on panic alike.
struct TempDatabase {
    server_url: String,
    name: String,
    url: String,
}

impl TempDatabase {
    fn create(server_url: &str, label: &str) -> Res<Self> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        // Only ASCII letters, digits and '_': it is spliced into DDL, which
        // takes no binds. Lower case: PostgreSQL folds an unquoted name.
        let name = format!(
            "people_bench_{}_{}_{nanos}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            label.to_ascii_lowercase()
        );
        connect(server_url)?
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(err("CREATE DATABASE"))?;
        Ok(TempDatabase {
            server_url: server_url.to_owned(),
            url: with_database(server_url, &name),
            name,
        })
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let dropped = connect(&self.server_url).and_then(|mut admin| {
            admin
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .map_err(err("DROP DATABASE"))
        });
        if let Err(e) = dropped {
            eprintln!("warning: database {} was not dropped: {e}", self.name);
        }
    }
}

/// `CHECKPOINT`, so that the checkpointer does not write the previous
/// contestant's dirty pages while the next one is timed. Needs superuser (or
/// `pg_checkpoint`); without it the benchmark warns once and goes on.
fn checkpoint(server_url: &str, warned: &mut bool) {
    let done = connect(server_url)
        .and_then(|mut c| c.batch_execute("CHECKPOINT").map_err(err("CHECKPOINT")));
    if let Err(e) = done {
        if !*warned {
            eprintln!("warning: no CHECKPOINT between contestants ({e})");
            *warned = true;
        }
    }
}

/// Pins process `pid` (all its threads) to `cpu` with taskset(1).
fn pin(pid: u32, cpu: &str) -> Res<()> {
    let out = std::process::Command::new("taskset")
        .args(["-apc", cpu, &pid.to_string()])
        .output()
        .map_err(err("running taskset"))?;
    ensure(out.status.success(), || {
        format!(
            "taskset -apc {cpu} {pid} (--pin needs the server on this machine): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })
}

/// How the raw client writes bulk_insert (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Bulk {
    Loop,
    Copy,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Contestant {
    People,
    Postgres(Bulk),
}

impl Contestant {
    const ALL: [Contestant; 3] = [
        Contestant::People,
        Contestant::Postgres(Bulk::Loop),
        Contestant::Postgres(Bulk::Copy),
    ];

    fn label(self) -> &'static str {
        match self {
            Contestant::People => "people",
            Contestant::Postgres(Bulk::Loop) => "postgres_A",
            Contestant::Postgres(Bulk::Copy) => "postgres_B",
        }
    }

    /// Connects to the fresh, empty database at `url` (the raw client
    /// creating the schema, people through `people::init`), with the server
    /// backend pinned to `pin_cpu` if given.
    fn open(self, url: &str, pin_cpu: Option<&str>) -> Res<Session> {
        Ok(match self {
            Contestant::People => Session::People(open_people(url, pin_cpu)?),
            Contestant::Postgres(bulk) => {
                Session::Postgres(Box::new(RawPostgres::open(url, pin_cpu, bulk)?))
            }
        })
    }
}

/// A contestant's open connection, between phases.
enum Session {
    People(people::DbConnection),
    Postgres(Box<RawPostgres>),
}

impl Session {
    /// Operations `ops` of phase `p`; returns their checksum.
    fn run(&mut self, w: &Workload, p: Phase, ops: Range<usize>) -> Res<u64> {
        match self {
            Session::People(conn) => people_phase(conn, w, p, ops),
            Session::Postgres(raw) => raw.run(w, p, ops),
        }
    }
}

fn open_people(url: &str, pin_cpu: Option<&str>) -> Res<people::DbConnection> {
    let mut conn = people::init(url).map_err(err("people::init"))?;
    if let Some(cpu) = pin_cpu {
        use diesel::RunQueryDsl;
        let pid: i32 = diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>(
            "pg_backend_pid()",
        ))
        .get_result(&mut conn)
        .map_err(err("pg_backend_pid() via people"))?;
        pin(pid as u32, cpu)?;
    }
    Ok(conn)
}

/// The PostgreSQL migrations' `up.sql`, in version order, read at run time.
fn migration_ddl() -> Res<Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map_err(err("reading migrations/postgres"))?
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

/// Connects to `url` and creates the schema from every
/// `migrations/postgres/*/up.sql`, in one transaction as Diesel's migration
/// harness does.
fn open_postgres(url: &str) -> Res<postgres::Client> {
    let mut client = connect(url)?;
    let mut tx = client.transaction().map_err(err("schema begin"))?;
    for ddl in migration_ddl()? {
        tx.batch_execute(&ddl).map_err(err("schema"))?;
    }
    tx.commit().map_err(err("schema commit"))?;
    Ok(client)
}

/// What people stores as a timestamp: UTC, whole microseconds.
fn now() -> chrono::NaiveDateTime {
    use chrono::SubsecRound;
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}

fn person(row: &postgres::Row) -> Res<Person> {
    let time = |i| {
        row.try_get::<_, chrono::NaiveDateTime>(i)
            .map(|t| t.and_utc())
            .map_err(err("timestamp column"))
    };
    Ok(Person {
        id: row.try_get(0).map_err(err("id column"))?,
        name: row.try_get(1).map_err(err("name column"))?,
        created_at: time(2)?,
        updated_at: time(3)?,
    })
}

/// The `postgres` crate at its best: one connection, every statement
/// prepared once (a named server-side statement, like Diesel's cache) and
/// reused.
struct RawPostgres {
    client: postgres::Client,
    bulk: Bulk,
    insert: postgres::Statement,
    by_id: postgres::Statement,
    by_name: postgres::Statement,
    page: postgres::Statement,
    insert_returning: postgres::Statement,
    rename: postgres::Statement,
    delete: postgres::Statement,
}

impl RawPostgres {
    fn open(url: &str, pin_cpu: Option<&str>, bulk: Bulk) -> Res<Self> {
        let mut client = open_postgres(url)?;
        if let Some(cpu) = pin_cpu {
            let pid: i32 = client
                .query_one("SELECT pg_backend_pid()", &[])
                .and_then(|r| r.try_get(0))
                .map_err(err("pg_backend_pid()"))?;
            pin(pid as u32, cpu)?;
        }
        let mut prepare = |sql: &str| client.prepare(sql).map_err(err(sql));
        Ok(RawPostgres {
            bulk,
            insert: prepare(
                "INSERT INTO person (name, created_at, updated_at) VALUES ($1, $2, $2)",
            )?,
            by_id: prepare("SELECT id, name, created_at, updated_at FROM person WHERE id = $1")?,
            by_name: prepare(
                "SELECT id, name, created_at, updated_at FROM person WHERE name = $1",
            )?,
            page: prepare(
                "SELECT id, name, created_at, updated_at FROM person WHERE id > $1 ORDER BY id LIMIT $2",
            )?,
            insert_returning: prepare(
                "INSERT INTO person (name, created_at, updated_at) VALUES ($1, $2, $2) \
                 RETURNING id, name, created_at, updated_at",
            )?,
            rename: prepare(
                "UPDATE person SET name = $1, updated_at = $2 WHERE id = $3 \
                 RETURNING id, name, created_at, updated_at",
            )?,
            delete: prepare(
                "DELETE FROM person WHERE id = $1 RETURNING id, name, created_at, updated_at",
            )?,
            client,
        })
    }

    /// Operations `ops` of phase `p`, as [`people_phase`] runs them through
    /// people; returns their checksum.
    fn run(&mut self, w: &Workload, p: Phase, ops: Range<usize>) -> Res<u64> {
        let client = &mut self.client;
        let mut sum = 0u64;
        match p {
            Phase::BulkInsert => {
                let names = &w.names[ops];
                let at = now();
                let inserted = match self.bulk {
                    Bulk::Loop => {
                        let mut tx = client.transaction().map_err(err("BEGIN"))?;
                        let mut inserted = 0u64;
                        for name in names {
                            inserted += tx
                                .execute(&self.insert, &[name, &at])
                                .map_err(err("bulk insert"))?;
                        }
                        tx.commit().map_err(err("COMMIT"))?;
                        inserted
                    }
                    Bulk::Copy => {
                        use postgres::binary_copy::BinaryCopyInWriter;
                        use postgres::types::Type;
                        let sink = client
                            .copy_in(
                                "COPY person (name, created_at, updated_at) FROM STDIN (FORMAT binary)",
                            )
                            .map_err(err("COPY"))?;
                        let mut writer = BinaryCopyInWriter::new(
                            sink,
                            &[Type::VARCHAR, Type::TIMESTAMP, Type::TIMESTAMP],
                        );
                        for name in names {
                            writer.write(&[name, &at, &at]).map_err(err("COPY row"))?;
                        }
                        writer.finish().map_err(err("COPY end"))?
                    }
                };
                ensure(inserted == names.len() as u64, || {
                    format!("bulk inserted {inserted}")
                })?;
                sum = inserted;
            }
            Phase::GetById => {
                for &id in &w.ids[ops] {
                    let row = client
                        .query_one(&self.by_id, &[&id])
                        .map_err(err("get_by_id"))?;
                    sum += w.check_get(id, &person(&row)?)?;
                }
            }
            Phase::GetByName => {
                for &id in &w.ids[ops] {
                    let row = client
                        .query_opt(&self.by_name, &[&w.name_of(id)])
                        .map_err(err("get_by_name"))?;
                    let got = row.as_ref().map(person).transpose()?;
                    sum += w.check_find(id, got.as_ref())?;
                }
            }
            Phase::Page => {
                for &after in &w.page_keys[ops] {
                    let rows = client
                        .query(&self.page, &[&after, &(PAGE as i64)])
                        .map_err(err("page"))?
                        .iter()
                        .map(person)
                        .collect::<Res<Vec<_>>>()?;
                    sum += sum_page(&rows, after)?;
                }
            }
            Phase::InsertSingle => {
                for i in ops {
                    let row = client
                        .query_one(&self.insert_returning, &[&w.new_names[i], &now()])
                        .map_err(err("insert_single"))?;
                    sum += w.check_create(i, &person(&row)?)?;
                }
            }
            Phase::Rename => {
                for i in ops {
                    let row = client
                        .query_one(&self.rename, &[&w.renames[i], &now(), &w.renamed_id(i)])
                        .map_err(err("rename"))?;
                    sum += w.check_rename(i, &person(&row)?)?;
                }
            }
            Phase::Delete => {
                for i in ops {
                    let row = client
                        .query_one(&self.delete, &[&w.deleted_id(i)])
                        .map_err(err("delete"))?;
                    sum += w.check_delete(i, &person(&row)?)?;
                }
            }
        }
        Ok(sum)
    }
}

/// Checks the end state of a contestant's database with a fresh connection,
/// opened after the contestant's own was closed, and returns a digest of
/// every row, which must be the same for all databases.
fn verify_final_state(url: &str, w: &Workload) -> Res<String> {
    let mut client = connect(url)?;
    let mut one = |sql: &str| -> Res<i64> {
        client
            .query_one(sql, &[])
            .and_then(|r| r.try_get(0))
            .map_err(err(sql))
    };
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
        (
            "max(id)",
            one("SELECT max(id)::int8 FROM person")?,
            n + tenth,
        ),
        (
            "deleted id present",
            one(&format!("SELECT count(*) FROM person WHERE id = {deleted}"))?,
            0,
        ),
        (
            "identity sequence",
            one("SELECT pg_sequence_last_value(pg_get_serial_sequence('person', 'id')::regclass)")?,
            n + tenth,
        ),
    ];
    for (what, got, expected) in checks {
        ensure(got == expected, || {
            format!("{what} = {got}, expected {expected}")
        })?;
    }
    client
        .query_one(
            "SELECT md5(string_agg(id || ':' || name, ',' ORDER BY id)) FROM person",
            &[],
        )
        .and_then(|r| r.try_get(0))
        .map_err(err("row digest"))
}

/// The schema of the database at `url` as text rows: relations, columns,
/// constraints and indexes in the public schema, minus Diesel's bookkeeping.
fn schema_of(url: &str) -> Res<Vec<(String, String, String)>> {
    const SCHEMA: &str = r"
        SELECT kind, name, def FROM (
            SELECT 'relation' AS kind, c.relname::text AS name, c.relkind::text AS def
              FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
             WHERE s.nspname = 'public'
            UNION ALL
            SELECT 'column', c.relname || '.' || a.attname,
                   format_type(a.atttypid, a.atttypmod)
                   || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
                   || CASE a.attidentity WHEN 'd' THEN ' IDENTITY BY DEFAULT'
                                         WHEN 'a' THEN ' IDENTITY ALWAYS' ELSE '' END
                   || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
              FROM pg_attribute a
              JOIN pg_class c ON c.oid = a.attrelid
              JOIN pg_namespace s ON s.oid = c.relnamespace
              LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE s.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
            UNION ALL
            SELECT 'constraint', c.relname || '.' || k.conname, pg_get_constraintdef(k.oid)
              FROM pg_constraint k
              JOIN pg_class c ON c.oid = k.conrelid
              JOIN pg_namespace s ON s.oid = c.relnamespace
             WHERE s.nspname = 'public'
            UNION ALL
            SELECT 'index', indexname::text, indexdef FROM pg_indexes WHERE schemaname = 'public'
        ) objects
        WHERE name NOT LIKE '\_\_diesel\_%'
        ORDER BY kind, name";
    connect(url)?
        .query(SCHEMA, &[])
        .map_err(err("schema query"))?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<Result<_, postgres::Error>>()
        .map_err(err("schema query"))
}

/// The settings that shape every timing, as one connection sees them: the
/// server version, durability of a COMMIT, and whether the link is TLS.
const SESSION: &str = "SELECT current_setting('server_version') || ', synchronous_commit=' \
     || current_setting('synchronous_commit') || ', fsync=' || current_setting('fsync') \
     || ', TLS ' || CASE WHEN (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) \
     THEN 'on' ELSE 'off' END";

/// [`SESSION`] on `people`'s own connection.
fn people_session(url: &str) -> Res<String> {
    use diesel::RunQueryDsl;
    let mut conn = people::init(url).map_err(err("people::init"))?;
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(&format!(
        "({SESSION})"
    )))
    .get_result(&mut conn)
    .map_err(err("session settings via people"))
}

/// Checks that both contestants talk to the server the same way (same
/// version, commit durability and TLS) and start from the same schema:
/// `people::init`'s compiled-in migrations against the `up.sql` files the raw
/// contestant runs. Returns the session description.
fn check_same_setup(server_url: &str) -> Res<String> {
    let people_db = TempDatabase::create(server_url, "setup_people")?;
    let raw_db = TempDatabase::create(server_url, "setup_raw")?;
    let people_session = people_session(&people_db.url)?;
    let raw_session: String = open_postgres(&raw_db.url)?
        .query_one(SESSION, &[])
        .and_then(|r| r.try_get(0))
        .map_err(err("session settings via postgres"))?;
    ensure(people_session == raw_session, || {
        format!("people's connection has {people_session}, the raw client's {raw_session}")
    })?;
    let (people_schema, raw_schema) = (schema_of(&people_db.url)?, schema_of(&raw_db.url)?);
    ensure(!people_schema.is_empty(), || {
        "people::init created no schema".to_owned()
    })?;
    ensure(people_schema == raw_schema, || {
        format!(
            "people::init and migrations/postgres/*/up.sql give different schemas \
             (rebuild the benchmark?):\n  people:   {people_schema:?}\n  up.sql:   {raw_schema:?}"
        )
    })?;
    Ok(people_session)
}

/// The server part of the URL, for the header: host and port, no user.
fn server_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

fn run() -> Res<()> {
    let Some(config) = Config::from_args()? else {
        return Ok(());
    };
    let w = Workload::new(config.n);
    let started = utc_now();
    let url = &config.url;
    let session = check_same_setup(url)?;
    if let Some(cpu) = &config.pin {
        pin(std::process::id(), cpu)?;
    }
    let mut checkpoint_warned = false;

    // results[round][contestant index in Contestant::ALL][phase]
    let mut results: Vec<Vec<Vec<Measured>>> = Vec::with_capacity(config.rounds);
    let mut digests: Vec<String> = Vec::new();
    for round in 0..config.rounds {
        let context = |c: usize| {
            move |e: String| format!("{} round {}: {e}", Contestant::ALL[c].label(), round + 1)
        };
        // Every contestant's database and connection, open side by side.
        let mut databases = Vec::with_capacity(Contestant::ALL.len());
        let mut sessions = Vec::with_capacity(Contestant::ALL.len());
        for (c, contestant) in Contestant::ALL.iter().enumerate() {
            let db = TempDatabase::create(url, &format!("r{}_{}", round + 1, contestant.label()))
                .map_err(context(c))?;
            sessions.push(
                contestant
                    .open(&db.url, config.pin.as_deref())
                    .map_err(context(c))?,
            );
            databases.push(db);
        }
        let load = load_average();
        let this_round = race_round(
            Contestant::ALL.len(),
            &w,
            round,
            // Keeps the dirty pages written before (the previous phase's, and
            // in bulk_insert the previous contestant's) out of the time.
            || checkpoint(url, &mut checkpoint_warned),
            |c, p, ops| sessions[c].run(&w, p, ops).map_err(context(c)),
        )?;
        drop(sessions);
        for (c, db) in databases.iter().enumerate() {
            digests.push(verify_final_state(&db.url, &w).map_err(context(c))?);
            let mut line = format!(
                "round {} {:<12} load {load:>5}:",
                round + 1,
                Contestant::ALL[c].label()
            );
            for (name, m) in Phase::ALL.map(Phase::name).iter().zip(&this_round[c]) {
                let _ = write!(line, " {name} {}/s", thousands(m.ops_per_sec()));
            }
            eprintln!("{line}");
        }
        drop(databases);
        results.push(this_round);
    }

    // Same checksums for every contestant and round, and the same rows.
    let reference = &results[0][0];
    for (round, pair) in results.iter().enumerate() {
        for (c, measured) in pair.iter().enumerate() {
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
    ensure(digests.iter().all(|d| *d == digests[0]), || {
        format!("the final rows differ between databases: md5 digests {digests:?}")
    })?;

    let mut table = String::new();
    let pinned = match &config.pin {
        Some(cpu) => format!(", client and backends pinned to CPU {cpu}"),
        None => String::new(),
    };
    let _ = writeln!(
        table,
        "PostgreSQL {session} ({}{pinned}), {started}, N = {}, {} round(s), median over rounds\n",
        server_of(url),
        thousands(config.n as f64),
        config.rounds
    );
    // Only bulk_insert has two forms (1 = A, 2 = B).
    let candidates: [&[usize]; 7] = [&[1, 2], &[1], &[1], &[1], &[1], &[1], &[1]];
    let (_, raced) = fastest_rival(&results, &candidates);
    table.push_str(&ratio_table("postgres (fastest form)", &raced));
    let bulk_rate = |c: usize| median(results.iter().map(|r| r[c][0].ops_per_sec()).collect());
    let _ = writeln!(
        table,
        "\nbulk_insert by the postgres crate: A (INSERT loop) {}/s, B (binary COPY) {}/s.",
        thousands(bulk_rate(1)),
        thousands(bulk_rate(2))
    );
    println!("{table}");
    println!("All checksums equal across contestants and rounds; final state verified.");
    if let Some(path) = &config.json {
        let backend = format!("PostgreSQL {session}");
        write_json(
            path,
            "crud_postgres",
            &backend,
            "postgres",
            &started,
            config.n,
            &raced,
        )?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("crud_postgres benchmark FAILED: {message}");
            ExitCode::FAILURE
        }
    }
}
