//! Hostile input, through the real `people` binary and, where it makes
//! sense, the library: SQL injection and format strings in names, NUL bytes,
//! bidi overrides, emoji ZWJ sequences and combining characters at the
//! 80-character edge, 10 MB lines, names and fields, invalid UTF-8 in files
//! and arguments, a million-line import with one bad line at the end, and
//! ids that overflow, are negative or are not numbers.
//!
//! Each input is either stored exactly (read back byte-identical) or refused
//! with one clear `error: …` line (exit 1; clap's usage errors exit 2), never
//! a panic, and a refused write leaves nothing behind.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Output;

use crate::support::*;
use assert_cmd::Command;
use diesel::{ExpressionMethods, RunQueryDsl};
use people::{Backend, Error, OnConflict, PersonName};

const MAX_NAME_CHARS: usize = PersonName::MAX_CHARS;

crate::support::tests! {
    plain {
        a_nul_byte_cannot_be_passed_as_an_argument_at_all,
        a_row_another_program_wrote_that_people_cannot_read_is_named_by_id,
        invalid_utf8_arguments_are_usage_errors_that_touch_nothing,
        an_import_file_whose_path_is_not_utf8_is_read_or_reported_in_one_line,
        a_10_mb_line_in_a_lines_import_is_refused_by_number_without_reading_it_whole => [GNU_TIME],
        a_10_mb_csv_field_is_refused_with_its_line_number_and_writes_nothing,
        a_10_mb_json_field_is_refused_with_its_record_number_and_writes_nothing,
        a_10_mb_csv_field_is_refused_without_reading_it_whole => [GNU_TIME],
        a_10_mb_json_field_is_refused_without_reading_it_whole => [GNU_TIME],
        a_10_mb_argument_is_refused_by_the_os_before_people_runs,
        ids_that_are_not_valid_numbers_are_usage_errors_that_touch_nothing,
        an_id_past_i32_max_written_by_another_program_is_refused_by_the_database,
    }
    per_backend {
        hostile_names_are_stored_and_read_back_byte_identical,
        control_characters_are_refused_in_one_line_and_write_nothing,
        error_messages_escape_bidi_invisible_and_escape_characters,
        error_messages_show_combining_marks_and_apostrophes_as_typed,
        names_at_the_80_character_edge_count_unicode_scalar_values,
        the_database_counts_characters_like_the_model_at_the_edge,
        nul_bytes_in_import_files_are_refused_with_their_location,
        nul_bytes_given_to_the_library_are_refused_or_match_nobody,
        invalid_utf8_in_import_files_is_refused_with_its_location,
        the_longest_possible_name_argument_is_refused_in_one_short_line,
        find_with_the_longest_possible_argument_says_not_found_in_one_short_line,
        list_search_for_text_longer_than_any_name_prints_nobody,
        a_10_mb_name_is_refused_by_the_library_without_touching_the_database,
        a_million_line_import_with_a_bad_last_line_writes_nothing_and_names_line_1000000,
        negative_zero_and_extreme_ids_are_not_found_in_one_line,
        list_at_the_integer_edges_answers_or_refuses_in_one_line,
        adding_past_the_last_i32_id_fails_in_one_line_and_writes_nothing,
    }
}

// ---------------------------------------------------------------------------
// Helpers

/// `ID<TAB>NAME\n`.
fn row(id: i64, name: &str) -> String {
    format!("{id}\t{name}\n")
}

/// A runner on `db` whose database already holds `Existing` (id 1), so that
/// "nothing written" is checked against a non-empty table.
fn seeded(db: &TestDb) -> Runner {
    let run = Runner::new(db.url());
    assert_eq!(run.ok(["add", "Existing"]), row(1, "Existing"));
    run
}

/// Asserts the database still holds exactly `Existing`.
#[track_caller]
fn only_existing(run: &Runner) {
    assert_eq!(run.ok(["list"]), row(1, "Existing"));
}

/// The bytes of a name as each export format and the library give them back.
#[track_caller]
fn assert_read_back_exactly(db: &TestDb, run: &Runner, id: i64, name: &str) {
    assert_eq!(run.ok(["get", &id.to_string()]), row(id, name), "get");
    assert_eq!(run.ok(["find", name]), row(id, name), "find");
    let found = run.ok(["list", "--search", name]);
    assert!(
        found.contains(&row(id, name)),
        "search for {name:?}: {found:?}"
    );
    let mut conn = db.connect().unwrap();
    let id32 = i32::try_from(id).unwrap();
    assert_eq!(
        people::get(&mut conn, id32).unwrap().name.as_bytes(),
        name.as_bytes()
    );
    assert_eq!(
        people::find_by_name(&mut conn, name).unwrap().map(|p| p.id),
        Some(id32)
    );
}

/// Every name in each export format, parsed with the matching reader.
fn exported_names(run: &Runner) -> [Vec<String>; 3] {
    let lines = run.ok(["export"]);
    let lines: Vec<String> = lines.lines().map(str::to_owned).collect();
    let csv_text = run.ok(["export", "--format", "csv"]);
    let csv: Vec<String> = csv::Reader::from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.expect("valid CSV")[1].to_owned())
        .collect();
    let json: Vec<serde_json::Value> =
        serde_json::from_str(&run.ok(["export", "--format", "json"])).expect("valid JSON");
    let json = json
        .iter()
        .map(|p| p["name"].as_str().expect("a string").to_owned())
        .collect();
    [lines, csv, json]
}

