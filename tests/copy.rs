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
        copy_whose_commit_fails_leaves_the_postgres_target_and_its_sequence_as_they_were => [POSTGRES],
        copy_by_a_user_who_does_not_own_the_sequence_still_moves_it => [POSTGRES],
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
                #[diesel(sql_type = diesel::sql_types::Bool)]
                is_called: bool,
            }
            let sequence: Sequence =
                diesel::sql_query("SELECT last_value, is_called FROM person_id_seq")
                    .get_result(&mut conn)
                    .unwrap();
            let Sequence {
                last_value,
                is_called,
            } = sequence;
            rows.extend(format!("{last_value} {is_called}").into_bytes());
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

/// PostgreSQL's `setval` is not transactional: a copy that set the sequence
/// with it and then failed to COMMIT left the empty target handing out ids
/// from the source's highest on.
fn copy_whose_commit_fails_leaves_the_postgres_target_and_its_sequence_as_they_were() {
    let source_db = sqlite_db();
    let source = Runner::new(source_db.url());
    fill_source(&source);
    let db = postgres_db();
    // A deferred constraint trigger fails the COMMIT itself, after every
    // row and the sequence were written.
    people::open(db.url())
        .unwrap()
        .batch_execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               RAISE EXCEPTION 'refused at commit by the test'; END $$; \
             CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON person \
               DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse();",
        )
        .unwrap();
    let before = snapshot(&db);
    let target = Runner::new(db.url());
    let line = one_line_error(&copy(&source, &target));
    assert!(line.contains("refused at commit by the test"), "{line}");
    assert_eq!(snapshot(&db), before, "the target changed");
    people::open(db.url())
        .unwrap()
        .batch_execute("DROP TRIGGER refuse ON person")
        .unwrap();
    assert_eq!(target.ok(["add", "First"]), "1\tFirst\n");
}

/// A PostgreSQL role made for one test, dropped (with its grants) when this is.
struct Role {
    name: String,
    db_url: String,
}

impl Role {
    /// A role that may log in to `db` and has only `grants` (`{role}` is its name).
    fn new(db: &TestDb, grants: &str) -> Role {
        let database = db
            .url()
            .rsplit('/')
            .next()
            .unwrap()
            .split('?')
            .next()
            .unwrap();
        let role = Role {
            name: format!("{database}_role"),
            db_url: db.url().to_owned(),
        };
        let mut admin = people::open(db.url()).unwrap();
        admin
            .batch_execute(&format!(
                "CREATE ROLE {name} LOGIN; {grants}",
                name = role.name,
                grants = grants.replace("{role}", &role.name)
            ))
            .unwrap();
        role
    }

    /// `db`'s URL with this role as its user.
    fn url(&self) -> String {
        let start = self.db_url.find("://").unwrap() + 3;
        let at = start + self.db_url[start..].find('@').unwrap();
        format!(
            "{}{}{}",
            &self.db_url[..start],
            self.name,
            &self.db_url[at..]
        )
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        if let Ok(mut admin) = people::open(self.db_url.as_str()) {
            let name = &self.name;
            let _ = admin.batch_execute(&format!("DROP OWNED BY {name}; DROP ROLE {name}"));
        }
    }
}

/// An app's role that may write `person` but does not own its sequence
/// (the migrating role does) cannot ALTER the sequence: `copy` moves it with
/// `setval` instead.
fn copy_by_a_user_who_does_not_own_the_sequence_still_moves_it() {
    let source_db = sqlite_db();
    let source = Runner::new(source_db.url());
    let highest = fill_source(&source);
    let db = postgres_db();
    let role = Role::new(
        &db,
        "GRANT SELECT, INSERT ON person, __diesel_schema_migrations TO {role}; \
         GRANT USAGE, UPDATE ON SEQUENCE person_id_seq TO {role};",
    );
    let target = Runner::new(&role.url());
    assert_eq!(succeeded(&copy(&source, &target)), "copied 6 people\n");
    assert_eq!(
        Runner::new(db.url()).ok(["add", "Newcomer"]),
        format!("{}\tNewcomer\n", highest + 1)
    );
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
    assert_eq!(
        line,
        "error: person 7000 cannot be read: its created_at is not valid: Invalid datetime not a time"
    );
    assert_eq!(snapshot(db), before, "the target changed");
}
