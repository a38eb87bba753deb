//! `get`, `find` and `list`.

use std::ffi::OsStr;

use super::{json_names, rows};
use crate::support::*;

crate::support::tests! {
    per_backend {
        get_prints_the_person_with_that_id,
        get_of_a_missing_id_exits_1,
        find_matches_the_exact_case_sensitive_name_only,
        find_of_a_missing_name_exits_1_naming_it,
        list_prints_id_tab_name_lines_by_id,
        list_of_an_empty_database_prints_nothing,
        list_json_prints_an_array_of_id_and_name,
        list_search_is_an_ascii_case_insensitive_substring_match,
        list_search_treats_percent_underscore_and_backslash_literally,
        list_after_and_limit_walk_keyset_pages,
        list_streams_past_the_batch_size,
        list_page_json_is_an_object_with_items_and_totals,
        list_page_without_json_prints_that_pages_lines,
        list_page_1_of_an_empty_database_is_empty,
        list_page_applies_the_search_to_items_and_total,
        list_page_zero_negative_or_past_the_end_exits_1,
        list_per_page_below_1_exits_1,
        list_page_huge_numbers_exit_1_without_panicking,
        list_per_page_huge_prints_one_page,
    }
}

fn get_prints_the_person_with_that_id(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Ann", "Bo"]);
    assert_eq!(cli.ok(["get", "2"]), "2\tBo\n");
    assert_eq!(cli.ok(["get", "1"]), "1\tAnn\n");
}

fn get_of_a_missing_id_exits_1(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Ann"]);
    assert_eq!(cli.fails(["get", "2"]), "error: no person with id 2");
    assert_eq!(cli.fails(["get", "0"]), "error: no person with id 0");
    assert_eq!(
        cli.fails(["get", "2147483647"]),
        "error: no person with id 2147483647"
    );
}

fn find_matches_the_exact_case_sensitive_name_only(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Alice", "ALICE", "50%", "a_c"]);
    assert_eq!(cli.ok(["find", "Alice"]), "1\tAlice\n");
    assert_eq!(cli.ok(["find", "ALICE"]), "2\tALICE\n");
    assert_eq!(cli.ok(["find", "50%"]), "3\t50%\n");
    // No pattern matching, no prefix matching.
    for name in ["alice", "Alic", "5%", "a%", "abc", "a_"] {
        assert_eq!(
            cli.fails(["find", name]),
            format!("error: no person named {name:?}")
        );
    }
}

fn find_of_a_missing_name_exits_1_naming_it(db: &TestDb) {
    let cli = Runner::new(db.url());
    assert_eq!(
        cli.fails(["find", "Nobody"]),
        "error: no person named \"Nobody\""
    );
    assert_eq!(
        cli.fails(["find", "Robert'); DROP TABLE person;--"]),
        "error: no person named \"Robert'); DROP TABLE person;--\""
    );
    assert_eq!(cli.count(), 0);
}

fn list_prints_id_tab_name_lines_by_id(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Zed", "Ann", "Mo"]);
    cli.ok(["delete", "2"]);
    assert_eq!(cli.ok(["list"]), "1\tZed\n3\tMo\n");
}

fn list_of_an_empty_database_prints_nothing(db: &TestDb) {
    let cli = Runner::new(db.url());
    assert_eq!(cli.ok(["list"]), "");
    assert_eq!(mask_times(&cli.ok(["list", "--json"])), "[]\n");
    assert_eq!(cli.ok(["list", "--search", "x"]), "");
}

fn list_json_prints_an_array_of_id_and_name(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Ann", "Doe, \"J\""]);
    assert_eq!(
        mask_times(&cli.ok(["list", "--json"])),
        "[\n{\"id\":1,\"name\":\"Ann\",\"created_at\":\"<time>\",\"updated_at\":\"<time>\"},\n{\"id\":2,\"name\":\"Doe, \\\"J\\\"\",\"created_at\":\"<time>\",\"updated_at\":\"<time>\"}\n]\n"
    );
    assert_eq!(
        mask_times(&cli.ok(["list", "--json", "--after", "1"])),
        "[\n{\"id\":2,\"name\":\"Doe, \\\"J\\\"\",\"created_at\":\"<time>\",\"updated_at\":\"<time>\"}\n]\n"
    );
    assert_eq!(
        mask_times(&cli.ok(["list", "--json", "--limit", "0"])),
        "[]\n"
    );
}

