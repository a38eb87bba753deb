//! Migration 2 (timestamps) on databases that hold data: the golden v1 file
//! made by the release before it, v1 databases built by running only the
//! first migration on each backend, four processes opening one v1 database
//! at once, and `migrate --status`. Every row keeps its id and name, the
//! constraints still hold, and no id deleted before the upgrade comes back.

use std::path::Path;

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel_migrations::MigrationHarness;
use people::{DbConnection, Error};

use crate::support::*;

crate::support::tests! {
    plain {
        the_golden_v1_file_upgrades_on_first_open_row_by_row,
    }
    per_backend {
        a_v1_database_with_rows_upgrades_keeping_ids_names_and_the_sequence,
        the_upgraded_table_still_refuses_what_the_model_refuses,
        four_processes_opening_one_v1_database_at_once_upgrade_it_once => [BINARY],
        migrate_status_lists_applied_and_pending_versions => [BINARY],
        migration_2_reverts_and_redoes_on_a_database_with_rows,
    }
}

pub(crate) const V1: &str = "20250101000000";
pub(crate) const V2: &str = "20261126000000";

/// The golden file: made by `people` at the last v1 commit (0be8b9c) with
/// `add` and `delete`, closed cleanly (WAL checkpointed, no -wal file).
const GOLDEN_V1: &str = "tests/fixtures/v1/people-v1.db";

/// Its rows, and the highest id it ever handed out (10, 11, 12 were deleted).
fn golden_rows() -> Vec<(i32, String)> {
    [
        "Alice",
        "Zoë Ångström",
        "李小龍",
        "Ferris 🦀",
        "نجيب محفوظ",
        "Robert'); DROP TABLE person;--",
        "e\u{301}tude",
        "ends with a backslash\\",
    ]
    .iter()
    .map(|name| name.to_string())
    .chain(["é".repeat(80)])
    .enumerate()
    .map(|(i, name)| (i as i32 + 1, name))
    .collect()
}
const GOLDEN_HIGHEST_ID: i32 = 12;

/// Every (id, name), by id.
pub(crate) fn rows(conn: &mut DbConnection) -> Vec<(i32, String)> {
    people::list(conn, None, i64::MAX)
        .unwrap()
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect()
}

/// The applied versions, oldest first.
pub(crate) fn applied(conn: &mut DbConnection) -> Vec<String> {
    people::migrations::status(conn)
        .unwrap()
        .into_iter()
        .filter(|m| m.state == people::migrations::State::Applied)
        .map(|m| m.version)
        .collect()
}

fn the_golden_v1_file_upgrades_on_first_open_row_by_row() {
    let dir = temp_dir();
    let path = dir.path().join("people.db");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN_V1), &path).unwrap();
    let url = path.display().to_string();
    {
        let mut before = people::open(&url).unwrap();
        assert_eq!(applied(&mut before), [V1], "the golden file is not v1");
    }
    let started = chrono::Utc::now();
    let mut conn = people::init(&url).unwrap();
    assert_eq!(applied(&mut conn), [V1, V2]);
    assert_eq!(rows(&mut conn), golden_rows());
    // Rows that existed before the upgrade carry the time of the upgrade.
    for person in people::list(&mut conn, None, 100).unwrap() {
        assert_eq!(person.created_at, person.updated_at, "{person:?}");
        assert!(
            person.created_at >= started - chrono::TimeDelta::seconds(1),
            "{person:?}"
        );
        assert!(person.created_at <= chrono::Utc::now(), "{person:?}");
    }
    // No id deleted before the upgrade is handed out after it.
    let next = people::create(&mut conn, "After the upgrade").unwrap();
    assert_eq!(next.id, GOLDEN_HIGHEST_ID + 1);
    drop(conn);
    let wal = dir.path().join("people.db-wal");
    let wal_size = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert!(
        wal_size < 1024 * 1024,
        "-wal is {wal_size} bytes after the upgrade"
    );
}

/// A fresh database on `db`'s backend at v1 only, holding `names` and with
/// the top `deleted` ids deleted. Returns its URL (and what keeps it alive).
pub(crate) fn v1_database(
    db: &TestDb,
    names: usize,
    deleted: usize,
) -> (String, Option<tempfile::TempDir>, Option<TestDb>) {
    let (url, dir, pg) = match db.backend() {
        people::Backend::Sqlite => {
            let dir = temp_dir();
            (
                dir.path().join("v1.db").display().to_string(),
                Some(dir),
                None,
            )
        }
        _ => {
            let fresh = postgres_db();
            (fresh.url().to_owned(), None, Some(fresh))
        }
    };
    let mut conn = people::open(&url).unwrap();
    match &mut conn {
        DbConnection::Sqlite(c) => {
            // A fresh file: run only the first migration (WAL, as people makes it).
            c.batch_execute("PRAGMA journal_mode = WAL").unwrap();
            c.run_next_migration(people::migrations::SQLITE).unwrap();
            c.batch_execute(&format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {names}) \
                 INSERT INTO person (name) SELECT 'person-' || i FROM n"
            ))
            .unwrap();
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => {
            // A TestDb is migrated: take migration 2 back off.
            c.revert_last_migration(people::migrations::POSTGRES)
                .unwrap();
            c.batch_execute(&format!(
                "INSERT INTO person (name) SELECT 'person-' || i FROM generate_series(1, {names}) AS i"
            ))
            .unwrap();
        }
        _ => panic!("a backend this test does not know"),
    }
    diesel::sql_query(format!("DELETE FROM person WHERE id > {}", names - deleted))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(applied(&mut conn), [V1]);
    (url, dir, pg)
}

