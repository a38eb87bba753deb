//! `people copy FROM TO`: every person moves with its id, name and both
//! timestamps, SQLite → PostgreSQL → SQLite and on one backend; the target's
//! sequence starts above every id the source ever handed out; a target that
//! holds anyone is refused with nothing written; a copy that fails part way,
//! reading or writing, leaves the target as it was.

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;

use crate::support::*;

crate::support::tests! {
    plain {
        copy_sqlite_to_postgres_and_back_gives_identical_exports_and_fresh_ids => [POSTGRES],
        copy_sqlite_to_sqlite_keeps_everything => [BINARY],
    }
    per_backend {
        copy_refuses_a_target_that_holds_people_and_writes_nothing => [BINARY],
        copy_that_fails_writing_part_way_leaves_the_target_as_it_was => [BINARY],
        copy_that_fails_reading_part_way_leaves_the_target_as_it_was => [BINARY],
    }
}

/// A source with awkward names, a deleted top id (so its sequence is ahead
/// of its highest id) and a rename (so updated_at differs from created_at).
fn fill_source(run: &Runner) -> i32 {
    run.ok([
        "add",
        "Ada",
        "Zoë Ångström",
        "李小龍",
        "Robert'); DROP TABLE person;--",
        "Bo",
    ]);
    run.ok(["add", "--", "-dash", "ends with a backslash\\"]);
    run.ok(["delete", "7"]);
    run.ok(["rename", "2", "Zoë"]);
    7 // the highest id ever handed out
}

/// Every export format's output.
fn exports(run: &Runner) -> [String; 3] {
    ["lines", "csv", "json"].map(|format| run.ok(["export", "--format", format]))
}

/// `people copy FROM TO`, run in `from`'s directory.
fn copy(from: &Runner, to: &Runner) -> std::process::Output {
    from.cmd(["copy", &from.url, &to.url]).output().unwrap()
}

fn copy_sqlite_to_postgres_and_back_gives_identical_exports_and_fresh_ids() {
    let sqlite = sqlite_db();
    let source = Runner::new(sqlite.url());
    let highest = fill_source(&source);
    let before = exports(&source);

    let pg = postgres_db();
    let middle = Runner::new(pg.url());
    assert_eq!(succeeded(&copy(&source, &middle)), "copied 6 people\n");
    assert_eq!(exports(&middle), before, "SQLite → PostgreSQL");

    let back = sqlite_db();
    let end = Runner::new(back.url());
    assert_eq!(succeeded(&copy(&middle, &end)), "copied 6 people\n");
    assert_eq!(exports(&end), before, "PostgreSQL → SQLite");

    for run in [&middle, &end] {
        let added = run.ok(["add", "Newcomer"]);
        assert_eq!(added, format!("{}\tNewcomer\n", highest + 1), "{}", run.url);
    }
}

fn copy_sqlite_to_sqlite_keeps_everything() {
    let (a, b) = (sqlite_db(), sqlite_db());
    let (source, target) = (Runner::new(a.url()), Runner::new(b.url()));
    let highest = fill_source(&source);
    assert_eq!(succeeded(&copy(&source, &target)), "copied 6 people\n");
    assert_eq!(exports(&target), exports(&source));
    assert_eq!(
        target.ok(["add", "Newcomer"]),
        format!("{}\tNewcomer\n", highest + 1)
    );
    // An empty source copies nothing, and an empty target stays empty.
    let (c, d) = (sqlite_db(), sqlite_db());
    let (empty, other) = (Runner::new(c.url()), Runner::new(d.url()));
    assert_eq!(succeeded(&copy(&empty, &other)), "copied 0 people\n");
    assert_eq!(other.count(), 0);
}

fn copy_refuses_a_target_that_holds_people_and_writes_nothing(db: &TestDb) {
    let source_db = sqlite_db();
    let source = Runner::new(source_db.url());
    fill_source(&source);
    let target = Runner::new(db.url());
    target.ok(["add", "Already here"]);
    let line = one_line_error(&copy(&source, &target));
    assert_eq!(
        line,
        "error: the target database already holds 1 person; copy needs an empty one"
    );
    assert_eq!(target.ok(["list"]), "1\tAlready here\n");
}

/// More people than `copy` moves in one batch (5,000): the reader is still
/// sending when the failures below happen.
const MANY: usize = 12_000;

/// A SQLite source of [`MANY`] people.
fn many_people() -> TestDb {
    let source = sqlite_db();
    let mut conn = people::open(source.url()).unwrap();
    let names = (1..=MANY).map(|i| format!("person-{i}"));
    people::create_many(&mut conn, names, people::OnConflict::Fail).unwrap();
    source
}

/// What must not change: the SQLite file's bytes, or every PostgreSQL row
/// and the id sequence.
fn snapshot(db: &TestDb) -> Vec<u8> {
    match db.backend() {
        people::Backend::Sqlite => std::fs::read(db.url()).unwrap(),
        _ => {
            let run = Runner::new(db.url());
            let mut rows = run.ok(["export", "--format", "json"]).into_bytes();
            let mut conn = people::open(db.url()).unwrap();
            #[derive(diesel::QueryableByName)]
            struct Sequence {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                last_value: i64,
            }
            let sequence: Sequence = diesel::sql_query("SELECT last_value FROM person_id_seq")
                .get_result(&mut conn)
                .unwrap();
            rows.extend(sequence.last_value.to_string().into_bytes());
            rows
        }
    }
}

fn copy_that_fails_writing_part_way_leaves_the_target_as_it_was(db: &TestDb) {
    let source_db = many_people();
    let source = Runner::new(source_db.url());
    // The target refuses id 7,000, in the second batch.
    let refuse = match db.backend() {
        people::Backend::Sqlite => {
            "CREATE TRIGGER refuse BEFORE INSERT ON person WHEN NEW.id = 7000 \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
        }
        _ => {
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               IF NEW.id = 7000 THEN RAISE EXCEPTION 'refused by the test'; END IF; \
               RETURN NEW; END $$; \
             CREATE TRIGGER refuse BEFORE INSERT ON person FOR EACH ROW EXECUTE FUNCTION refuse();"
        }
    };
    people::open(db.url())
        .unwrap()
        .batch_execute(refuse)
        .unwrap();
    let before = snapshot(db);
    let target = Runner::new(db.url());
    let line = one_line_error(&copy(&source, &target));
    assert!(line.contains("refused by the test"), "{line}");
    assert_eq!(snapshot(db), before, "the target changed");
}

fn copy_that_fails_reading_part_way_leaves_the_target_as_it_was(db: &TestDb) {
    let source_db = many_people();
    // Row 7,000 of the source holds a time no reader can parse.
    people::open(source_db.url())
        .unwrap()
        .batch_execute("UPDATE person SET created_at = 'not a time' WHERE id = 7000")
        .unwrap();
    let before = snapshot(db);
    let (source, target) = (Runner::new(source_db.url()), Runner::new(db.url()));
    let line = one_line_error(&copy(&source, &target));
    assert!(line.contains("not a time"), "{line}");
    assert_eq!(snapshot(db), before, "the target changed");
}