fn list_search_is_an_ascii_case_insensitive_substring_match(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Alice", "MALICE", "Bob", "alicia", "Zoë"]);
    let expected = "1\tAlice\n2\tMALICE\n4\talicia\n";
    assert_eq!(cli.ok(["list", "--search", "lic"]), expected);
    assert_eq!(cli.ok(["list", "--search", "LIC"]), expected);
    assert_eq!(cli.ok(["list", "--search", "lIc"]), expected);
    assert_eq!(cli.ok(["list", "--search", "oë"]), "5\tZoë\n");
    assert_eq!(cli.ok(["list", "--search", "bob"]), "3\tBob\n");
    assert_eq!(cli.ok(["list", "--search", "nobody"]), "");
    assert_eq!(
        mask_times(&cli.ok(["list", "--search", "lic", "--json"])),
        "[\n{\"id\":1,\"name\":\"Alice\",\"created_at\":\"<time>\",\"updated_at\":\"<time>\"},\n{\"id\":2,\"name\":\"MALICE\",\"created_at\":\"<time>\",\"updated_at\":\"<time>\"},\n{\"id\":4,\"name\":\"alicia\",\"created_at\":\"<time>\",\"updated_at\":\"<time>\"}\n]\n"
    );
    assert_eq!(
        cli.ok(["list", "--search", "lic", "--after", "1", "--limit", "1"]),
        "2\tMALICE\n"
    );
    assert_eq!(
        cli.ok(["list", "--search", "lic", "--after", "2"]),
        "4\talicia\n"
    );
}

fn list_search_treats_percent_underscore_and_backslash_literally(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok([
        "add", "50% off", "50 off", "a_b", "axb", "c\\d", "cd", "c\\\\d", "plain",
    ]);
    assert_eq!(cli.ok(["list", "--search", "%"]), "1\t50% off\n");
    assert_eq!(cli.ok(["list", "--search", "0% O"]), "1\t50% off\n");
    assert_eq!(cli.ok(["list", "--search", "_"]), "3\ta_b\n");
    assert_eq!(cli.ok(["list", "--search", "A_B"]), "3\ta_b\n");
    assert_eq!(cli.ok(["list", "--search", "\\"]), "5\tc\\d\n7\tc\\\\d\n");
    assert_eq!(cli.ok(["list", "--search", "c\\d"]), "5\tc\\d\n");
    assert_eq!(cli.ok(["list", "--search", "\\\\"]), "7\tc\\\\d\n");
    assert_eq!(cli.ok(["list", "--search", "%%"]), "");
    assert_eq!(cli.ok(["list", "--search", "_%"]), "");
    // The empty needle matches everyone.
    assert_eq!(cli.ok(["list", "--search", ""]).lines().count(), 8);
}

fn list_after_and_limit_walk_keyset_pages(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "p1", "p2", "p3", "p4", "p5"]);
    assert_eq!(cli.ok(["list", "--limit", "2"]), "1\tp1\n2\tp2\n");
    assert_eq!(
        cli.ok(["list", "--after", "2", "--limit", "2"]),
        "3\tp3\n4\tp4\n"
    );
    assert_eq!(cli.ok(["list", "--after", "4", "--limit", "2"]), "5\tp5\n");
    assert_eq!(cli.ok(["list", "--after", "5"]), "");
    assert_eq!(
        cli.ok(["list", "--after", "0"]),
        rows(&["p1", "p2", "p3", "p4", "p5"])
    );
    assert_eq!(cli.ok(["list", "--limit", "0"]), "");
    // `--after` is an id, not a position: gaps are skipped.
    cli.ok(["delete", "3"]);
    assert_eq!(
        cli.ok(["list", "--after", "2", "--limit", "2"]),
        "4\tp4\n5\tp5\n"
    );
}

fn list_streams_past_the_batch_size(db: &TestDb) {
    let cli = Runner::new(db.url());
    let names: Vec<String> = (1..=2_500).map(|i| format!("person {i}")).collect();
    let file = cli.file("names.txt", names.join("\n"));
    assert_eq!(
        cli.ok([OsStr::new("import"), file.as_os_str()]),
        "imported 2500, skipped 0\n"
    );
    assert_eq!(cli.ok(["list"]), rows(&names));
    for limit in [999, 1_000, 1_001, 2_000, 2_499] {
        let out = cli.ok(["list", "--limit", &limit.to_string()]);
        assert_eq!(out, rows(&names[..limit]), "--limit {limit}");
    }
    let out = cli.ok(["list", "--after", "500", "--limit", "1500"]);
    assert_eq!(out.lines().count(), 1_500);
    assert_eq!(out.lines().next(), Some("501\tperson 501"));
    assert_eq!(out.lines().last(), Some("2000\tperson 2000"));
    assert_eq!(json_names(&cli.ok(["list", "--json"])), names);
    let matching = cli.ok(["list", "--search", "son 1"]);
    assert_eq!(matching.lines().count(), 1 + 10 + 100 + 1000);
}

fn list_page_json_is_an_object_with_items_and_totals(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "p1", "p2", "p3", "p4", "p5"]);
    assert_eq!(
        mask_times(&cli.ok(["list", "--page", "2", "--per-page", "2", "--json"])),
        "{\"items\":[{\"id\":3,\"name\":\"p3\",\"created_at\":\"<time>\",\"updated_at\":\"<time>\"},{\"id\":4,\"name\":\"p4\",\"created_at\":\"<time>\",\"updated_at\":\"<time>\"}],\
         \"page\":2,\"per_page\":2,\"total\":5,\"pages\":3}\n"
    );
    assert_eq!(
        mask_times(&cli.ok(["list", "--page", "3", "--per-page", "2", "--json"])),
        "{\"items\":[{\"id\":5,\"name\":\"p5\",\"created_at\":\"<time>\",\"updated_at\":\"<time>\"}],\"page\":3,\"per_page\":2,\"total\":5,\"pages\":3}\n"
    );
    // --per-page defaults to 20.
    let page: serde_json::Value =
        serde_json::from_str(&cli.ok(["list", "--page", "1", "--json"])).unwrap();
    assert_eq!(page["per_page"], 20);
    assert_eq!(page["pages"], 1);
    assert_eq!(page["total"], 5);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(5));
}

