//! Adopting what real Flask-SQLAlchemy made (`tests/fixtures/flask/`): every
//! command refuses such a database in one line and changes nothing; `people
//! adopt` checks the table and every row, lists the rows that break the
//! model's rules (writing nothing), or takes the table over keeping every id
//! and name, after which the database itself refuses what the model refuses.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl};

use crate::support::*;

crate::support::tests! {
    plain {
        any_command_refuses_a_flask_sqlite_file_and_leaves_its_bytes,
        adopt_takes_over_the_flask_sqlite_file_keeping_every_id_and_name,
        adopt_lists_the_bad_rows_of_a_flask_sqlite_file_and_changes_nothing,
        any_command_refuses_a_flask_postgres_database_and_creates_nothing => [POSTGRES],
        adopt_takes_over_the_flask_postgres_database_keeping_ids_and_its_sequence => [POSTGRES],
        adopt_lists_the_bad_rows_of_a_flask_postgres_database_and_changes_nothing => [POSTGRES],
    }
    per_backend {
        adopt_refuses_a_table_of_another_shape_naming_the_differences,
        adopt_refuses_a_database_people_already_manages,
    }
}

/// The rows of `flask_tutorial.db` / `postgres.sql` (tests/fixtures/flask/README.md).
fn flask_rows() -> Vec<(i32, String)> {
    [
        (1, "Alice".to_owned()),
        (2, "Zo\u{eb} \u{c5}ngstr\u{f6}m".to_owned()),
        (3, "李小龍".to_owned()),
        (4, "Ferris 🦀".to_owned()),
        (5, "نجيب محفوظ".to_owned()),
        (7, "Conan O'Brien".to_owned()),
        (8, "Ann_Marie 100%".to_owned()),
        (9, "é".repeat(80)),
        (10, "Robert'); DROP TABLE person;--".to_owned()),
        (11, "Zoe\u{308} A\u{30a}ngstro\u{308}m".to_owned()),
        (12, "alice".to_owned()),
    ]
    .into()
}

/// The bad rows of the `_bad` fixtures: id and the rule, as `adopt` words it.
const FLASK_BAD_ROWS: &[(i64, &str)] = &[
    (2, "a name cannot be empty"),
    (3, "\"Trailing \" has leading or trailing whitespace"),
    (4, "\" Leading\" has leading or trailing whitespace"),
    (
        6,
        "\"Tab\\there\" contains the control character '\\t' at position 4",
    ),
    (
        7,
        "\"Line\\nbreak\" contains the control character '\\n' at position 5",
    ),
    (8, "\"\\u{a0}Nbsp\" has leading or trailing whitespace"),
];

/// A copy of an SQLite fixture in a new directory.
fn flask_file(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = temp_dir();
    let path = dir.path().join("flask.db");
    std::fs::copy(fixture(&format!("flask/{name}")), &path).unwrap();
    (dir, path)
}