fn a_v1_database_with_rows_upgrades_keeping_ids_names_and_the_sequence(db: &TestDb) {
    let (url, _dir, _pg) = v1_database(db, 1_000, 3);
    let mut conn = people::init(&url).unwrap();
    assert_eq!(applied(&mut conn), [V1, V2]);
    let expected: Vec<(i32, String)> = (1..=997).map(|i| (i, format!("person-{i}"))).collect();
    assert_eq!(rows(&mut conn), expected);
    assert_eq!(people::create(&mut conn, "new").unwrap().id, 1_001);
}

fn the_upgraded_table_still_refuses_what_the_model_refuses(db: &TestDb) {
    let (url, _dir, _pg) = v1_database(db, 10, 0);
    let mut conn = people::init(&url).unwrap();
    assert!(matches!(
        people::create(&mut conn, "person-3"),
        Err(Error::NameTaken { .. })
    ));
    let statements = [
        // UNIQUE
        "INSERT INTO person (name) VALUES ('person-4')",
        // The length CHECK, counting characters.
        &format!("INSERT INTO person (name) VALUES ('{}')", "é".repeat(81)),
        "INSERT INTO person (name) VALUES ('')",
    ];
    for sql in statements {
        let refused = diesel::sql_query(sql).execute(&mut conn);
        assert!(refused.is_err(), "{sql} was accepted");
    }
    if db.backend() == people::Backend::Sqlite {
        // The id CHECK: SQLite ids are 64-bit, the model's 32.
        let refused = diesel::sql_query("INSERT INTO person (id, name) VALUES (4294967298, 'big')")
            .execute(&mut conn);
        assert!(refused.is_err(), "a 64-bit id was accepted");
    }
    assert_eq!(people::count(&mut conn).unwrap(), 10);
}

fn four_processes_opening_one_v1_database_at_once_upgrade_it_once(db: &TestDb) {
    for _trial in 0..3 {
        let (url, _dir, _pg) = v1_database(db, 20_000, 0);
        let children: Vec<_> = (0..4)
            .map(|_| {
                std::process::Command::new(PEOPLE)
                    .args(["--database-url", &url, "migrate"])
                    .env_remove("DATABASE_URL")
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outputs: Vec<_> = children
            .into_iter()
            .map(|child| child.wait_with_output().unwrap())
            .collect();
        let stdouts: Vec<String> = outputs
            .iter()
            .map(|output| succeeded(output).trim().to_owned())
            .collect();
        let upgraded = stdouts.iter().filter(|out| *out == V2).count();
        let waited = stdouts.iter().filter(|out| *out == "up to date").count();
        assert_eq!((upgraded, waited), (1, 3), "{stdouts:?}");
        let mut conn = people::init(&url).unwrap();
        assert_eq!(people::count(&mut conn).unwrap(), 20_000);
    }
}

fn migrate_status_lists_applied_and_pending_versions(db: &TestDb) {
    let (url, _dir, _pg) = v1_database(db, 3, 0);
    let run = Runner::new(&url);
    let pending = format!(
        "applied\t{V1}\t2025-01-01-000000_create_person\n\
         pending\t{V2}\t2026-11-26-000000_add_timestamps\n"
    );
    assert_eq!(run.ok(["migrate", "--status"]), pending);
    // --status changes nothing.
    assert_eq!(run.ok(["migrate", "--status"]), pending);
    assert_eq!(run.ok(["migrate"]), format!("{V2}\n"));
    assert_eq!(
        run.ok(["migrate", "--status"]),
        format!(
            "applied\t{V1}\t2025-01-01-000000_create_person\n\
             applied\t{V2}\t2026-11-26-000000_add_timestamps\n"
        )
    );
}

fn migration_2_reverts_and_redoes_on_a_database_with_rows(db: &TestDb) {
    let (url, _dir, _pg) = v1_database(db, 50, 5);
    let mut conn = people::init(&url).unwrap();
    let before = rows(&mut conn);
    match &mut conn {
        DbConnection::Sqlite(c) => {
            c.revert_last_migration(people::migrations::SQLITE).unwrap();
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => {
            c.revert_last_migration(people::migrations::POSTGRES)
                .unwrap();
        }
        _ => panic!("a backend this test does not know"),
    }
    assert_eq!(applied(&mut conn), [V1]);
    assert_eq!(people::migrations::run_migrations(&mut conn).unwrap(), [V2]);
    assert_eq!(rows(&mut conn), before);
    assert_eq!(people::create(&mut conn, "after redo").unwrap().id, 51);
}