fn list_page_without_json_prints_that_pages_lines(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "p1", "p2", "p3", "p4", "p5"]);
    assert_eq!(
        cli.ok(["list", "--page", "1", "--per-page", "2"]),
        "1\tp1\n2\tp2\n"
    );
    assert_eq!(
        cli.ok(["list", "--page", "3", "--per-page", "2"]),
        "5\tp5\n"
    );
    assert_eq!(
        cli.ok(["list", "--page", "1"]),
        rows(&["p1", "p2", "p3", "p4", "p5"])
    );
}

fn list_page_1_of_an_empty_database_is_empty(db: &TestDb) {
    let cli = Runner::new(db.url());
    assert_eq!(
        mask_times(&cli.ok(["list", "--page", "1", "--json"])),
        "{\"items\":[],\"page\":1,\"per_page\":20,\"total\":0,\"pages\":0}\n"
    );
    assert_eq!(cli.ok(["list", "--page", "1"]), "");
    assert_eq!(
        cli.fails(["list", "--page", "2"]),
        "error: invalid page: page 2 is past the end; the last page is 1"
    );
}

fn list_page_applies_the_search_to_items_and_total(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Ann", "Bo", "Anna", "Joanne", "50%"]);
    assert_eq!(
        mask_times(&cli.ok([
            "list",
            "--page",
            "2",
            "--per-page",
            "2",
            "--search",
            "ANN",
            "--json"
        ])),
        "{\"items\":[{\"id\":4,\"name\":\"Joanne\",\"created_at\":\"<time>\",\"updated_at\":\"<time>\"}],\"page\":2,\"per_page\":2,\"total\":3,\"pages\":2}\n"
    );
    assert_eq!(
        mask_times(&cli.ok(["list", "--page", "1", "--search", "%", "--json"])),
        "{\"items\":[{\"id\":5,\"name\":\"50%\",\"created_at\":\"<time>\",\"updated_at\":\"<time>\"}],\"page\":1,\"per_page\":20,\"total\":1,\"pages\":1}\n"
    );
}

fn list_page_zero_negative_or_past_the_end_exits_1(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "p1", "p2", "p3", "p4", "p5"]);
    assert_eq!(
        cli.fails(["list", "--page", "0"]),
        "error: invalid page: page must be 1 or more, not 0"
    );
    assert_eq!(
        cli.fails(["list", "--page", "-1", "--json"]),
        "error: invalid page: page must be 1 or more, not -1"
    );
    assert_eq!(
        cli.fails(["list", "--page", "4", "--per-page", "2"]),
        "error: invalid page: page 4 is past the end; the last page is 3"
    );
    assert_eq!(
        cli.fails(["list", "--page", "2", "--json"]),
        "error: invalid page: page 2 is past the end; the last page is 1"
    );
}

fn list_per_page_below_1_exits_1(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "p1"]);
    assert_eq!(
        cli.fails(["list", "--page", "1", "--per-page", "0"]),
        "error: invalid page: per_page must be 1 or more, not 0"
    );
    assert_eq!(
        cli.fails(["list", "--page", "1", "--per-page", "-3"]),
        "error: invalid page: per_page must be 1 or more, not -3"
    );
}

fn list_page_huge_numbers_exit_1_without_panicking(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "p1", "p2"]);
    let max = i64::MAX.to_string();
    let line = cli.fails(["list", "--page", &max]);
    assert!(
        line.starts_with(&format!("error: invalid page: page {max} is past the end")),
        "{line}"
    );
    let line = cli.fails(["list", "--page", &max, "--per-page", "1"]);
    assert!(
        line.starts_with(&format!("error: invalid page: page {max} is past the end")),
        "{line}"
    );
}

/// A per-page larger than the table is one page holding everyone.
fn list_per_page_huge_prints_one_page(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "p1", "p2"]);
    let max = i64::MAX.to_string();
    assert_eq!(
        mask_times(&cli.ok(["list", "--page", "1", "--per-page", &max, "--json"])),
        format!(
            "{{\"items\":[{{\"id\":1,\"name\":\"p1\",\"created_at\":\"<time>\",\"updated_at\":\"<time>\"}},{{\"id\":2,\"name\":\"p2\",\"created_at\":\"<time>\",\"updated_at\":\"<time>\"}}],\
             \"page\":1,\"per_page\":{max},\"total\":2,\"pages\":1}}\n"
        )
    );
}
