//! The `people` binary end to end: every command, its exact output, its
//! errors (one `error: …` line, exit 1) and usage errors (exit 2), the
//! import/export round trip, and where the database URL comes from.
//!
//! Every run gets an empty temp directory as its current directory and no
//! inherited DATABASE_URL, so no stray `.env` or `people.db` is ever used.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use assert_cmd::Command;
use people::Backend;
use tempfile::TempDir;

use crate::support::{TestDb, one_line_error, succeeded, usage_error};

crate::support::backend_tests!(
    migrate_on_a_migrated_database_prints_up_to_date,
    adding_one_name_prints_its_id_and_name,
    adding_several_names_prints_a_row_for_each_in_order,
    adding_a_taken_name_exits_1_naming_it,
    adding_a_name_twice_in_one_call_writes_nothing,
    adding_an_invalid_name_among_valid_ones_writes_nothing,
    adding_an_81_character_name_is_refused_and_writes_nothing,
    an_80_character_multibyte_name_is_stored_and_read_back_exactly,
    invalid_names_are_refused_with_the_broken_rule,
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
    rename_prints_the_updated_row,
    rename_to_a_taken_name_exits_1_and_changes_nothing,
    rename_to_an_invalid_name_exits_1_and_changes_nothing,
    rename_of_a_missing_id_exits_1,
    delete_prints_the_deleted_row_and_its_id_is_never_reused,
    delete_of_a_missing_id_exits_1,
    count_prints_the_number_of_people,
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
    export_lines_prints_one_name_per_line,
    export_csv_prints_a_header_and_quotes_as_needed,
    export_json_prints_an_array_of_objects,
    export_of_an_empty_database_is_valid_in_each_format,
    round_trip_through_lines_reproduces_awkward_names,
    round_trip_through_csv_reproduces_awkward_names,
    round_trip_through_json_reproduces_awkward_names,
    round_trip_of_an_empty_database_imports_nothing,
    awkward_names_are_stored_and_found_exactly,
    stdout_closed_early_exits_0_silently,
);

// ---------------------------------------------------------------------------
// Helpers

/// The `people` binary, in an empty current directory, with no DATABASE_URL.
fn people_in(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("people").expect("the people binary is built");
    cmd.current_dir(cwd)
        .env_remove("DATABASE_URL")
        .timeout(Duration::from_secs(120));
    cmd
}

/// Runs `people --database-url <url> …` in its own empty current directory.
struct Cli {
    url: String,
    dir: TempDir,
}

impl Cli {
    fn new(db: &TestDb) -> Cli {
        Cli::with_url(db.url())
    }

    fn with_url(url: &str) -> Cli {
        Cli {
            url: url.to_owned(),
            dir: empty_dir(),
        }
    }

    /// The command, ready for more arguments or standard input.
    fn cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = people_in(self.dir.path());
        cmd.arg("--database-url").arg(&self.url).args(args);
        cmd
    }

    /// Runs and asserts success with nothing on stderr; returns stdout.
    #[track_caller]
    fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        succeeded(&self.cmd(args).output().expect("run people"))
    }

    /// Runs and asserts a one-line error with exit code 1; returns that line.
    #[track_caller]
    fn fails<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        one_line_error(&self.cmd(args).output().expect("run people"))
    }

    /// Runs with `input` on standard input and asserts success; returns stdout.
    #[track_caller]
    fn ok_with_stdin<I, S>(&self, args: I, input: impl Into<Vec<u8>>) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        succeeded(
            &self
                .cmd(args)
                .write_stdin(input)
                .output()
                .expect("run people"),
        )
    }

    /// Runs with `input` on standard input and asserts a one-line error with
    /// exit code 1; returns that line.
    #[track_caller]
    fn fails_with_stdin<I, S>(&self, args: I, input: impl Into<Vec<u8>>) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        one_line_error(
            &self
                .cmd(args)
                .write_stdin(input)
                .output()
                .expect("run people"),
        )
    }

    /// `people count`, parsed.
    #[track_caller]
    fn count(&self) -> u64 {
        let out = self.ok(["count"]);
        out.strip_suffix('\n')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("count printed {out:?}"))
    }

    /// Writes a file into this run's current directory and returns its path.
    fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write input file");
        path
    }
}

