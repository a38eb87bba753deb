//! `rename`, `delete` and `count`.

use crate::support::*;

crate::support::tests! {
    per_backend {
        rename_prints_the_updated_row,
        rename_to_a_taken_name_exits_1_and_changes_nothing,
        rename_to_an_invalid_name_exits_1_and_changes_nothing,
        rename_of_a_missing_id_exits_1,
        delete_prints_the_deleted_row_and_its_id_is_never_reused,
        delete_of_a_missing_id_exits_1,
        count_prints_the_number_of_people,
    }
}

fn rename_prints_the_updated_row(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Alice", "Bob"]);
    assert_eq!(cli.ok(["rename", "1", "Alicia"]), "1\tAlicia\n");
    assert_eq!(cli.ok(["get", "1"]), "1\tAlicia\n");
    assert_eq!(cli.ok(["find", "Alicia"]), "1\tAlicia\n");
    assert_eq!(
        cli.fails(["find", "Alice"]),
        "error: no person named \"Alice\""
    );
    // The old name is free again; a case change is a rename.
    assert_eq!(cli.ok(["add", "Alice"]), "3\tAlice\n");
    assert_eq!(cli.ok(["rename", "2", "BOB"]), "2\tBOB\n");
    assert_eq!(cli.ok(["list"]), "1\tAlicia\n2\tBOB\n3\tAlice\n");
}

fn rename_to_a_taken_name_exits_1_and_changes_nothing(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Alice", "Bob"]);
    assert_eq!(
        cli.fails(["rename", "1", "Bob"]),
        "error: name \"Bob\" is already taken; choose another name"
    );
    assert_eq!(cli.ok(["list"]), "1\tAlice\n2\tBob\n");
}

fn rename_to_an_invalid_name_exits_1_and_changes_nothing(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Alice"]);
    assert_eq!(
        cli.fails(["rename", "1", "Alice "]),
        "error: invalid name: \"Alice \" has leading or trailing whitespace"
    );
    let line = cli.fails(["rename", "1", &"é".repeat(81)]);
    assert!(line.ends_with("is longer than 80 characters"), "{line}");
    assert_eq!(
        cli.fails(["rename", "1", ""]),
        "error: invalid name: a name cannot be empty"
    );
    assert_eq!(cli.ok(["list"]), "1\tAlice\n");
}

fn rename_of_a_missing_id_exits_1(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Alice"]);
    assert_eq!(
        cli.fails(["rename", "7", "Bob"]),
        "error: no person with id 7"
    );
    assert_eq!(cli.ok(["list"]), "1\tAlice\n");
}

fn delete_prints_the_deleted_row_and_its_id_is_never_reused(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Ann", "Bo", "Cy"]);
    assert_eq!(cli.ok(["delete", "3"]), "3\tCy\n");
    assert_eq!(cli.ok(["count"]), "2\n");
    assert_eq!(cli.fails(["get", "3"]), "error: no person with id 3");
    assert_eq!(cli.ok(["list"]), "1\tAnn\n2\tBo\n");
    // The highest id was deleted, and still is not handed out again.
    assert_eq!(cli.ok(["add", "Cy"]), "4\tCy\n");
}

fn delete_of_a_missing_id_exits_1(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Ann"]);
    assert_eq!(cli.ok(["delete", "1"]), "1\tAnn\n");
    assert_eq!(cli.fails(["delete", "1"]), "error: no person with id 1");
    assert_eq!(cli.fails(["delete", "42"]), "error: no person with id 42");
    assert_eq!(cli.count(), 0);
}

fn count_prints_the_number_of_people(db: &TestDb) {
    let cli = Runner::new(db.url());
    assert_eq!(cli.ok(["count"]), "0\n");
    cli.ok(["add", "Ann", "Bo", "Cy"]);
    assert_eq!(cli.ok(["count"]), "3\n");
    cli.ok(["delete", "2"]);
    assert_eq!(cli.ok(["count"]), "2\n");
}