/// The peak resident memory of `people --database-url URL args…`, in KiB,
/// measured by GNU time (tests that call it require [`GNU_TIME`]).
fn max_rss_kib(run: &Runner, args: &[&OsStr]) -> (Output, u64) {
    let time = Path::new("/usr/bin/time");
    let report = run.cwd.path().join("time.txt");
    let output = Command::new(time)
        .arg("-o")
        .arg(&report)
        .args(["-f", "%M"])
        .arg(PEOPLE)
        .arg("--database-url")
        .arg(&run.url)
        .args(args)
        .current_dir(run.cwd.path())
        .env_remove("DATABASE_URL")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    // With -o, GNU time writes "Command exited with non-zero status N"
    // before the figure, into the report, not onto the child's stderr.
    let report = std::fs::read_to_string(&report).unwrap();
    let kib = report
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or_else(|| panic!("GNU time reported {report:?}"));
    (output, kib)
}

/// How much more than `people count` an import may use: its buffers are
/// small and fixed, so 4 MiB is plenty. A 10 MB input read whole is not.
const IMPORT_MEMORY_ALLOWANCE_KIB: u64 = 4 * 1024;

/// Imports `contents` (written to a file) in `format` under GNU time and
/// returns the error line and the memory used beyond `people count`.
fn import_measured(run: &Runner, format: &str, contents: &[u8]) -> (String, u64) {
    let file = run.file(&format!("input.{format}"), contents);
    let args: Vec<&OsStr> = vec![
        OsStr::new("import"),
        OsStr::new("--format"),
        OsStr::new(format),
        file.as_os_str(),
    ];
    let (_, baseline) = max_rss_kib(run, &[OsStr::new("count")]);
    let (output, used) = max_rss_kib(run, &args);
    (one_line_error(&output), used.saturating_sub(baseline))
}

const TEN_MB: usize = 10 * 1024 * 1024;

/// A 10 MB name in each import format, between two good ones.
fn ten_mb_field(format: &str) -> Vec<u8> {
    let huge = "x".repeat(TEN_MB);
    match format {
        "lines" => format!("Ann\n{huge}\nBo\n"),
        "csv" => format!("id,name\n1,Ann\n2,{huge}\n3,Bo\n"),
        "json" => format!(
            r#"[{{"id":1,"name":"Ann"}},{{"id":2,"name":"{huge}"}},{{"id":3,"name":"Bo"}}]"#
        ),
        other => panic!("unknown format {other}"),
    }
    .into_bytes()
}

// ---------------------------------------------------------------------------
// Names that attack the SQL, the formatting, the terminal or the eye