fn empty_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("people-cli-")
        .tempdir()
        .expect("temp dir")
}

/// `ID<TAB>NAME` lines for names stored with ids 1, 2, 3…
fn rows<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| format!("{}\t{}\n", i + 1, name.as_ref()))
        .collect()
}

/// A fresh, migrated database on the same backend as `db`.
fn another_db_like(db: &TestDb) -> TestDb {
    let backend = match db.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
        other => panic!("unexpected backend {other:?}"),
    };
    crate::support::fresh_db(backend).expect("the backend of a running test is available")
}

/// The names in a JSON export, in order.
fn json_names(export: &str) -> Vec<String> {
    let people: Vec<serde_json::Value> = serde_json::from_str(export).expect("export is JSON");
    people
        .iter()
        .map(|p| p["name"].as_str().expect("name is a string").to_owned())
        .collect()
}

/// Names that are hard to store, quote, escape and compare, all valid.
fn awkward_names() -> Vec<String> {
    [
        // First, so that it is the first line of a `lines` file.
        "\u{feff}starts with a byte order mark",
        "Doe, John",
        "\"Quoted\" O'Brien",
        "\"",
        "ends with a backslash\\",
        r#"\"escaped\" \n not a newline"#,
        "50% _off_",
        "%",
        "_",
        "\u{1f469}\u{200d}\u{1f469}\u{200d}\u{1f467}\u{200d}\u{1f466} family",
        "\u{1f1fa}\u{1f1e6}\u{1f3f3}\u{fe0f}\u{200d}\u{1f308}",
        "\u{1f44d}\u{1f3fd}",
        "Zo\u{eb}",
        "Zoe\u{308}",
        "a\u{301}\u{302}\u{303}\u{304} stacked accents",
        "\u{202e}evil\u{202c}.txt",
        "Robert'); DROP TABLE person;--",
        "' OR '1'='1",
        "\"; DELETE FROM person; --",
        "x' || (SELECT string_agg(name, ',') FROM person) || '",
        "-starts with a dash",
        "--database-url",
        "id,name",
        "name",
        "null",
        "[{\"id\":1,\"name\":\"x\"}]",
        "=HYPERLINK(\"http://example.com\")",
        "a\u{2028}b\u{2029}c",
        "ideographic\u{3000}space",
        "Mary  Ann",
        "\u{200b}zero width space",
        "李小龍",
        "مرحبا بالعالم",
        "alice",
        "Alice",
        "ALICE",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(["é".repeat(80), "𝄞".repeat(80), "x".repeat(80)])
    .collect()
}

// ---------------------------------------------------------------------------
// Without a database: help, version, usage errors, URLs.

#[test]
fn help_lists_every_command() {
    let dir = empty_dir();
    let help = succeeded(&people_in(dir.path()).arg("--help").output().unwrap());
    for command in [
        "migrate", "add", "get", "find", "list", "rename", "delete", "count", "import", "export",
    ] {
        assert!(
            help.lines()
                .any(|line| line.trim_start().starts_with(&format!("{command} "))),
            "{command} missing from --help:\n{help}"
        );
    }
    assert!(help.contains("--database-url <URL>"), "{help}");
}

#[test]
fn version_prints_the_crate_version() {
    let dir = empty_dir();
    let out = succeeded(&people_in(dir.path()).arg("--version").output().unwrap());
    assert_eq!(out, format!("people {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn help_never_prints_the_database_url_value() {
    let dir = empty_dir();
    let url = "postgres://u:s3cret@127.0.0.1:1/x";
    for args in [
        &["--help"][..],
        &["help"],
        &["list", "--help"],
        &["help", "import"],
    ] {
        let out = succeeded(
            &people_in(dir.path())
                .env("DATABASE_URL", url)
                .args(args)
                .output()
                .unwrap(),
        );
        assert!(out.contains("DATABASE_URL"), "{args:?}: {out}");
        assert!(
            !out.contains("s3cret"),
            "{args:?} shows the password: {out}"
        );
        assert!(!out.contains(url), "{args:?} shows the URL: {out}");
    }
    // Nor does a usage error.
    let output = people_in(dir.path())
        .env("DATABASE_URL", url)
        .arg("frobnicate")
        .output()
        .unwrap();
    usage_error(&output);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("s3cret"));
}

#[test]
fn usage_errors_exit_2() {
    let dir = empty_dir();
    let db = dir.path().join("usage.db");
    let cases: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["add"],
        &["get"],
        &["get", "one"],
        &["get", "99999999999"],
        &["find"],
        &["rename", "1"],
        &["delete", "x"],
        &["list", "--limit", "-1"],
        &["list", "--page", "x"],
        &["list", "--per-page", "5"],
        &["list", "--page", "1", "--after", "3"],
        &["list", "--page", "1", "--limit", "3"],
        &["import", "--format", "xml"],
        &["export", "--format", "yaml"],
        &["count", "--bogus"],
    ];
    for args in cases {
        let output = people_in(dir.path())
            .arg("--database-url")
            .arg(&db)
            .args(*args)
            .output()
            .unwrap();
        usage_error(&output);
    }
    assert!(!db.exists(), "a usage error opened the database");
}

#[test]
fn migrate_on_a_fresh_sqlite_file_prints_the_applied_version() {
    let dir = empty_dir();
    let cli = Cli::with_url(&dir.path().join("fresh.db").display().to_string());
    assert_eq!(cli.ok(["migrate"]), "20250101000000\n");
    assert!(dir.path().join("fresh.db").exists());
    assert_eq!(cli.ok(["migrate"]), "up to date\n");
    assert_eq!(cli.count(), 0);
}

#[test]
fn sqlite_path_sqlite_url_and_file_uri_open_the_same_database() {
    let dir = empty_dir();
    let path = dir.path().join("same.db").display().to_string();
    assert_eq!(Cli::with_url(&path).ok(["add", "Ann"]), "1\tAnn\n");
    for url in [format!("sqlite://{path}"), format!("file:{path}")] {
        assert_eq!(Cli::with_url(&url).ok(["get", "1"]), "1\tAnn\n", "{url}");
    }
}

#[test]
fn an_unsupported_scheme_exits_1_hides_the_password_and_creates_nothing() {
    let cli = Cli::with_url("mysql://root:s3cret@localhost/db");
    assert_eq!(
        cli.fails(["count"]),
        "error: invalid database URL mysql://root:***@localhost/db: unsupported scheme \"mysql\"; \
         use a file path, sqlite://, file: or postgres://"
    );
    let left: Vec<_> = std::fs::read_dir(cli.dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files were created: {left:?}");
}

#[test]
fn an_unreachable_postgres_server_is_one_line_without_the_password() {
    let cli = Cli::with_url("postgres://u:s3cret@127.0.0.1:1/x");
    let line = cli.fails(["count"]);
    assert!(
        line.starts_with("error: cannot open database postgres://u:***@127.0.0.1:1/x: "),
        "{line}"
    );
    assert!(!line.contains("s3cret"), "{line}");
    // libpq's message is said once, not once per error in the chain.
    assert_eq!(line.matches("port 1 failed").count(), 1, "{line}");
}

#[test]
fn an_sqlite_file_in_a_missing_directory_exits_1() {
    let dir = empty_dir();
    let url = dir
        .path()
        .join("no/such/dir/people.db")
        .display()
        .to_string();
    let line = Cli::with_url(&url).fails(["count"]);
    assert!(
        line.starts_with(&format!("error: cannot open database {url}: ")),
        "{line}"
    );
}

#[test]
fn without_flag_or_env_people_db_in_the_current_directory_is_used() {
    let dir = empty_dir();
    let out = succeeded(&people_in(dir.path()).args(["add", "Ann"]).output().unwrap());
    assert_eq!(out, "1\tAnn\n");
    let default_db = dir.path().join("people.db");
    assert!(default_db.is_file(), "people.db was not created");
    let cli = Cli::with_url(&default_db.display().to_string());
    assert_eq!(cli.ok(["list"]), "1\tAnn\n");
}

#[test]
fn dotenv_database_url_is_used_without_the_flag() {
    let dir = empty_dir();
    std::fs::write(dir.path().join(".env"), "DATABASE_URL=from-dotenv.db\n").unwrap();
    let out = succeeded(&people_in(dir.path()).args(["add", "Ann"]).output().unwrap());
    assert_eq!(out, "1\tAnn\n");
    assert!(dir.path().join("from-dotenv.db").is_file());
    assert!(!dir.path().join("people.db").exists());
    let cli = Cli::with_url(&dir.path().join("from-dotenv.db").display().to_string());
    assert_eq!(cli.ok(["find", "Ann"]), "1\tAnn\n");
}

#[test]
fn database_url_env_is_used_and_wins_over_dotenv() {
    let dir = empty_dir();
    std::fs::write(dir.path().join(".env"), "DATABASE_URL=from-dotenv.db\n").unwrap();
    let out = succeeded(
        &people_in(dir.path())
            .env("DATABASE_URL", "from-env.db")
            .args(["add", "Ann"])
            .output()
            .unwrap(),
    );
    assert_eq!(out, "1\tAnn\n");
    assert!(dir.path().join("from-env.db").is_file());
    assert!(!dir.path().join("from-dotenv.db").exists());
    assert!(!dir.path().join("people.db").exists());
}

#[test]
fn the_flag_wins_over_env_and_dotenv() {
    let dir = empty_dir();
    std::fs::write(dir.path().join(".env"), "DATABASE_URL=from-dotenv.db\n").unwrap();
    let out = succeeded(
        &people_in(dir.path())
            .env("DATABASE_URL", "from-env.db")
            .args(["--database-url", "from-flag.db", "add", "Ann"])
            .output()
            .unwrap(),
    );
    assert_eq!(out, "1\tAnn\n");
    assert!(dir.path().join("from-flag.db").is_file());
    assert!(!dir.path().join("from-env.db").exists());
    assert!(!dir.path().join("from-dotenv.db").exists());
}

#[test]
fn a_broken_dotenv_is_a_one_line_error() {
    let dir = empty_dir();
    std::fs::write(dir.path().join(".env"), "NOT A VALID LINE\n").unwrap();
    let line = one_line_error(&people_in(dir.path()).arg("count").output().unwrap());
    assert!(line.starts_with("error: cannot read .env: "), "{line}");
    assert!(!dir.path().join("people.db").exists());
}

#[test]
fn a_broken_dotenv_error_does_not_show_a_password() {
    let dir = empty_dir();
    // An unterminated quote.
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=\"postgres://u:s3cret@127.0.0.1:1/x\n",
    )
    .unwrap();
    let line = one_line_error(&people_in(dir.path()).arg("count").output().unwrap());
    assert!(line.starts_with("error: cannot read .env: "), "{line}");
    assert!(!line.contains("s3cret"), "the password is shown: {line}");
}

// ---------------------------------------------------------------------------
// migrate, add

fn migrate_on_a_migrated_database_prints_up_to_date(db: &TestDb) {
    let cli = Cli::new(db);
    assert_eq!(cli.ok(["migrate"]), "up to date\n");
    assert_eq!(cli.ok(["migrate"]), "up to date\n");
}

fn adding_one_name_prints_its_id_and_name(db: &TestDb) {
    let cli = Cli::new(db);
    assert_eq!(cli.ok(["add", "Alice"]), "1\tAlice\n");
    assert_eq!(cli.count(), 1);
}

fn adding_several_names_prints_a_row_for_each_in_order(db: &TestDb) {
    let cli = Cli::new(db);
    assert_eq!(
        cli.ok(["add", "Cy", "Ann", "Bo"]),
        rows(&["Cy", "Ann", "Bo"])
    );
    assert_eq!(cli.ok(["add", "Di"]), "4\tDi\n");
    assert_eq!(cli.ok(["list"]), rows(&["Cy", "Ann", "Bo", "Di"]));
}

fn adding_a_taken_name_exits_1_naming_it(db: &TestDb) {
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
    assert_eq!(
        cli.fails(["add", "Ann", " Bo", "Cy"]),
        "error: invalid name: \" Bo\" has leading or trailing whitespace"
    );
    assert_eq!(cli.count(), 0);
}

fn adding_an_81_character_name_is_refused_and_writes_nothing(db: &TestDb) {
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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

// ---------------------------------------------------------------------------
// get, find, list

fn get_prints_the_person_with_that_id(db: &TestDb) {
    let cli = Cli::new(db);
    cli.ok(["add", "Ann", "Bo"]);
    assert_eq!(cli.ok(["get", "2"]), "2\tBo\n");
    assert_eq!(cli.ok(["get", "1"]), "1\tAnn\n");
}

fn get_of_a_missing_id_exits_1(db: &TestDb) {
    let cli = Cli::new(db);
    cli.ok(["add", "Ann"]);
    assert_eq!(cli.fails(["get", "2"]), "error: no person with id 2");
    assert_eq!(cli.fails(["get", "0"]), "error: no person with id 0");
    assert_eq!(
        cli.fails(["get", "2147483647"]),
        "error: no person with id 2147483647"
    );
}

fn find_matches_the_exact_case_sensitive_name_only(db: &TestDb) {
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
    cli.ok(["add", "Zed", "Ann", "Mo"]);
    cli.ok(["delete", "2"]);
    assert_eq!(cli.ok(["list"]), "1\tZed\n3\tMo\n");
}

fn list_of_an_empty_database_prints_nothing(db: &TestDb) {
    let cli = Cli::new(db);
    assert_eq!(cli.ok(["list"]), "");
    assert_eq!(cli.ok(["list", "--json"]), "[]\n");
    assert_eq!(cli.ok(["list", "--search", "x"]), "");
}

fn list_json_prints_an_array_of_id_and_name(db: &TestDb) {
    let cli = Cli::new(db);
    cli.ok(["add", "Ann", "Doe, \"J\""]);
    assert_eq!(
        cli.ok(["list", "--json"]),
        "[\n{\"id\":1,\"name\":\"Ann\"},\n{\"id\":2,\"name\":\"Doe, \\\"J\\\"\"}\n]\n"
    );
    assert_eq!(
        cli.ok(["list", "--json", "--after", "1"]),
        "[\n{\"id\":2,\"name\":\"Doe, \\\"J\\\"\"}\n]\n"
    );
    assert_eq!(cli.ok(["list", "--json", "--limit", "0"]), "[]\n");
}

fn list_search_is_an_ascii_case_insensitive_substring_match(db: &TestDb) {
    let cli = Cli::new(db);
    cli.ok(["add", "Alice", "MALICE", "Bob", "alicia", "Zoë"]);
    let expected = "1\tAlice\n2\tMALICE\n4\talicia\n";
    assert_eq!(cli.ok(["list", "--search", "lic"]), expected);
    assert_eq!(cli.ok(["list", "--search", "LIC"]), expected);
    assert_eq!(cli.ok(["list", "--search", "lIc"]), expected);
    assert_eq!(cli.ok(["list", "--search", "oë"]), "5\tZoë\n");
    assert_eq!(cli.ok(["list", "--search", "bob"]), "3\tBob\n");
    assert_eq!(cli.ok(["list", "--search", "nobody"]), "");
    assert_eq!(
        cli.ok(["list", "--search", "lic", "--json"]),
        "[\n{\"id\":1,\"name\":\"Alice\"},\n{\"id\":2,\"name\":\"MALICE\"},\n{\"id\":4,\"name\":\"alicia\"}\n]\n"
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
    cli.ok(["add", "p1", "p2", "p3", "p4", "p5"]);
    assert_eq!(
        cli.ok(["list", "--page", "2", "--per-page", "2", "--json"]),
        "{\"items\":[{\"id\":3,\"name\":\"p3\"},{\"id\":4,\"name\":\"p4\"}],\
         \"page\":2,\"per_page\":2,\"total\":5,\"pages\":3}\n"
    );
    assert_eq!(
        cli.ok(["list", "--page", "3", "--per-page", "2", "--json"]),
        "{\"items\":[{\"id\":5,\"name\":\"p5\"}],\"page\":3,\"per_page\":2,\"total\":5,\"pages\":3}\n"
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
    assert_eq!(
        cli.ok(["list", "--page", "1", "--json"]),
        "{\"items\":[],\"page\":1,\"per_page\":20,\"total\":0,\"pages\":0}\n"
    );
    assert_eq!(cli.ok(["list", "--page", "1"]), "");
    assert_eq!(
        cli.fails(["list", "--page", "2"]),
        "error: invalid page: page 2 is past the end; the last page is 1"
    );
}

fn list_page_applies_the_search_to_items_and_total(db: &TestDb) {
    let cli = Cli::new(db);
    cli.ok(["add", "Ann", "Bo", "Anna", "Joanne", "50%"]);
    assert_eq!(
        cli.ok([
            "list",
            "--page",
            "2",
            "--per-page",
            "2",
            "--search",
            "ANN",
            "--json"
        ]),
        "{\"items\":[{\"id\":4,\"name\":\"Joanne\"}],\"page\":2,\"per_page\":2,\"total\":3,\"pages\":2}\n"
    );
    assert_eq!(
        cli.ok(["list", "--page", "1", "--search", "%", "--json"]),
        "{\"items\":[{\"id\":5,\"name\":\"50%\"}],\"page\":1,\"per_page\":20,\"total\":1,\"pages\":1}\n"
    );
}

fn list_page_zero_negative_or_past_the_end_exits_1(db: &TestDb) {
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
    cli.ok(["add", "p1", "p2"]);
    let max = i64::MAX.to_string();
    assert_eq!(
        cli.ok(["list", "--page", "1", "--per-page", &max, "--json"]),
        format!(
            "{{\"items\":[{{\"id\":1,\"name\":\"p1\"}},{{\"id\":2,\"name\":\"p2\"}}],\
             \"page\":1,\"per_page\":{max},\"total\":2,\"pages\":1}}\n"
        )
    );
}

// ---------------------------------------------------------------------------
// rename, delete, count

fn rename_prints_the_updated_row(db: &TestDb) {
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
    cli.ok(["add", "Alice", "Bob"]);
    assert_eq!(
        cli.fails(["rename", "1", "Bob"]),
        "error: name \"Bob\" is already taken; choose another name"
    );
    assert_eq!(cli.ok(["list"]), "1\tAlice\n2\tBob\n");
}

fn rename_to_an_invalid_name_exits_1_and_changes_nothing(db: &TestDb) {
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
    cli.ok(["add", "Alice"]);
    assert_eq!(
        cli.fails(["rename", "7", "Bob"]),
        "error: no person with id 7"
    );
    assert_eq!(cli.ok(["list"]), "1\tAlice\n");
}

fn delete_prints_the_deleted_row_and_its_id_is_never_reused(db: &TestDb) {
    let cli = Cli::new(db);
    cli.ok(["add", "Ann", "Bo", "Cy"]);
    assert_eq!(cli.ok(["delete", "3"]), "3\tCy\n");
    assert_eq!(cli.ok(["count"]), "2\n");
    assert_eq!(cli.fails(["get", "3"]), "error: no person with id 3");
    assert_eq!(cli.ok(["list"]), "1\tAnn\n2\tBo\n");
    // The highest id was deleted, and still is not handed out again.
    assert_eq!(cli.ok(["add", "Cy"]), "4\tCy\n");
}

fn delete_of_a_missing_id_exits_1(db: &TestDb) {
    let cli = Cli::new(db);
    cli.ok(["add", "Ann"]);
    assert_eq!(cli.ok(["delete", "1"]), "1\tAnn\n");
    assert_eq!(cli.fails(["delete", "1"]), "error: no person with id 1");
    assert_eq!(cli.fails(["delete", "42"]), "error: no person with id 42");
    assert_eq!(cli.count(), 0);
}

fn count_prints_the_number_of_people(db: &TestDb) {
    let cli = Cli::new(db);
    assert_eq!(cli.ok(["count"]), "0\n");
    cli.ok(["add", "Ann", "Bo", "Cy"]);
    assert_eq!(cli.ok(["count"]), "3\n");
    cli.ok(["delete", "2"]);
    assert_eq!(cli.ok(["count"]), "2\n");
}

// ---------------------------------------------------------------------------
// import

fn import_lines_accepts_crlf_and_skips_blank_lines(db: &TestDb) {
    let cli = Cli::new(db);
    let file = cli.file("names.txt", "Ann\r\n\r\nBo Bo\n\n   \r\n\t\nCy\r\nDi");
    assert_eq!(
        cli.ok([OsStr::new("import"), file.as_os_str()]),
        "imported 4, skipped 0\n"
    );
    assert_eq!(cli.ok(["list"]), rows(&["Ann", "Bo Bo", "Cy", "Di"]));
}

fn import_lines_accepts_80_four_byte_characters_with_crlf(db: &TestDb) {
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
    let missing = cli.dir.path().join("missing.txt");
    let line = cli.fails([OsStr::new("import"), missing.as_os_str()]);
    assert!(
        line.starts_with(&format!("error: cannot read {}: ", missing.display())),
        "{line}"
    );
}

fn importing_the_same_file_again_exits_1_and_keeps_the_count(db: &TestDb) {
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
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
    let cli = Cli::new(db);
    assert_eq!(
        cli.fails_with_stdin(["import"], "Ann\nBo\nAnn\n"),
        "error: name \"Ann\" is already taken; choose another name"
    );
    assert_eq!(cli.count(), 0);
}

fn import_100000_names_then_again_fails_then_skips_them_all(db: &TestDb) {
    let cli = Cli::new(db);
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

// ---------------------------------------------------------------------------
// export and the round trip

fn export_lines_prints_one_name_per_line(db: &TestDb) {
    let cli = Cli::new(db);
    cli.ok(["add", "Ann", "Doe, \"J\"", "50%"]);
    let expected = "Ann\nDoe, \"J\"\n50%\n";
    assert_eq!(cli.ok(["export"]), expected);
    assert_eq!(cli.ok(["export", "--format", "lines"]), expected);
}

fn export_csv_prints_a_header_and_quotes_as_needed(db: &TestDb) {
    let cli = Cli::new(db);
    cli.ok(["add", "Ann", "Doe, \"J\"", "\""]);
    cli.ok(["delete", "1"]);
    assert_eq!(
        cli.ok(["export", "--format", "csv"]),
        "id,name\n2,\"Doe, \"\"J\"\"\"\n3,\"\"\"\"\n"
    );
}

fn export_json_prints_an_array_of_objects(db: &TestDb) {
    let cli = Cli::new(db);
    cli.ok(["add", "Ann", "Bo \\ \"B\""]);
    assert_eq!(
        cli.ok(["export", "--format", "json"]),
        "[\n{\"id\":1,\"name\":\"Ann\"},\n{\"id\":2,\"name\":\"Bo \\\\ \\\"B\\\"\"}\n]\n"
    );
}

fn export_of_an_empty_database_is_valid_in_each_format(db: &TestDb) {
    let cli = Cli::new(db);
    assert_eq!(cli.ok(["export", "--format", "lines"]), "");
    assert_eq!(cli.ok(["export", "--format", "csv"]), "id,name\n");
    assert_eq!(cli.ok(["export", "--format", "json"]), "[]\n");
}

/// `people export --format F | people import --format F`, through a real pipe.
/// Returns the importer's stdout.
fn pipe_export_into_import(from: &Cli, to: &Cli, format: &str) -> String {
    let mut export = std::process::Command::new(assert_cmd::cargo::cargo_bin("people"));
    export
        .current_dir(from.dir.path())
        .env_remove("DATABASE_URL")
        .args(["--database-url", &from.url, "export", "--format", format])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut exporter = export.spawn().expect("spawn export");
    let pipe = exporter.stdout.take().expect("export stdout");
    let mut import = std::process::Command::new(assert_cmd::cargo::cargo_bin("people"));
    import
        .current_dir(to.dir.path())
        .env_remove("DATABASE_URL")
        .args(["--database-url", &to.url, "import", "--format", format])
        .stdin(Stdio::from(pipe))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let imported = import.output().expect("run import");
    let exported = exporter.wait_with_output().expect("wait for export");
    assert!(succeeded(&exported).is_empty());
    succeeded(&imported)
}

fn round_trip_reproduces_awkward_names(db: &TestDb, format: &str) {
    let names = awkward_names();
    let from = Cli::new(db);
    let mut add = vec!["add".to_owned(), "--".to_owned()];
    add.extend(names.iter().cloned());
    assert_eq!(from.ok(&add), rows(&names));

    let fresh = another_db_like(db);
    let to = Cli::new(&fresh);
    assert_eq!(
        pipe_export_into_import(&from, &to, format),
        format!("imported {}, skipped 0\n", names.len())
    );
    // Same names, same order, so same ids: the exports are byte for byte equal.
    for f in ["lines", "csv", "json"] {
        assert_eq!(
            to.ok(["export", "--format", f]),
            from.ok(["export", "--format", f]),
            "{f} export after a {format} round trip"
        );
    }
    assert_eq!(json_names(&to.ok(["export", "--format", "json"])), names);
    assert_eq!(to.ok(["list"]), rows(&names));
}

fn round_trip_through_lines_reproduces_awkward_names(db: &TestDb) {
    round_trip_reproduces_awkward_names(db, "lines");
}

fn round_trip_through_csv_reproduces_awkward_names(db: &TestDb) {
    round_trip_reproduces_awkward_names(db, "csv");
}

fn round_trip_through_json_reproduces_awkward_names(db: &TestDb) {
    round_trip_reproduces_awkward_names(db, "json");
}

fn round_trip_of_an_empty_database_imports_nothing(db: &TestDb) {
    let from = Cli::new(db);
    let fresh = another_db_like(db);
    let to = Cli::new(&fresh);
    for format in ["lines", "csv", "json"] {
        assert_eq!(
            pipe_export_into_import(&from, &to, format),
            "imported 0, skipped 0\n",
            "{format}"
        );
    }
    assert_eq!(to.count(), 0);
}

fn awkward_names_are_stored_and_found_exactly(db: &TestDb) {
    let names = awkward_names();
    let cli = Cli::new(db);
    let mut add = vec!["add".to_owned(), "--".to_owned()];
    add.extend(names.iter().cloned());
    assert_eq!(cli.ok(&add), rows(&names));
    assert_eq!(cli.count(), names.len() as u64);
    // The SQL-looking names did nothing to the table.
    assert_eq!(cli.ok(["list"]), rows(&names));
    for (i, name) in names.iter().enumerate() {
        let id = i + 1;
        assert_eq!(
            cli.ok(["find", "--", name]),
            format!("{id}\t{name}\n"),
            "{name:?}"
        );
        assert_eq!(cli.ok(["get", &id.to_string()]), format!("{id}\t{name}\n"));
    }
    // Precomposed and decomposed are different names, never normalized.
    assert_eq!(cli.ok(["find", "Zo\u{eb}"]), "13\tZo\u{eb}\n");
    assert_eq!(cli.ok(["find", "Zoe\u{308}"]), "14\tZoe\u{308}\n");
}

/// `people export | head -1`: the reader goes away early, which is no error.
fn stdout_closed_early_exits_0_silently(db: &TestDb) {
    let cli = Cli::new(db);
    let names: Vec<String> = (1..=30_000)
        .map(|i| format!("someone with a longish name {i:06}"))
        .collect();
    assert_eq!(
        cli.ok_with_stdin(["import"], names.join("\n")),
        "imported 30000, skipped 0\n"
    );
    for args in [
        &["export"][..],
        &["export", "--format", "csv"],
        &["export", "--format", "json"],
        &["list"],
        &["list", "--json"],
    ] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("people"))
            .current_dir(cli.dir.path())
            .env_remove("DATABASE_URL")
            .arg("--database-url")
            .arg(&cli.url)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn people");
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        reader.read_line(&mut first).expect("read one line");
        assert!(!first.is_empty(), "{args:?} printed nothing");
        drop(reader);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut stderr)
            .expect("read stderr");
        let status = child.wait().expect("wait for people");
        assert!(status.success(), "{args:?}: {status:?}, stderr: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}
