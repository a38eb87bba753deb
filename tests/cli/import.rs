//! `import`: every format, its errors, and all-or-nothing.

use std::ffi::OsStr;

use super::rows;
use crate::support::*;

crate::support::tests! {
    per_backend {
        import_lines_accepts_crlf_and_skips_blank_lines,
        import_lines_accepts_80_four_byte_characters_with_crlf,
        import_reads_standard_input_without_a_file_or_with_dash,
        import_csv_reads_the_name_column_whatever_the_ids,
        import_json_reads_the_name_of_each_object,
        import_of_empty_input_imports_nothing,
        import_lines_bad_line_reports_its_line_number_and_writes_nothing,
        import_lines_over_long_or_non_utf8_line_reports_its_line_number,
        import_csv_bad_record_reports_its_line_number_and_writes_nothing,
        import_csv_without_a_name_column_exits_1,
        import_json_bad_record_reports_its_number_and_writes_nothing,
        import_json_malformed_input_exits_1_and_writes_nothing,
        import_of_a_missing_file_exits_1_naming_it,
        importing_the_same_file_again_exits_1_and_keeps_the_count,
        import_skip_existing_skips_stored_and_repeated_names,
        import_with_a_repeated_name_exits_1_and_writes_nothing,
        import_100000_names_then_again_fails_then_skips_them_all,
    }
}

fn import_lines_accepts_crlf_and_skips_blank_lines(db: &TestDb) {
    let cli = Runner::new(db.url());
    let file = cli.file("names.txt", "Ann\r\n\r\nBo Bo\n\n   \r\n\t\nCy\r\nDi");
    assert_eq!(
        cli.ok([OsStr::new("import"), file.as_os_str()]),
        "imported 4, skipped 0\n"
    );
    assert_eq!(cli.ok(["list"]), rows(&["Ann", "Bo Bo", "Cy", "Di"]));
}

fn import_lines_accepts_80_four_byte_characters_with_crlf(db: &TestDb) {
    let cli = Runner::new(db.url());
    let long = "𝄞".repeat(80);
    assert_eq!(long.len(), 320);
    let file = cli.file("long.txt", format!("{long}\r\n{}\r\n", "é".repeat(80)));
    assert_eq!(
        cli.ok([OsStr::new("import"), file.as_os_str()]),
        "imported 2, skipped 0\n"
    );
    assert_eq!(cli.ok(["get", "1"]), format!("1\t{long}\n"));
    assert_eq!(cli.ok(["get", "2"]), format!("2\t{}\n", "é".repeat(80)));
}