/// Valid names that are SQL injection attempts, format strings, shell
/// syntax, escapes, bidi controls, ZWJ sequences and combining marks.
fn hostile_names() -> Vec<String> {
    [
        "Robert'); DROP TABLE person;--",
        "' OR '1'='1",
        "' OR 1=1; --",
        "1; DELETE FROM person",
        "\"; DROP TABLE __diesel_schema_migrations; --",
        "x' UNION SELECT id, name FROM person --",
        "'; ATTACH DATABASE '/tmp/pwned.db' AS p; --",
        "$1 $2 ?1 ? :name @name",
        "%s%n{}{0}",
        "%x%x%x%x%n%p%d%%",
        "{name}{0:?}{:>999999}{}",
        "${HOME} $(id) `id` !!",
        r"\x00 \n \u{0} \\ \'",
        "%_\\%",
        "\u{202e}gnp.exe",
        "abc\u{202e}fed\u{202c}ghi",
        "\u{202b}\u{645}\u{631}\u{62d}\u{628}\u{627}\u{202c} mixed",
        "\u{2066}isolate\u{2069}\u{2067}rtl\u{2069}",
        "\u{200f}rlm \u{200e}lrm",
        "\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}\u{200d}\u{1f466}",
        "\u{1f3f3}\u{fe0f}\u{200d}\u{1f308}",
        "\u{1f9d1}\u{1f3fd}\u{200d}\u{1f680}",
        "\u{1f1fa}\u{1f1e6}\u{1f1ef}\u{1f1f5}",
        "e\u{301}\u{302}\u{303}\u{304}",
        "Z\u{35f}\u{361}a\u{338}l\u{334}g\u{335}o\u{336}",
        "\u{301}starts with a combining mark",
        "\u{feff}bom",
        "\u{200b}\u{200c}\u{200d}zero widths",
        "\u{fffd}\u{fffe}\u{ffff}",
        "\u{10ffff}last scalar",
        "\u{e000}private use",
        "line\u{2028}separator",
        "\u{115f}\u{3164}hangul fillers",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

fn hostile_names_are_stored_and_read_back_byte_identical(db: &TestDb) {
    let run = seeded(db);
    let names = hostile_names();
    for (i, name) in names.iter().enumerate() {
        let id = i as i64 + 2;
        assert_eq!(run.ok(["add", name]), row(id, name), "add {name:?}");
        assert_read_back_exactly(db, &run, id, name);
    }
    let mut expected = vec!["Existing".to_owned()];
    expected.extend(names.iter().cloned());
    for (format, exported) in ["lines", "csv", "json"].iter().zip(exported_names(&run)) {
        assert_eq!(exported, expected, "export --format {format}");
    }
    // The tables survived every attempt.
    assert_eq!(run.count(), names.len() as u64 + 1);
    // Renaming to each of them stores it exactly too.
    for name in &names {
        let renamed = format!("{name} (renamed)");
        assert_eq!(run.ok(["rename", "1", &renamed]), row(1, &renamed));
        assert_read_back_exactly(db, &run, 1, &renamed);
    }
}

fn control_characters_are_refused_in_one_line_and_write_nothing(db: &TestDb) {
    let run = seeded(db);
    for (name, shown) in [
        ("a\u{7}b", r"'\u{7}'"),
        ("\u{1b}[2J\u{1b}[Hcleared", r"'\u{1b}'"),
        ("a\u{7f}b", r"'\u{7f}'"),
        ("a\u{85}b", r"'\u{85}'"),
        ("a\u{9b}31mb", r"'\u{9b}'"),
        ("tab\tname", r"'\t'"),
        ("new\nline", r"'\n'"),
        ("carriage\rreturn", r"'\r'"),
    ] {
        for args in [
            vec!["add", name],
            vec!["add", "Fine", name],
            vec!["rename", "1", name],
        ] {
            let line = run.fails(&args);
            assert!(
                line.starts_with("error: invalid name: ")
                    && line.contains(&format!("contains the control character {shown}")),
                "{args:?}: {line}"
            );
            assert!(!line.contains(|c: char| c.is_control()), "{line:?}");
        }
    }
    only_existing(&run);
}

fn error_messages_escape_bidi_invisible_and_escape_characters(db: &TestDb) {
    let run = seeded(db);
    let tricky = "\u{202e}\u{200b}\u{feff}\u{2066}x\u{200d}";
    run.ok(["add", tricky]);
    for (args, expected) in [
        (
            vec!["add", tricky],
            r#"error: name "\u{202e}\u{200b}\u{feff}\u{2066}x\u{200d}" is already taken; choose another name"#,
        ),
        (
            vec!["find", "\u{202e}missing"],
            r#"error: no person named "\u{202e}missing""#,
        ),
        (
            vec!["add", "\u{1b}]0;title\u{7}"],
            r#"error: invalid name: "\u{1b}]0;title\u{7}" contains the control character '\u{1b}' at position 1"#,
        ),
    ] {
        assert_eq!(run.fails(&args), expected, "{args:?}");
    }
    assert_eq!(run.count(), 2);
}

/// A decomposed "José" (as macOS writes file names and much pasted text)
/// reads as typed, not as `"Jose\u{301}"`; an apostrophe is not escaped.
fn error_messages_show_combining_marks_and_apostrophes_as_typed(db: &TestDb) {
    let run = seeded(db);
    for name in ["Jose\u{301}", "O'Brien", "Zoe\u{308} Hall"] {
        run.ok(["add", name]);
        assert_eq!(
            run.fails(["add", name]),
            format!("error: name \"{name}\" is already taken; choose another name"),
        );
    }
    assert_eq!(run.count(), 4);
}

/// SQLite keeps whatever another program writes: a time or a name people
/// cannot read fails every read that meets the row in one line that says
/// which person and which column, so it can be found and mended.
fn a_row_another_program_wrote_that_people_cannot_read_is_named_by_id() {
    use diesel::connection::SimpleConnection;
    let db = sqlite_db();
    let run = Runner::new(db.url());
    run.ok(["add", "Ada", "Bo", "Cy"]);
    let mut conn = people::open(db.url()).unwrap();
    conn.batch_execute("UPDATE person SET created_at = 'not a time' WHERE id = 2")
        .unwrap();
    let bad_time =
        "error: person 2 cannot be read: its created_at is not valid: Invalid datetime not a time";
    for args in [vec!["get", "2"], vec!["find", "Bo"], vec!["list"]] {
        assert_eq!(run.fails(&args), bad_time, "{args:?}");
    }
    // An export streams: it has printed Ada when it meets Bo.
    let export = run.output(["export", "--format", "json"]);
    assert_eq!(one_line_error_after_output(&export), bad_time);
    assert!(matches!(
        people::list(&mut conn, None, 10),
        Err(Error::UnreadablePerson { id: 2, ref column, .. }) if column == "created_at"
    ));
    conn.batch_execute(
        "UPDATE person SET created_at = updated_at, name = CAST(x'42C3' AS TEXT) WHERE id = 2",
    )
    .unwrap();
    let bad_name = run.fails(["get", "2"]);
    assert!(
        bad_name.starts_with("error: person 2 cannot be read: its name is not valid: ")
            && bad_name.contains("utf-8"),
        "{bad_name}"
    );
    assert_eq!(run.ok(["get", "3"]), "3\tCy\n");
}

// ---------------------------------------------------------------------------
// The 80-character edge: characters are Unicode scalar values

/// `(name, scalar values)` pairs on both sides of the edge.
fn edge_cases() -> Vec<(String, usize)> {
    let family = "\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}\u{200d}\u{1f466}"; // 7 scalars
    let flag = "\u{1f1fa}\u{1f1e6}"; // 2 scalars
    let heart = "\u{2764}\u{fe0f}"; // 2 scalars
    let cases = vec![
        "e\u{301}".repeat(40),
        format!("{}e", "e\u{301}".repeat(40)),
        format!("a{}", "\u{301}".repeat(79)),
        format!("a{}", "\u{301}".repeat(80)),
        format!("{}abc", family.repeat(11)),
        format!("{}abcd", family.repeat(11)),
        flag.repeat(40),
        format!("{}\u{1f1fa}", flag.repeat(40)),
        heart.repeat(40),
        format!("{}!", heart.repeat(40)),
        "\u{1d11e}".repeat(80),
        "\u{1d11e}".repeat(81),
    ];
    cases
        .into_iter()
        .map(|name| {
            let chars = name.chars().count();
            (name, chars)
        })
        .collect()
}

fn names_at_the_80_character_edge_count_unicode_scalar_values(db: &TestDb) {
    let run = seeded(db);
    let mut added = 1;
    let mut last_id = 1;
    for (name, chars) in edge_cases() {
        assert!(chars == MAX_NAME_CHARS || chars == MAX_NAME_CHARS + 1);
        if chars == MAX_NAME_CHARS {
            // On PostgreSQL a refused import below may have spent sequence
            // values (rows streamed before the bad line, rolled back): ids
            // only grow, they need not be consecutive.
            let line = run.ok(["add", &name]);
            let (id, stored) = line.trim_end_matches('\n').split_once('\t').unwrap();
            let id: i64 = id.parse().unwrap();
            assert!(id > last_id, "{line}");
            assert_eq!(stored, name, "{chars} chars");
            assert_read_back_exactly(db, &run, id, &name);
            last_id = id;
            added += 1;
        } else {
            for args in [
                vec!["add", name.as_str()],
                vec!["rename", "1", name.as_str()],
            ] {
                let line = run.fails(&args);
                assert_too_long(&line, "error: ");
            }
            // In an import, with its line number.
            // (A line too long in bytes to be a name is refused unread.)
            let line = run.fails_with_stdin(["import"], format!("Fine\n{name}\n"));
            if line != "error: line 2: invalid name: longer than 80 characters" {
                assert_too_long(&line, "error: line 2: ");
            }
            assert!(PersonName::new(name.as_str()).is_err());
        }
    }
    assert_eq!(run.count(), added);
    assert_eq!(run.ok(["get", "1"]), row(1, "Existing"));
}

/// Asserts `line` is `{prefix}invalid name: "<the start of it>…" is longer
/// than 80 characters`, and short whatever the name's length.
#[track_caller]
/// A name refused for its length: either with a preview of it (when it was
/// read, e.g. from an argument) or, when the reader refused the record
/// before reading it whole (import files), without one.
fn assert_too_long(line: &str, prefix: &str) {
    let previewed = line.starts_with(&format!("{prefix}invalid name: \""))
        && line.ends_with("…\" is longer than 80 characters");
    let unread = line == format!("{prefix}invalid name: longer than 80 characters");
    let short = line.chars().count() < prefix.chars().count() + 120;
    assert!((previewed || unread) && short, "{line}");
}

fn the_database_counts_characters_like_the_model_at_the_edge(db: &TestDb) {
    use people::schema::person;
    let mut conn = db.connect().unwrap();
    let mut stored = 0;
    for (name, chars) in edge_cases() {
        let result = diesel::insert_into(person::table)
            .values(person::name.eq(&name))
            .execute(&mut conn);
        assert_eq!(
            result.is_ok(),
            chars <= MAX_NAME_CHARS,
            "{chars}: {result:?}"
        );
        stored += usize::from(result.is_ok());
    }
    assert_eq!(people::count(&mut conn).unwrap(), stored as i64);
}

// ---------------------------------------------------------------------------
// NUL bytes

fn nul_bytes_in_import_files_are_refused_with_their_location(db: &TestDb) {
    let run = seeded(db);
    let control = r#"invalid name: "B\0o" contains the control character '\0' at position 2"#;
    for (format, input, expected) in [
        ("lines", &b"Ann\nB\0o\n"[..], format!("error: line 2: {control}")),
        (
            "lines",
            b"\0\n",
            r#"error: line 1: invalid name: "\0" contains the control character '\0' at position 1"#
                .to_owned(),
        ),
        ("csv", b"id,name\n1,Ann\n2,B\0o\n", format!("error: line 3: {control}")),
        ("csv", b"id,name\n1,Ann\n2,\"B\0o\"\n", format!("error: line 3: {control}")),
        (
            "json",
            br#"[{"id":1,"name":"Ann"},{"id":2,"name":"B\u0000o"}]"#,
            format!("error: record 2: {control}"),
        ),
        (
            "json",
            b"[{\"id\":1,\"name\":\"Ann\"},{\"id\":2,\"name\":\"B\0o\"}]",
            "error: line 1: invalid JSON: control character (\\u0000-\\u001F) found while parsing a string"
                .to_owned(),
        ),
    ] {
        assert_eq!(
            run.fails_with_stdin(["import", "--format", format], input),
            expected,
            "{format}: {input:?}"
        );
    }
    only_existing(&run);
}

fn nul_bytes_given_to_the_library_are_refused_or_match_nobody(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    people::create(&mut conn, "Ann").unwrap();
    for name in ["a\0b", "\0", "Ann\0"] {
        assert!(matches!(
            people::create(&mut conn, name),
            Err(Error::InvalidName { .. })
        ));
        assert!(matches!(
            people::rename(&mut conn, 1, name),
            Err(Error::InvalidName { .. })
        ));
        assert!(matches!(
            people::create_many(&mut conn, ["Bo", name], OnConflict::Fail),
            Err(Error::InvalidName { .. })
        ));
        // Looking a NUL up finds nobody; PostgreSQL may refuse the text
        // outright, in one line.
        for result in [
            people::find_by_name(&mut conn, name).map(|p| p.is_none()),
            people::search(&mut conn, name, None, 10).map(|p| p.is_empty()),
        ] {
            match result {
                Ok(nobody) => assert!(nobody, "{name:?} matched someone"),
                Err(error) => assert!(!error.to_string().contains('\n'), "{error}"),
            }
        }
    }
    // The connection is still usable and nothing was written.
    assert_eq!(people::count(&mut conn).unwrap(), 1);
    assert_eq!(people::get(&mut conn, 1).unwrap().name, "Ann");
}

fn a_nul_byte_cannot_be_passed_as_an_argument_at_all() {
    // The OS passes arguments as C strings: std refuses before exec.
    let dir = temp_dir();
    let db = dir.path().join("people.db");
    let error = std::process::Command::new(PEOPLE)
        .arg("--database-url")
        .arg(&db)
        .args(["add", "a\0b"])
        .output()
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
    assert!(!db.exists());
}

// ---------------------------------------------------------------------------
// Invalid UTF-8

fn invalid_utf8_in_import_files_is_refused_with_its_location(db: &TestDb) {
    let run = seeded(db);
    let cases: &[(&str, &[u8], &str)] = &[
        ("lines", b"Ann\nB\xffo\n", "error: line 2: not valid UTF-8"),
        (
            "lines",
            b"\xc0\xaf overlong slash\n",
            "error: line 1: not valid UTF-8",
        ),
        (
            "lines",
            b"\xed\xa0\x80 surrogate\n",
            "error: line 1: not valid UTF-8",
        ),
        (
            "lines",
            b"\xf4\x90\x80\x80 past U+10FFFF\n",
            "error: line 1: not valid UTF-8",
        ),
        (
            "lines",
            b"Ann\nBo\nends mid-char \xc3",
            "error: line 3: not valid UTF-8",
        ),
        (
            "lines",
            b"\xff\xfeA\0n\0n\0\n\0",
            "error: line 1: not valid UTF-8",
        ),
        (
            "lines",
            b"Ann\r\nB\xe9atrice\r\n",
            "error: line 2: not valid UTF-8",
        ),
        (
            "csv",
            b"id,name\n1,Ann\n2,B\xffo\n",
            "error: line 3: not valid UTF-8",
        ),
        (
            "csv",
            b"id,name\n1,Ann\n2,\"B\xffo\"\n",
            "error: line 3: not valid UTF-8",
        ),
        (
            "csv",
            b"id,name\n1\xff,Ann\n",
            "error: line 2: not valid UTF-8",
        ),
        (
            "csv",
            b"id,n\xffame\n1,Ann\n",
            "error: line 1: not valid UTF-8",
        ),
        (
            "json",
            b"[{\"id\":1,\"name\":\"Ann\"},{\"id\":2,\"name\":\"B\xffo\"}]",
            "error: line 1: invalid JSON: invalid unicode code point",
        ),
        (
            "json",
            b"[{\"id\":1,\"n\xff\":0,\"name\":\"Ann\"}]",
            "error: line 1: invalid JSON: invalid unicode code point",
        ),
    ];
    for (format, input, expected) in cases {
        assert_eq!(
            run.fails_with_stdin(["import", "--format", format], *input),
            *expected,
            "{format}: {input:?}"
        );
    }
    // A lone surrogate escape is not a character either.
    let line = run.fails_with_stdin(
        ["import", "--format", "json"],
        &br#"[{"id":1,"name":"\ud800"}]"#[..],
    );
    assert!(line.starts_with("error: line 1: invalid JSON: "), "{line}");
    only_existing(&run);
}

fn invalid_utf8_arguments_are_usage_errors_that_touch_nothing() {
    let dir = temp_dir();
    let db = dir.path().join("people.db");
    let run = Runner::new(&db.display().to_string());
    run.ok(["add", "Ann"]);
    let before = std::fs::read(&db).unwrap();
    let os = OsStr::new;
    let bad = OsStr::from_bytes(b"B\xffo");
    let cases: Vec<Vec<&OsStr>> = vec![
        vec![os("add"), bad],
        vec![os("add"), os("Fine"), bad],
        vec![os("find"), bad],
        vec![os("rename"), os("1"), bad],
        vec![os("list"), os("--search"), bad],
        vec![os("get"), OsStr::from_bytes(b"1\xff")],
        vec![os("delete"), OsStr::from_bytes(b"\xff")],
    ];
    for args in &cases {
        let line = usage_error(&run.output(args));
        assert_eq!(
            line, "error: invalid UTF-8 was detected in one or more arguments",
            "{args:?}"
        );
    }
    // The database URL itself, by flag or by environment.
    let cwd = temp_dir();
    let bad_url = OsStr::from_bytes(b"\xff.db");
    let flag = Command::new(PEOPLE)
        .arg("--database-url")
        .arg(bad_url)
        .arg("count")
        .current_dir(cwd.path())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let env = Command::new(PEOPLE)
        .arg("count")
        .current_dir(cwd.path())
        .env("DATABASE_URL", bad_url)
        .output()
        .unwrap();
    for output in [flag, env] {
        usage_error(&output);
    }
    assert!(std::fs::read_dir(cwd.path()).unwrap().next().is_none());
    assert_eq!(std::fs::read(&db).unwrap(), before, "the database changed");
}

fn an_import_file_whose_path_is_not_utf8_is_read_or_reported_in_one_line() {
    let dir = temp_dir();
    let run = Runner::new(&dir.path().join("people.db").display().to_string());
    let path = run.cwd.path().join(OsStr::from_bytes(b"names-\xff.txt"));
    std::fs::write(&path, "Ann\nBo\n").unwrap();
    assert_eq!(
        run.ok([OsStr::new("import"), path.as_os_str()]),
        "imported 2, skipped 0\n"
    );
    let missing = run.cwd.path().join(OsStr::from_bytes(b"missing-\xff.txt"));
    assert_eq!(
        run.fails([OsStr::new("import"), missing.as_os_str()]),
        format!(
            "error: cannot read {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
    assert_eq!(run.count(), 2);
}

// ---------------------------------------------------------------------------
// Huge input: 10 MB lines, fields and names

fn a_10_mb_line_in_a_lines_import_is_refused_by_number_without_reading_it_whole() {
    let dir = temp_dir();
    let run = Runner::new(&dir.path().join("people.db").display().to_string());
    run.ok(["migrate"]);
    let (line, extra) = import_measured(&run, "lines", &ten_mb_field("lines"));
    assert_eq!(
        line,
        "error: line 2: invalid name: longer than 80 characters"
    );
    assert!(
        extra < IMPORT_MEMORY_ALLOWANCE_KIB,
        "the 10 MB line was read into memory: {extra} KiB more than `people count`"
    );
    assert_eq!(run.count(), 0);
}

fn a_10_mb_csv_field_is_refused_with_its_line_number_and_writes_nothing() {
    let dir = temp_dir();
    let run = Runner::new(&dir.path().join("people.db").display().to_string());
    run.ok(["migrate"]);
    let line = run.fails_with_stdin(["import", "--format", "csv"], ten_mb_field("csv"));
    assert_too_long(&line, "error: line 3: ");
    assert_eq!(run.count(), 0);
}

fn a_10_mb_json_field_is_refused_with_its_record_number_and_writes_nothing() {
    let dir = temp_dir();
    let run = Runner::new(&dir.path().join("people.db").display().to_string());
    run.ok(["migrate"]);
    let line = run.fails_with_stdin(["import", "--format", "json"], ten_mb_field("json"));
    assert_too_long(&line, "error: record 2: ");
    assert_eq!(run.count(), 0);
}

/// `read_names` promises bounded memory "whatever the input": the CSV reader
/// must refuse an over-long record before holding it whole.
fn a_10_mb_csv_field_is_refused_without_reading_it_whole() {
    let dir = temp_dir();
    let run = Runner::new(&dir.path().join("people.db").display().to_string());
    run.ok(["migrate"]);
    let (line, extra) = import_measured(&run, "csv", &ten_mb_field("csv"));
    assert_too_long(&line, "error: line 3: ");
    assert!(
        extra < IMPORT_MEMORY_ALLOWANCE_KIB,
        "the 10 MB CSV field was read into memory: {extra} KiB more than `people count`"
    );
}

/// The same promise for JSON, where serde_json would hold a whole string.
fn a_10_mb_json_field_is_refused_without_reading_it_whole() {
    let dir = temp_dir();
    let run = Runner::new(&dir.path().join("people.db").display().to_string());
    run.ok(["migrate"]);
    let (line, extra) = import_measured(&run, "json", &ten_mb_field("json"));
    assert_too_long(&line, "error: record 2: ");
    assert!(
        extra < IMPORT_MEMORY_ALLOWANCE_KIB,
        "the 10 MB JSON field was read into memory: {extra} KiB more than `people count`"
    );
}

fn a_10_mb_argument_is_refused_by_the_os_before_people_runs() {
    // Linux caps one argument at MAX_ARG_STRLEN (128 KiB): exec fails with E2BIG.
    let dir = temp_dir();
    let db = dir.path().join("people.db");
    let huge = "x".repeat(TEN_MB);
    for args in [["add", huge.as_str()], ["find", huge.as_str()]] {
        let error = std::process::Command::new(PEOPLE)
            .arg("--database-url")
            .arg(&db)
            .args(args)
            .output()
            .unwrap_err();
        assert_eq!(error.raw_os_error(), Some(7), "expected E2BIG: {error}");
    }
    assert!(!db.exists());
}

/// The longest single argument Linux passes: 128 KiB less the NUL.
const LONGEST_ARGUMENT: usize = 32 * 4096 - 1;

fn the_longest_possible_name_argument_is_refused_in_one_short_line(db: &TestDb) {
    let run = seeded(db);
    let ascii = "x".repeat(LONGEST_ARGUMENT);
    let accents = "\u{e9}".repeat(LONGEST_ARGUMENT / 2);
    for huge in [&ascii, &accents] {
        for args in [
            vec!["add", huge.as_str()],
            vec!["add", "Fine", huge.as_str()],
            vec!["rename", "1", huge.as_str()],
        ] {
            assert_too_long(&run.fails(&args), "error: ");
        }
    }
    only_existing(&run);
}

fn find_with_the_longest_possible_argument_says_not_found_in_one_short_line(db: &TestDb) {
    let run = seeded(db);
    let huge = "x".repeat(LONGEST_ARGUMENT);
    let line = run.fails(["find", huge.as_str()]);
    assert!(
        line.starts_with("error: no person named \"xxxx"),
        "{}",
        &line[..80]
    );
    assert!(
        line.len() < 300,
        "the whole {} byte name is echoed: a {} byte error line",
        huge.len(),
        line.len()
    );
}

fn list_search_for_text_longer_than_any_name_prints_nobody(db: &TestDb) {
    let run = seeded(db);
    for needle in [
        "x".repeat(MAX_NAME_CHARS + 1),
        "x".repeat(60_000),
        "%".repeat(30_000),
        "x".repeat(LONGEST_ARGUMENT),
    ] {
        for args in [
            vec!["list", "--search", needle.as_str()],
            vec!["list", "--search", needle.as_str(), "--json"],
            vec!["list", "--page", "1", "--search", needle.as_str()],
        ] {
            let output = run.output(&args);
            let expected = if args.contains(&"--json") { "[]\n" } else { "" };
            match clean_outcome(&output) {
                Ok(out) => assert_eq!(out, expected),
                Err(line) => panic!(
                    "a search for {} characters nobody can have failed: {line}",
                    needle.len()
                ),
            }
        }
    }
}

fn a_10_mb_name_is_refused_by_the_library_without_touching_the_database(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    people::create(&mut conn, "Ann").unwrap();
    let huge = "x".repeat(TEN_MB);
    let refused = |result: people::Result<()>| match result {
        Err(Error::InvalidName { reason }) => assert!(reason.len() < 100, "{reason}"),
        other => panic!("expected InvalidName, got {other:?}"),
    };
    refused(people::create(&mut conn, huge.as_str()).map(drop));
    refused(people::rename(&mut conn, 1, huge.as_str()).map(drop));
    refused(people::create_many(&mut conn, ["Bo", huge.as_str()], OnConflict::Fail).map(drop));
    refused(PersonName::new(huge.clone()).map(drop));
    assert!(people::find_by_name(&mut conn, &huge).unwrap().is_none());
    assert_eq!(people::count(&mut conn).unwrap(), 1);
}

// ---------------------------------------------------------------------------
// A million lines, the last one bad

fn a_million_line_import_with_a_bad_last_line_writes_nothing_and_names_line_1000000(db: &TestDb) {
    use std::io::Write;
    let run = seeded(db);
    let path = run.cwd.path().join("million.txt");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 1..1_000_000 {
        writeln!(file, "person {i}").unwrap();
    }
    // The last line: a name with a trailing space, and no final newline.
    write!(file, "person 1000000 ").unwrap();
    file.into_inner().unwrap().sync_all().unwrap();
    assert_eq!(
        run.fails(["import", path.to_str().unwrap()]),
        r#"error: line 1000000: invalid name: "person 1000000 " has leading or trailing whitespace"#
    );
    only_existing(&run);
}

// ---------------------------------------------------------------------------
// Ids: too big, negative, not numbers

fn ids_that_are_not_valid_numbers_are_usage_errors_that_touch_nothing() {
    let dir = temp_dir();
    let db = dir.path().join("people.db");
    let run = Runner::new(&db.display().to_string());
    run.ok(["add", "Ann", "Bo"]);
    let before = std::fs::read(&db).unwrap();
    let not_i32 = [
        "2147483648",
        "-2147483649",
        "99999999999999999999999",
        "1e3",
        "0x10",
        "1.0",
        " 1",
        "1 ",
        "",
        "\u{ff11}",
        "\u{663}",
        "NaN",
        "1_000",
        "--1",
    ];
    for value in not_i32 {
        let after = format!("--after={value}");
        // `--`, so that a leading `-` is taken as the value, not as a flag.
        for args in [
            vec!["get", "--", value],
            vec!["rename", "--", value, "Zed"],
            vec!["delete", "--", value],
            vec!["list", after.as_str()],
        ] {
            let line = usage_error(&run.output(&args));
            assert!(
                line.starts_with("error: invalid value "),
                "{args:?}: {line}"
            );
        }
    }
    // Negative numbers without `--` look like flags; that is a usage error too.
    for args in [
        &["get", "-1"][..],
        &["delete", "-5"],
        &["rename", "-1", "Zed"],
        &["list", "--after", "-1"],
        &["list", "--limit", "-1"],
    ] {
        usage_error(&run.output(args));
    }
    for (flag, values) in [
        (
            "--limit",
            &["18446744073709551616", "-1", "1.5", "", "x"][..],
        ),
        (
            "--page",
            &[
                "9223372036854775808",
                "-9223372036854775809",
                "1e2",
                "",
                "x",
            ],
        ),
    ] {
        for value in values {
            let args = ["list".to_owned(), format!("{flag}={value}")];
            usage_error(&run.output(&args));
        }
    }
    for value in ["9223372036854775808", "-9223372036854775809", "", "ten"] {
        let args = [
            "list".to_owned(),
            "--page=1".to_owned(),
            format!("--per-page={value}"),
        ];
        usage_error(&run.output(&args));
    }
    assert_eq!(std::fs::read(&db).unwrap(), before, "the database changed");
}

fn negative_zero_and_extreme_ids_are_not_found_in_one_line(db: &TestDb) {
    let run = seeded(db);
    for id in [-1, 0, i32::MIN, i32::MAX, 2] {
        let id = id.to_string();
        for args in [
            vec!["get", "--", &id],
            vec!["delete", "--", &id],
            vec!["rename", "--", &id, "Zed"],
        ] {
            assert_eq!(
                run.fails(&args),
                format!("error: no person with id {id}"),
                "{args:?}"
            );
        }
    }
    // Rust's integer syntax allows a plus sign.
    assert_eq!(run.ok(["get", "+1"]), row(1, "Existing"));
    only_existing(&run);
    // The library agrees.
    let mut conn = db.connect().unwrap();
    for id in [-1, 0, i32::MIN, i32::MAX] {
        assert!(
            matches!(people::get(&mut conn, id), Err(Error::NotFound { id: got }) if got == id)
        );
        assert!(matches!(
            people::delete(&mut conn, id),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            people::rename(&mut conn, id, "Zed"),
            Err(Error::NotFound { .. })
        ));
    }
    assert!(
        people::list(&mut conn, Some(i32::MAX), i64::MAX)
            .unwrap()
            .is_empty()
    );
    assert!(
        people::list(&mut conn, Some(i32::MIN), i64::MIN)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        people::list(&mut conn, Some(i32::MIN), i64::MAX)
            .unwrap()
            .len(),
        1
    );
}

fn list_at_the_integer_edges_answers_or_refuses_in_one_line(db: &TestDb) {
    let run = seeded(db);
    run.ok(["add", "Second"]);
    let all = format!("{}{}", row(1, "Existing"), row(2, "Second"));
    let max = i64::MAX.to_string();
    let min = i64::MIN.to_string();
    let cases: Vec<(Vec<String>, Result<String, String>)> = vec![
        (vec!["--limit=0".into()], Ok(String::new())),
        (vec![format!("--limit={}", u64::MAX)], Ok(all.clone())),
        (vec!["--after=-1".into()], Ok(all.clone())),
        (vec![format!("--after={}", i32::MIN)], Ok(all.clone())),
        (vec![format!("--after={}", i32::MAX)], Ok(String::new())),
        (
            vec![
                format!("--after={}", i32::MIN),
                format!("--limit={}", u64::MAX),
                "--search=e".into(),
            ],
            Ok(all.clone()),
        ),
        (
            vec![format!("--page={min}")],
            Err(format!(
                "error: invalid page: page must be 1 or more, not {min}"
            )),
        ),
        (
            vec!["--page=1".into(), format!("--per-page={min}")],
            Err(format!(
                "error: invalid page: per_page must be 1 or more, not {min}"
            )),
        ),
        (
            vec!["--page=2".into(), format!("--per-page={max}")],
            Err("error: invalid page: page 2 is past the end; the last page is 1".into()),
        ),
        (
            vec![format!("--page={max}"), format!("--per-page={max}")],
            Err(format!("error: invalid page: page {max} is past the end")),
        ),
        (
            vec!["--page=1".into(), format!("--per-page={max}")],
            Ok(all.clone()),
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<String> = std::iter::once("list".to_owned()).chain(args).collect();
        assert_eq!(clean_outcome(&run.output(&args)), expected, "{args:?}");
    }
}

fn adding_past_the_last_i32_id_fails_in_one_line_and_writes_nothing(db: &TestDb) {
    let run = seeded(db);
    {
        // Another program (or two billion inserts) used up the id space.
        let mut conn = db.connect().unwrap();
        let sql = match db.backend() {
            Backend::Sqlite => "UPDATE sqlite_sequence SET seq = 2147483647 WHERE name = 'person'",
            _ => "SELECT setval(pg_get_serial_sequence('person', 'id'), 2147483647)",
        };
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }
    let output = run.output(["add", "Zed"]);
    assert_no_panic(&output);
    if output.status.success() {
        let out = String::from_utf8_lossy(&output.stdout);
        panic!(
            "an id past {} was handed out and printed as {out:?}, which `get` cannot find: {:?}",
            i32::MAX,
            clean_outcome(&run.output(["get", "--", out.split('\t').next().unwrap_or("")]))
        );
    }
    one_line_error(&output);
    only_existing(&run);
}

/// Person.id is an i32; SQLite ids are 64-bit. Another program cannot store
/// a bigger one: the id CHECK refuses it, so no command can show it
/// truncated (4294967298 would read as 2).
fn an_id_past_i32_max_written_by_another_program_is_refused_by_the_database() {
    let dir = temp_dir();
    let db = dir.path().join("people.db");
    let url = db.display().to_string();
    let run = Runner::new(&url);
    run.ok(["add", "Ann"]);
    let refused = {
        let mut conn = people::init(&url).unwrap();
        diesel::sql_query("INSERT INTO person (id, name) VALUES (4294967298, 'Big')")
            .execute(&mut conn)
    };
    assert!(
        matches!(
            refused,
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::CheckViolation,
                _
            ))
        ),
        "the id CHECK let 4294967298 in: {refused:?}"
    );
    assert_eq!(run.ok(["list"]), row(1, "Ann"));
    assert_eq!(run.fails(["get", "2"]), "error: no person with id 2");
}