/// Every file in `dir` with its bytes.
fn snapshot_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            (path.display().to_string(), std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// (id, name) by id, read with plain Diesel (people refuses the file).
fn raw_sqlite_rows(path: &Path) -> Vec<(i32, String)> {
    let mut conn = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        id: i32,
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let rows: Vec<Row> = diesel::sql_query("SELECT id, name FROM person ORDER BY id")
        .load(&mut conn)
        .unwrap();
    rows.into_iter().map(|r| (r.id, r.name)).collect()
}

/// `ID<TAB>NAME` lines.
fn listing(rows: &[(i32, String)]) -> String {
    rows.iter()
        .map(|(id, name)| format!("{id}\t{name}\n"))
        .collect()
}

/// Asserts a refusal that names `people adopt`.
#[track_caller]
fn refused_for_adoption(output: &std::process::Output) {
    let line = one_line_error(output);
    assert!(
        line.contains("person table but no people migration history")
            && line.contains("`people adopt`"),
        "{line}"
    );
}

fn any_command_refuses_a_flask_sqlite_file_and_leaves_its_bytes() {
    let (dir, path) = flask_file("flask_tutorial.db");
    let before = snapshot_dir(dir.path());
    let run = Runner::new(&path.display().to_string());
    let input = run.file("names.txt", "Zed\n");
    for args in crate::faults::every_command(&input) {
        refused_for_adoption(&run.output(&args));
        assert_eq!(
            snapshot_dir(dir.path()),
            before,
            "{args:?} changed the files"
        );
    }
}

fn adopt_takes_over_the_flask_sqlite_file_keeping_every_id_and_name() {
    let (_dir, path) = flask_file("flask_tutorial.db");
    assert_eq!(raw_sqlite_rows(&path), flask_rows());
    let run = Runner::new(&path.display().to_string());
    assert_eq!(run.ok(["adopt"]), "adopted 11 people\n");
    assert_eq!(run.ok(["list"]), listing(&flask_rows()));
    assert_eq!(run.ok(["migrate"]), "up to date\n");
    // The sequence starts above the highest id; the rules hold in the database.
    assert_eq!(run.ok(["add", "Grace"]), "13\tGrace\n");
    let mut conn = people::init(path.display().to_string()).unwrap();
    for sql in [
        format!("INSERT INTO person (name) VALUES ('{}')", "é".repeat(81)),
        "INSERT INTO person (name) VALUES ('')".to_owned(),
        "INSERT INTO person (name) VALUES ('alice')".to_owned(),
    ] {
        assert!(diesel::sql_query(&sql).execute(&mut conn).is_err(), "{sql}");
    }
    // Another program's insert and update get true timestamps.
    conn.batch_execute("INSERT INTO person (name) VALUES ('Flask''s insert')")
        .unwrap();
    let inserted = people::find_by_name(&mut conn, "Flask's insert")
        .unwrap()
        .unwrap();
    assert_eq!(
        inserted.created_at.date_naive(),
        chrono::Utc::now().date_naive()
    );
    std::thread::sleep(std::time::Duration::from_millis(5));
    conn.batch_execute("UPDATE person SET name = 'Flask''s update' WHERE name = 'Flask''s insert'")
        .unwrap();
    let updated = people::get(&mut conn, inserted.id).unwrap();
    assert_eq!(updated.created_at, inserted.created_at);
    assert!(updated.updated_at > inserted.updated_at, "{updated:?}");
    assert!(run.fails(["adopt"]).contains("already manages"));
}

fn adopt_lists_the_bad_rows_of_a_flask_sqlite_file_and_changes_nothing() {
    let (dir, path) = flask_file("flask_tutorial_bad.db");
    let before = snapshot_dir(dir.path());
    let run = Runner::new(&path.display().to_string());
    let output = run.output(["adopt"]);
    let line = crate::support::one_line_error_after_output(&output);
    let mut expected: Vec<(i64, String)> = FLASK_BAD_ROWS
        .iter()
        .map(|(id, reason)| (*id, reason.to_string()))
        .collect();
    // SQLite stored the 81-character name Flask gave it (PostgreSQL did not).
    expected.push((
        10,
        format!("\"{}…\" is longer than 80 characters", "é".repeat(24)),
    ));
    let listed: String = expected
        .iter()
        .map(|(id, reason)| format!("{id}\t{reason}\n"))
        .collect();
    assert_eq!(String::from_utf8_lossy(&output.stdout), listed);
    assert_eq!(
        line,
        "error: cannot adopt the database: 7 row(s) break the model's rules; nothing was changed"
    );
    assert_eq!(snapshot_dir(dir.path()), before, "adopt changed the files");
}

/// A blank PostgreSQL database with `fixture` replayed into it: what
/// Flask-SQLAlchemy's create_all() and session made (its echo output).
#[cfg(feature = "postgres")]
fn flask_postgres(fixture_name: &str) -> BlankPostgres {
    let blank = BlankPostgres::new();
    let sql = std::fs::read_to_string(fixture(&format!("flask/{fixture_name}"))).unwrap();
    people::open(&blank.url)
        .unwrap()
        .batch_execute(&sql)
        .unwrap();
    blank
}

/// Everything a refused command must not change: the tables, the rows, the
/// sequence and the constraints.
#[cfg(feature = "postgres")]
fn postgres_snapshot(db: &BlankPostgres) -> String {
    #[derive(diesel::QueryableByName)]
    struct Snapshot {
        #[diesel(sql_type = diesel::sql_types::Text)]
        state: String,
    }
    let mut conn = people::open(&db.url).unwrap();
    let snapshot: Snapshot = diesel::sql_query(
        "SELECT concat_ws(' | ', \
            (SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'), \
            (SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM person), \
            (SELECT last_value::text FROM person_id_seq), \
            (SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint \
             WHERE conrelid = 'person'::regclass)) AS state",
    )
    .get_result(pg(&mut conn))
    .unwrap();
    snapshot.state
}

#[cfg(feature = "postgres")]
fn any_command_refuses_a_flask_postgres_database_and_creates_nothing() {
    let db = flask_postgres("postgres.sql");
    let before = postgres_snapshot(&db);
    assert_eq!(db.tables(), ["person"]);
    let run = Runner::new(&db.url);
    let input = run.file("names.txt", "Zed\n");
    for args in crate::faults::every_command(&input) {
        refused_for_adoption(&run.output(&args));
        assert_eq!(
            postgres_snapshot(&db),
            before,
            "{args:?} changed the database"
        );
    }
    assert_eq!(db.tables(), ["person"]);
}

#[cfg(feature = "postgres")]
fn adopt_takes_over_the_flask_postgres_database_keeping_ids_and_its_sequence() {
    let db = flask_postgres("postgres.sql");
    let run = Runner::new(&db.url);
    assert_eq!(run.ok(["adopt"]), "adopted 11 people\n");
    assert_eq!(run.ok(["list"]), listing(&flask_rows()));
    // Flask's sequence had handed out 13 (Trent, deleted): it is kept.
    assert_eq!(run.ok(["add", "Grace"]), "14\tGrace\n");
    let mut conn = people::init(&db.url).unwrap();
    for sql in [
        "INSERT INTO person (name) VALUES ('')".to_owned(),
        format!("INSERT INTO person (name) VALUES ('{}')", "é".repeat(81)),
    ] {
        assert!(diesel::sql_query(&sql).execute(&mut conn).is_err(), "{sql}");
    }
    assert_eq!(db.tables(), ["__diesel_schema_migrations", "person"]);
}

#[cfg(feature = "postgres")]
fn adopt_lists_the_bad_rows_of_a_flask_postgres_database_and_changes_nothing() {
    let db = flask_postgres("postgres_bad.sql");
    let before = postgres_snapshot(&db);
    let output = Runner::new(&db.url).output(["adopt"]);
    let line = crate::support::one_line_error_after_output(&output);
    let listed: String = FLASK_BAD_ROWS
        .iter()
        .map(|(id, reason)| format!("{id}\t{reason}\n"))
        .collect();
    assert_eq!(String::from_utf8_lossy(&output.stdout), listed);
    assert!(line.contains("6 row(s) break the model's rules"), "{line}");
    assert_eq!(postgres_snapshot(&db), before);
}

/// A database on `db`'s backend holding only `ddl`'s tables.
fn foreign_database(db: &TestDb, ddl: &str) -> (String, Box<dyn std::any::Any>) {
    match db.backend() {
        people::Backend::Sqlite => {
            let dir = temp_dir();
            let url = dir.path().join("foreign.db").display().to_string();
            people::open(&url).unwrap().batch_execute(ddl).unwrap();
            (url, Box::new(dir))
        }
        _ => {
            #[cfg(feature = "postgres")]
            {
                let blank = BlankPostgres::new();
                people::open(&blank.url)
                    .unwrap()
                    .batch_execute(ddl)
                    .unwrap();
                (blank.url.clone(), Box::new(blank))
            }
            #[cfg(not(feature = "postgres"))]
            panic!("built without postgres")
        }
    }
}

fn adopt_refuses_a_table_of_another_shape_naming_the_differences(db: &TestDb) {
    let serial = match db.backend() {
        people::Backend::Sqlite => "INTEGER",
        _ => "SERIAL",
    };
    let cases = [
        (
            format!(
                "CREATE TABLE person (id {serial} PRIMARY KEY, name VARCHAR(80) NOT NULL UNIQUE, email TEXT)"
            ),
            "column \"email\" (text) is not in the model",
        ),
        (
            format!("CREATE TABLE person (id {serial} PRIMARY KEY, name VARCHAR(80) NOT NULL)"),
            "name is not UNIQUE",
        ),
        (
            "CREATE TABLE person (id TEXT PRIMARY KEY, name VARCHAR(80) NOT NULL UNIQUE)"
                .to_owned(),
            "id is text, the model needs an integer",
        ),
        (
            format!("CREATE TABLE person (id {serial} PRIMARY KEY, name VARCHAR(80) UNIQUE)"),
            "name may be NULL",
        ),
    ];
    for (ddl, difference) in cases {
        let (url, _keep) = foreign_database(db, &ddl);
        let mut conn = people::open(&url).unwrap();
        match people::adopt::adopt(&mut conn, |row| panic!("no rows, yet {row:?}")) {
            Err(people::Error::AdoptionRefused { reason }) => {
                assert!(reason.contains(difference), "{ddl}: {reason}");
            }
            other => panic!("{ddl}: {other:?}"),
        }
        assert!(matches!(
            people::migrations::run_migrations(&mut conn),
            Err(people::Error::NeedsAdoption)
        ));
    }
}

fn adopt_refuses_a_database_people_already_manages(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    people::create(&mut conn, "Ada").unwrap();
    match people::adopt::adopt(&mut conn, |_| {}) {
        Err(people::Error::AdoptionRefused { reason }) => {
            assert!(reason.contains("already manages"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(people::count(&mut conn).unwrap(), 1);
}
