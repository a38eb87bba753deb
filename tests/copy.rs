//! `people copy FROM TO`: every person moves with its id, name and both
//! timestamps, SQLite → PostgreSQL → SQLite and on one backend; the target's
//! sequence starts above every id the source ever handed out; a target that
//! holds anyone is refused with nothing written.

use crate::support::*;

crate::support::tests! {
    plain {
        copy_sqlite_to_postgres_and_back_gives_identical_exports_and_fresh_ids => [POSTGRES],
        copy_sqlite_to_sqlite_keeps_everything => [BINARY],
    }
    per_backend {
        copy_refuses_a_target_that_holds_people_and_writes_nothing => [BINARY],
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
