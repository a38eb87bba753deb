//! `migrate` and `add`.

use super::{json_names, rows};
use crate::support::*;

crate::support::tests! {
    per_backend {
        migrate_on_a_migrated_database_prints_up_to_date,
        adding_one_name_prints_its_id_and_name,
        adding_several_names_prints_a_row_for_each_in_order,
        adding_a_taken_name_exits_1_naming_it,
        adding_a_name_twice_in_one_call_writes_nothing,
        adding_an_invalid_name_among_valid_ones_writes_nothing,
        adding_an_81_character_name_is_refused_and_writes_nothing,
        an_80_character_multibyte_name_is_stored_and_read_back_exactly,
        invalid_names_are_refused_with_the_broken_rule,
    }
}

fn migrate_on_a_migrated_database_prints_up_to_date(db: &TestDb) {
    let cli = Runner::new(db.url());
    assert_eq!(cli.ok(["migrate"]), "up to date\n");
    assert_eq!(cli.ok(["migrate"]), "up to date\n");
}

fn adding_one_name_prints_its_id_and_name(db: &TestDb) {
    let cli = Runner::new(db.url());
    assert_eq!(cli.ok(["add", "Alice"]), "1\tAlice\n");
    assert_eq!(cli.count(), 1);
}

fn adding_several_names_prints_a_row_for_each_in_order(db: &TestDb) {
    let cli = Runner::new(db.url());
    assert_eq!(
        cli.ok(["add", "Cy", "Ann", "Bo"]),
        rows(&["Cy", "Ann", "Bo"])
    );
    assert_eq!(cli.ok(["add", "Di"]), "4\tDi\n");
    assert_eq!(cli.ok(["list"]), rows(&["Cy", "Ann", "Bo", "Di"]));
}

fn adding_a_taken_name_exits_1_naming_it(db: &TestDb) {
    let cli = Runner::new(db.url());
    assert_eq!(cli.ok(["add", "Alice"]), "1\tAlice\n");
    assert_eq!(
        cli.fails(["add", "Alice"]),
        "error: name \"Alice\" is already taken; choose another name"
    );
    assert_eq!(cli.ok(["count"]), "1\n");
    // Names are case-sensitive: another case is another name. (Its id is
    // not asserted: a PostgreSQL sequence keeps the value the failure used.)
    let added = cli.ok(["add", "alice"]);
    assert!(added.ends_with("\talice\n"), "{added}");
    assert_eq!(cli.ok(["find", "alice"]), added);
    assert_eq!(cli.ok(["get", "1"]), "1\tAlice\n");
    assert_eq!(cli.ok(["count"]), "2\n");
}

fn adding_a_name_twice_in_one_call_writes_nothing(db: &TestDb) {
    let cli = Runner::new(db.url());
    assert_eq!(
        cli.fails(["add", "A", "B", "A"]),
        "error: name \"A\" is already taken; choose another name"
    );
    assert_eq!(cli.ok(["count"]), "0\n");
    assert_eq!(cli.ok(["list"]), "");
    // A stored name later in the list also undoes the earlier ones.
    let c = cli.ok(["add", "C"]);
    assert!(c.ends_with("\tC\n"), "{c}");
    assert_eq!(
        cli.fails(["add", "D", "C"]),
        "error: name \"C\" is already taken; choose another name"
    );
    assert_eq!(cli.ok(["list"]), c);
}

fn adding_an_invalid_name_among_valid_ones_writes_nothing(db: &TestDb) {
    let cli = Runner::new(db.url());
    assert_eq!(
        cli.fails(["add", "Ann", " Bo", "Cy"]),
        "error: invalid name: \" Bo\" has leading or trailing whitespace"
    );
    assert_eq!(cli.count(), 0);
}

fn adding_an_81_character_name_is_refused_and_writes_nothing(db: &TestDb) {
    let cli = Runner::new(db.url());
    for c in ["x", "é", "𝄞"] {
        let line = cli.fails(["add", &c.repeat(81)]);
        assert_eq!(
            line,
            format!(
                "error: invalid name: \"{}…\" is longer than 80 characters",
                c.repeat(24)
            )
        );
    }
    assert_eq!(cli.count(), 0);
    assert_eq!(cli.ok(["export"]), "");
}

fn an_80_character_multibyte_name_is_stored_and_read_back_exactly(db: &TestDb) {
    let cli = Runner::new(db.url());
    let name = "é".repeat(80);
    assert_eq!(name.len(), 160);
    let emoji = "👍".repeat(80);
    assert_eq!(cli.ok(["add", &name, &emoji]), rows(&[&name, &emoji]));
    assert_eq!(cli.ok(["get", "1"]), format!("1\t{name}\n"));
    assert_eq!(cli.ok(["get", "2"]), format!("2\t{emoji}\n"));
    assert_eq!(cli.ok(["find", &name]), format!("1\t{name}\n"));
    assert_eq!(cli.ok(["list"]), rows(&[&name, &emoji]));
    assert_eq!(cli.ok(["export"]), format!("{name}\n{emoji}\n"));
    assert_eq!(json_names(&cli.ok(["list", "--json"])), [name, emoji]);
}

fn invalid_names_are_refused_with_the_broken_rule(db: &TestDb) {
    let cli = Runner::new(db.url());
    let cases = [
        ("", "error: invalid name: a name cannot be empty"),
        (
            " Ann",
            "error: invalid name: \" Ann\" has leading or trailing whitespace",
        ),
        (
            "Ann\u{a0}",
            "error: invalid name: \"Ann\\u{a0}\" has leading or trailing whitespace",
        ),
        (
            "Ann\tBo",
            "error: invalid name: \"Ann\\tBo\" contains the control character '\\t' at position 4",
        ),
        (
            "Ann\nBo",
            "error: invalid name: \"Ann\\nBo\" contains the control character '\\n' at position 4",
        ),
        (
            "\u{1b}[31mred",
            "error: invalid name: \"\\u{1b}[31mred\" contains the control character '\\u{1b}' at position 1",
        ),
    ];
    for (name, expected) in cases {
        assert_eq!(cli.fails(["add", name]), expected, "{name:?}");
    }
    assert_eq!(cli.count(), 0);
}