fn import_reads_standard_input_without_a_file_or_with_dash(db: &TestDb) {
    let cli = Runner::new(db.url());
    assert_eq!(
        cli.ok_with_stdin(["import"], "Ann\nBo\n"),
        "imported 2, skipped 0\n"
    );
    assert_eq!(
        cli.ok_with_stdin(["import", "-"], "Cy\n"),
        "imported 1, skipped 0\n"
    );
    assert_eq!(
        cli.ok_with_stdin(["import", "--format", "json", "-"], r#"[{"name":"Di"}]"#),
        "imported 1, skipped 0\n"
    );
    assert_eq!(cli.ok(["list"]), rows(&["Ann", "Bo", "Cy", "Di"]));
}

fn import_csv_reads_the_name_column_whatever_the_ids(db: &TestDb) {
    let cli = Runner::new(db.url());
    let file = cli.file(
        "people.csv",
        "id,name\r\n7,Ann\r\n9,\"Doe, \"\"J\"\"\"\r\n,Cy\r\n",
    );
    assert_eq!(
        cli.ok([
            OsStr::new("import"),
            OsStr::new("--format"),
            OsStr::new("csv"),
            file.as_os_str()
        ]),
        "imported 3, skipped 0\n"
    );
    // The file's ids are ignored: the database assigns its own.
    assert_eq!(cli.ok(["list"]), rows(&["Ann", "Doe, \"J\"", "Cy"]));
    // The name column is found by its header, wherever it is.
    assert_eq!(
        cli.ok_with_stdin(
            ["import", "--format", "csv"],
            "name,note\nEd,\"a, b\"\nFlo,x\n"
        ),
        "imported 2, skipped 0\n"
    );
    assert_eq!(cli.ok(["list", "--after", "3"]), "4\tEd\n5\tFlo\n");
}

fn import_json_reads_the_name_of_each_object(db: &TestDb) {
    let cli = Runner::new(db.url());
    let file = cli.file(
        "people.json",
        "[\n  {\"id\": 7, \"name\": \"Ann\", \"extra\": true},\n  {\"name\": \"Bo \\\"B\\\" \\u00e9\\ud83d\\ude00\"}\n]\n",
    );
    assert_eq!(
        cli.ok([
            OsStr::new("import"),
            OsStr::new("--format"),
            OsStr::new("json"),
            file.as_os_str()
        ]),
        "imported 2, skipped 0\n"
    );
    assert_eq!(cli.ok(["list"]), rows(&["Ann", "Bo \"B\" é😀"]));
}

fn import_of_empty_input_imports_nothing(db: &TestDb) {
    let cli = Runner::new(db.url());
    for (format, input) in [
        ("lines", ""),
        ("lines", "\n\r\n  \n"),
        ("csv", "id,name\n"),
        ("json", "[]"),
        ("json", " [ ]\n"),
    ] {
        assert_eq!(
            cli.ok_with_stdin(["import", "--format", format], input),
            "imported 0, skipped 0\n",
            "{format}: {input:?}"
        );
    }
    assert_eq!(cli.count(), 0);
}

fn import_lines_bad_line_reports_its_line_number_and_writes_nothing(db: &TestDb) {
    let cli = Runner::new(db.url());
    // Blank lines count: the bad name is on line 4.
    let file = cli.file("names.txt", "Ann\r\n\r\nBo\n Cy\nDi\n");
    assert_eq!(
        cli.fails([OsStr::new("import"), file.as_os_str()]),
        "error: line 4: invalid name: \" Cy\" has leading or trailing whitespace"
    );
    assert_eq!(cli.count(), 0);
    // Past the first batch of 1000, the earlier batches are undone too.
    let mut names: Vec<String> = (1..=2_100).map(|i| format!("n{i}")).collect();
    names[2_049] = "x".repeat(81);
    assert_eq!(
        cli.fails_with_stdin(["import"], names.join("\n")),
        format!(
            "error: line 2050: invalid name: \"{}…\" is longer than 80 characters",
            "x".repeat(24)
        )
    );
    assert_eq!(cli.count(), 0);
}

fn import_lines_over_long_or_non_utf8_line_reports_its_line_number(db: &TestDb) {
    let cli = Runner::new(db.url());
    let mut input = b"Ann\n".to_vec();
    input.extend_from_slice(&[b'x'; 10_000]);
    input.extend_from_slice(b"\nBo\n");
    assert_eq!(
        cli.fails_with_stdin(["import"], input),
        "error: line 2: invalid name: longer than 80 characters"
    );
    assert_eq!(
        cli.fails_with_stdin(["import"], &b"Ann\nBo\n\xff\xfe\n"[..]),
        "error: line 3: not valid UTF-8"
    );
    assert_eq!(cli.count(), 0);
}

fn import_csv_bad_record_reports_its_line_number_and_writes_nothing(db: &TestDb) {
    let cli = Runner::new(db.url());
    assert_eq!(
        cli.fails_with_stdin(
            ["import", "--format", "csv"],
            "id,name\n1,Ann\n2,\" Bo\"\n3,Cy\n"
        ),
        "error: line 3: invalid name: \" Bo\" has leading or trailing whitespace"
    );
    assert_eq!(
        cli.fails_with_stdin(["import", "--format", "csv"], "id,name\n1,Ann\n2\n"),
        "error: line 3: expected 2 fields, found 1"
    );
    // A quoted newline is a control character in the name.
    let line = cli.fails_with_stdin(
        ["import", "--format", "csv"],
        "id,name\n1,Ann\n2,\"Bo\nBo\"\n",
    );
    assert!(
        line.starts_with("error: line 3: invalid name: \"Bo\\nBo\" contains the control character"),
        "{line}"
    );
    assert_eq!(cli.count(), 0);
}

fn import_csv_without_a_name_column_exits_1(db: &TestDb) {
    let cli = Runner::new(db.url());
    assert_eq!(
        cli.fails_with_stdin(["import", "--format", "csv"], "id,nom\n1,Ann\n"),
        "error: line 1: the CSV header has no \"name\" column"
    );
    // A `lines` file is not CSV: its first line is taken as the header.
    assert_eq!(
        cli.fails_with_stdin(["import", "--format", "csv"], "Ann\nBo\n"),
        "error: line 1: the CSV header has no \"name\" column"
    );
    assert_eq!(cli.count(), 0);
}

fn import_json_bad_record_reports_its_number_and_writes_nothing(db: &TestDb) {
    let cli = Runner::new(db.url());
    assert_eq!(
        cli.fails_with_stdin(
            ["import", "--format", "json"],
            r#"[{"name":"Ann"},{"name":" Bo"},{"name":"Cy"}]"#
        ),
        "error: record 2: invalid name: \" Bo\" has leading or trailing whitespace"
    );
    assert_eq!(
        cli.fails_with_stdin(["import", "--format", "json"], r#"[{"name":""}]"#),
        "error: record 1: invalid name: a name cannot be empty"
    );
    assert_eq!(cli.count(), 0);
}

fn import_json_malformed_input_exits_1_and_writes_nothing(db: &TestDb) {
    let cli = Runner::new(db.url());
    let cases = [
        // Valid records, then the input breaks off.
        (
            "[{\"name\":\"Ann\"},\n{\"name\":\"Bo\"},",
            "error: line 2: invalid JSON: EOF while parsing a value",
        ),
        (
            "[] trailing",
            "error: line 1: invalid JSON: trailing characters",
        ),
        (
            r#"{"name":"Ann"}"#,
            "error: line 1: invalid JSON: invalid type: map, expected an array of {\"id\": .., \"name\": ..} objects",
        ),
        (
            r#"[{"id":1}]"#,
            "error: line 1: invalid JSON: missing field `name`",
        ),
        (
            r#"[{"name":7}]"#,
            "error: line 1: invalid JSON: invalid type: integer `7`, expected a string",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(
            cli.fails_with_stdin(["import", "--format", "json"], input),
            expected,
            "{input}"
        );
    }
    assert_eq!(cli.count(), 0);
}

fn import_of_a_missing_file_exits_1_naming_it(db: &TestDb) {
    let cli = Runner::new(db.url());
    let missing = cli.cwd.path().join("missing.txt");
    let line = cli.fails([OsStr::new("import"), missing.as_os_str()]);
    assert!(
        line.starts_with(&format!("error: cannot read {}: ", missing.display())),
        "{line}"
    );
}

fn importing_the_same_file_again_exits_1_and_keeps_the_count(db: &TestDb) {
    let cli = Runner::new(db.url());
    let file = cli.file("names.txt", "Ann\nBo\nCy\n");
    let import = [OsStr::new("import"), file.as_os_str()];
    assert_eq!(cli.ok(import), "imported 3, skipped 0\n");
    assert_eq!(
        cli.fails(import),
        "error: name \"Ann\" is already taken; choose another name"
    );
    assert_eq!(cli.count(), 3);
    // Only the last name is stored: it is the one named, and nothing new is written.
    let partly = cli.file("partly.txt", "Di\nEd\nCy\nFlo\n");
    assert_eq!(
        cli.fails([OsStr::new("import"), partly.as_os_str()]),
        "error: name \"Cy\" is already taken; choose another name"
    );
    assert_eq!(cli.ok(["list"]), rows(&["Ann", "Bo", "Cy"]));
}

fn import_skip_existing_skips_stored_and_repeated_names(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Ann", "Cy"]);
    assert_eq!(
        cli.ok_with_stdin(["import", "--skip-existing"], "Ann\nBo\nCy\nDi\nBo\n"),
        "imported 2, skipped 3\n"
    );
    let names: Vec<String> = cli.ok(["export"]).lines().map(str::to_owned).collect();
    assert_eq!(names, ["Ann", "Cy", "Bo", "Di"]);
    assert_eq!(
        cli.ok_with_stdin(
            ["import", "--skip-existing", "--format", "csv"],
            "id,name\n1,Ann\n2,Eve\n"
        ),
        "imported 1, skipped 1\n"
    );
    assert_eq!(cli.count(), 5);
    // A bad name still refuses everything.
    assert_eq!(
        cli.fails_with_stdin(["import", "--skip-existing"], "Zed\nAnn\n Bad\n"),
        "error: line 3: invalid name: \" Bad\" has leading or trailing whitespace"
    );
    assert_eq!(cli.count(), 5);
}

fn import_with_a_repeated_name_exits_1_and_writes_nothing(db: &TestDb) {
    let cli = Runner::new(db.url());
    assert_eq!(
        cli.fails_with_stdin(["import"], "Ann\nBo\nAnn\n"),
        "error: name \"Ann\" is already taken; choose another name"
    );
    assert_eq!(cli.count(), 0);
}

fn import_100000_names_then_again_fails_then_skips_them_all(db: &TestDb) {
    let cli = Runner::new(db.url());
    let mut names = String::with_capacity(2_000_000);
    for i in 1..=100_000 {
        names.push_str(&format!("person {i:06}\n"));
    }
    let file = cli.file("100k.txt", names);
    let import = [OsStr::new("import"), file.as_os_str()];
    assert_eq!(cli.ok(import), "imported 100000, skipped 0\n");
    assert_eq!(cli.ok(["count"]), "100000\n");
    assert_eq!(
        cli.fails(import),
        "error: name \"person 000001\" is already taken; choose another name"
    );
    assert_eq!(cli.ok(["count"]), "100000\n");
    assert_eq!(
        cli.ok([
            OsStr::new("import"),
            OsStr::new("--skip-existing"),
            file.as_os_str()
        ]),
        "imported 0, skipped 100000\n"
    );
    assert_eq!(cli.ok(["count"]), "100000\n");
    assert_eq!(cli.ok(["get", "100000"]), "100000\tperson 100000\n");
}
