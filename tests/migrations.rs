//! Embedded migrations: applied once, reversible, refused when newer, safe
//! to start from several processes at once; and the SQLite file setup.

use crate::support::*;
use diesel::RunQueryDsl;
use diesel_migrations::MigrationHarness;
use people::{DbConnection, Error};

/// Every version, oldest first, and as `people migrate` prints them.
const VERSIONS: [&str; 2] = [crate::upgrade::V1, crate::upgrade::V2];
const ALL_APPLIED: &str = "20250101000000\n20261126000000\n";

crate::support::tests! {
    plain {
        sqlite_files_get_wal_foreign_keys_and_a_busy_timeout,
        synchronous_full_in_the_url_applies_to_every_connection_pooled_too,
        the_wal_file_stays_small_after_20000_single_creates,
        an_in_memory_database_lives_as_long_as_its_connection,
        sqlite_urls_in_every_spelling_open_the_same_file,
        unknown_url_schemes_are_refused,
        migrate_creates_a_missing_postgres_database => [POSTGRES, BINARY],
    }
    per_backend {
        migrations_apply_once_and_report_their_versions,
        migrations_revert_and_redo_cleanly,
        a_newer_schema_is_refused_and_left_alone,
        four_processes_migrating_a_fresh_database_at_once_apply_it_exactly_once => [BINARY],
    }
}

/// A database with no tables at all, on the same server or in the same folder as `db`.
fn empty_database_url(db: &TestDb) -> (String, Option<tempfile::TempDir>, Option<TestDb>) {
    match db.backend() {
        people::Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = dir.path().join("fresh.db").display().to_string();
            (url, Some(dir), None)
        }
        _ => {
            // A TestDb, with its migrations reverted: empty but for the bookkeeping table.
            let fresh = crate::support::postgres_db();
            let mut conn = fresh.connect().unwrap();
            revert_all(&mut conn);
            drop_bookkeeping(&mut conn);
            (fresh.url().to_owned(), None, Some(fresh))
        }
    }
}

fn revert_all(conn: &mut DbConnection) {
    match conn {
        DbConnection::Sqlite(c) => {
            c.revert_all_migrations(people::migrations::SQLITE).unwrap();
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => {
            c.revert_all_migrations(people::migrations::POSTGRES)
                .unwrap();
        }
        _ => panic!("a backend this test does not know"),
    }
}

fn drop_bookkeeping(conn: &mut DbConnection) {
    diesel::sql_query("DROP TABLE __diesel_schema_migrations")
        .execute(conn)
        .unwrap();
}

fn migrations_apply_once_and_report_their_versions(db: &TestDb) {
    let (url, _dir, _pg) = empty_database_url(db);
    let mut conn = people::open(&url).unwrap();
    assert_eq!(
        people::migrations::run_migrations(&mut conn).unwrap(),
        VERSIONS
    );
    assert!(
        people::migrations::run_migrations(&mut conn)
            .unwrap()
            .is_empty()
    );
    assert_eq!(people::count(&mut conn).unwrap(), 0);
}

fn migrations_revert_and_redo_cleanly(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    people::create(&mut conn, "Alice").unwrap();
    revert_all(&mut conn);
    assert!(
        people::count(&mut conn).is_err(),
        "person table should be gone"
    );
    assert_eq!(
        people::migrations::run_migrations(&mut conn).unwrap(),
        VERSIONS
    );
    assert_eq!(people::count(&mut conn).unwrap(), 0);
    people::create(&mut conn, "Alice").unwrap();
}

fn a_newer_schema_is_refused_and_left_alone(db: &TestDb) {
    {
        let mut conn = db.connect().unwrap();
        people::create(&mut conn, "Alice").unwrap();
        diesel::sql_query(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('20990101000000')",
        )
        .execute(&mut conn)
        .unwrap();
    }
    let before = snapshot(db);
    match people::init(db.url()) {
        Err(Error::SchemaTooNew { versions }) => assert_eq!(versions, ["20990101000000"]),
        Err(other) => panic!("expected SchemaTooNew, got {other:?}"),
        Ok(_) => panic!("a newer schema was accepted"),
    }
    let err = people::init(db.url()).err().unwrap().to_string();
    assert!(
        err.contains("newer than this build") && err.contains("upgrade people"),
        "{err}"
    );
    assert_eq!(snapshot(db), before, "the database changed");
}

/// What must not change: the SQLite file's bytes, or the PostgreSQL rows.
fn snapshot(db: &TestDb) -> Vec<u8> {
    match db.backend() {
        people::Backend::Sqlite => std::fs::read(db.url()).unwrap(),
        _ => {
            let mut conn = people::open(db.url()).unwrap();
            #[derive(diesel::QueryableByName)]
            struct Row {
                #[diesel(sql_type = diesel::sql_types::Text)]
                row: String,
            }
            let rows: Vec<Row> = diesel::sql_query(
                "SELECT version::text || '|' || (SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM person) AS row \
                 FROM __diesel_schema_migrations ORDER BY version",
            )
            .load(&mut conn)
            .unwrap();
            rows.into_iter().flat_map(|r| r.row.into_bytes()).collect()
        }
    }
}

fn four_processes_migrating_a_fresh_database_at_once_apply_it_exactly_once(db: &TestDb) {
    for _trial in 0..3 {
        let (url, _dir, _pg) = empty_database_url(db);
        let children: Vec<_> = (0..4)
            .map(|_| {
                std::process::Command::new(PEOPLE)
                    .args(["--database-url", &url, "migrate"])
                    .env_remove("DATABASE_URL")
                    .output_spawn()
            })
            .collect();
        let outputs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        for output in &outputs {
            assert!(
                output.status.success(),
                "stderr: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let stdouts: Vec<String> = outputs
            .iter()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .collect();
        let applied = stdouts.iter().filter(|s| *s == ALL_APPLIED).count();
        let up_to_date = stdouts.iter().filter(|s| s.trim() == "up to date").count();
        assert_eq!((applied, up_to_date), (1, 3), "{stdouts:?}");
    }
}

trait SpawnPiped {
    fn output_spawn(&mut self) -> std::process::Child;
}

impl SpawnPiped for std::process::Command {
    fn output_spawn(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// An SQLite setting, read back from the connection.
fn pragma(conn: &mut DbConnection, name: &str, column: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let query = format!("SELECT CAST({column} AS TEXT) AS value FROM pragma_{name}");
    let rows: Vec<Setting> = diesel::sql_query(query).load(conn).unwrap();
    rows.into_iter().next().unwrap().value
}

fn sqlite_files_get_wal_foreign_keys_and_a_busy_timeout() {
    let db = TestDb::sqlite().unwrap();
    let mut conn = db.connect().unwrap();
    assert_eq!(pragma(&mut conn, "journal_mode", "journal_mode"), "wal");
    assert_eq!(pragma(&mut conn, "foreign_keys", "foreign_keys"), "1");
    assert_eq!(pragma(&mut conn, "synchronous", "synchronous"), "1"); // NORMAL
    assert_eq!(pragma(&mut conn, "busy_timeout", "timeout"), "5000");
}

fn synchronous_full_in_the_url_applies_to_every_connection_pooled_too() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "file:{}?synchronous=full",
        dir.path().join("durable.db").display()
    );
    let mut conn = people::init(&url).unwrap();
    assert_eq!(pragma(&mut conn, "synchronous", "synchronous"), "2"); // FULL
    let pool = people::Pool::new(&url).unwrap();
    let (mut a, mut b) = (pool.get().unwrap(), pool.get().unwrap());
    assert_eq!(pragma(&mut a, "synchronous", "synchronous"), "2");
    assert_eq!(pragma(&mut b, "synchronous", "synchronous"), "2");
    people::create(&mut a, "Alice").unwrap();
    // The parameter is ours: the file is durable.db, not "durable.db?synchronous=full".
    assert!(dir.path().join("durable.db").exists());
    assert_eq!(
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains('?'))
            .count(),
        0
    );
}

fn the_wal_file_stays_small_after_20000_single_creates() {
    let db = TestDb::sqlite().unwrap();
    let mut conn = db.connect().unwrap();
    for i in 0..20_000 {
        people::create(&mut conn, format!("person {i}")).unwrap();
    }
    let wal = std::path::PathBuf::from(format!("{}-wal", db.url()));
    let size = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert!(
        size < 10 * 1024 * 1024,
        "-wal is {size} bytes after 20,000 creates"
    );
}

fn an_in_memory_database_lives_as_long_as_its_connection() {
    let mut conn = people::init(":memory:").unwrap();
    people::create(&mut conn, "Alice").unwrap();
    assert_eq!(people::count(&mut conn).unwrap(), 1);
    let mut other = people::init(":memory:").unwrap();
    assert_eq!(people::count(&mut other).unwrap(), 0);
}

fn sqlite_urls_in_every_spelling_open_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spelled.db");
    let path = path.display();
    people::create(&mut people::init(path.to_string()).unwrap(), "Alice").unwrap();
    for url in [format!("sqlite://{path}"), format!("file:{path}")] {
        let mut conn = people::init(&url).unwrap();
        assert_eq!(people::count(&mut conn).unwrap(), 1, "{url}");
    }
}

fn unknown_url_schemes_are_refused() {
    let err = people::init("mysql://root@localhost/db").err().unwrap();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err:?}");
}

fn migrate_creates_a_missing_postgres_database() {
    let name = format!("people_migrate_creates_{}", std::process::id());
    let url = crate::support::postgres_database_url(&name);
    let run = || {
        std::process::Command::new(PEOPLE)
            .args(["--database-url", &url, "migrate"])
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    };
    let first = run();
    let second = run();
    let mut admin = people::open(crate::support::postgres_database_url("postgres")).unwrap();
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&first.stdout), ALL_APPLIED);
    assert!(String::from_utf8_lossy(&first.stderr).starts_with("created database"));
    assert_eq!(String::from_utf8_lossy(&second.stdout), "up to date\n");
    assert!(second.stderr.is_empty());
}
