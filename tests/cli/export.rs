//! `export`, and export piped into import.

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

use super::{awkward_names, json_names, rows};
use crate::support::*;

crate::support::tests! {
    plain {
        a_failed_export_to_a_file_leaves_the_file_as_it_was,
        an_export_to_a_file_stopped_by_a_signal_leaves_it_as_it_was,
        an_export_to_a_file_keeps_an_ignored_sigint_ignored,
    }
    per_backend {
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
        export_and_list_stream_one_snapshot_while_others_write,
        export_to_a_file_writes_what_stdout_gets,
        export_to_a_path_it_cannot_write_fails_in_one_line,
    }
}

fn export_lines_prints_one_name_per_line(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Ann", "Doe, \"J\"", "50%"]);
    let expected = "Ann\nDoe, \"J\"\n50%\n";
    assert_eq!(cli.ok(["export"]), expected);
    assert_eq!(cli.ok(["export", "--format", "lines"]), expected);
}

fn export_csv_prints_a_header_and_quotes_as_needed(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Ann", "Doe, \"J\"", "\""]);
    cli.ok(["delete", "1"]);
    assert_eq!(
        mask_times(&cli.ok(["export", "--format", "csv"])),
        "id,name,created_at,updated_at\n\
         2,\"Doe, \"\"J\"\"\",<time>,<time>\n\
         3,\"\"\"\",<time>,<time>\n"
    );
}

fn export_json_prints_an_array_of_objects(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Ann", "Bo \\ \"B\""]);
    assert_eq!(
        mask_times(&cli.ok(["export", "--format", "json"])),
        "[\n{\"id\":1,\"name\":\"Ann\",\"created_at\":\"<time>\",\"updated_at\":\"<time>\"},\n{\"id\":2,\"name\":\"Bo \\\\ \\\"B\\\"\",\"created_at\":\"<time>\",\"updated_at\":\"<time>\"}\n]\n"
    );
}

fn export_of_an_empty_database_is_valid_in_each_format(db: &TestDb) {
    let cli = Runner::new(db.url());
    assert_eq!(cli.ok(["export", "--format", "lines"]), "");
    assert_eq!(
        cli.ok(["export", "--format", "csv"]),
        "id,name,created_at,updated_at\n"
    );
    assert_eq!(mask_times(&cli.ok(["export", "--format", "json"])), "[]\n");
}

/// `people export --format F | people import --format F`, through a real pipe.
/// Returns the importer's stdout.
fn pipe_export_into_import(from: &Runner, to: &Runner, format: &str) -> String {
    let mut export = std::process::Command::new(PEOPLE);
    export
        .current_dir(from.cwd.path())
        .env_remove("DATABASE_URL")
        .args(["--database-url", &from.url, "export", "--format", format])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut exporter = export.spawn().expect("spawn export");
    let pipe = exporter.stdout.take().expect("export stdout");
    let mut import = std::process::Command::new(PEOPLE);
    import
        .current_dir(to.cwd.path())
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
    let from = Runner::new(db.url());
    let mut add = vec!["add".to_owned(), "--".to_owned()];
    add.extend(names.iter().cloned());
    assert_eq!(from.ok(&add), rows(&names));

    let fresh = crate::support::another_db_like(db);
    let to = Runner::new(fresh.url());
    assert_eq!(
        pipe_export_into_import(&from, &to, format),
        format!("imported {}, skipped 0\n", names.len())
    );
    // Same names, same order, so same ids: the exports are equal but for
    // the times (an import creates; `people copy` keeps them).
    for f in ["lines", "csv", "json"] {
        assert_eq!(
            mask_times(&to.ok(["export", "--format", f])),
            mask_times(&from.ok(["export", "--format", f])),
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
    let from = Runner::new(db.url());
    let fresh = crate::support::another_db_like(db);
    let to = Runner::new(fresh.url());
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
    let cli = Runner::new(db.url());
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
    let cli = Runner::new(db.url());
    import_longish_names(&cli, 30_000);
    for args in [
        &["export"][..],
        &["export", "--format", "csv"],
        &["export", "--format", "json"],
        &["list"],
        &["list", "--json"],
    ] {
        let (child, reader, _first) = start_streaming(&cli, args);
        drop(reader);
        let (status, stderr) = wait_with_stderr(child);
        assert!(status.success(), "{args:?}: {status:?}, stderr: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

/// A stream of many batches, while another connection swaps the first and
/// the last person's names: the stream is the state it started from, not a
/// mix in which one name appears twice (which `import` would refuse).
fn export_and_list_stream_one_snapshot_while_others_write(db: &TestDb) {
    const PEOPLE_COUNT: usize = 30_000;
    let cli = Runner::new(db.url());
    let mut names = import_longish_names(&cli, PEOPLE_COUNT);
    let mut writer = people::open(db.url()).expect("open a second connection");
    let last_id = PEOPLE_COUNT as i32;
    for args in [
        &["export"][..],
        &["export", "--format", "json"],
        &["list"],
        &["list", "--json"],
    ] {
        let expected = names.clone();
        // The first line out means the first batch was read; the full pipe
        // holds the stream up long before the last batch.
        let (child, mut reader, mut output) = start_streaming(&cli, args);
        people::transaction(&mut writer, |conn| {
            let first = names[0].clone();
            people::rename(conn, 1, "for a moment")?;
            people::rename(conn, last_id, first)?;
            people::rename(conn, 1, names[PEOPLE_COUNT - 1].clone())?;
            Ok::<_, people::Error>(())
        })
        .expect("swap the first and last names");
        names.swap(0, PEOPLE_COUNT - 1);
        reader.read_to_string(&mut output).expect("read the rest");
        let (status, stderr) = wait_with_stderr(child);
        assert!(status.success(), "{args:?}: {status:?}, stderr: {stderr}");
        let streamed: Vec<String> = match args {
            ["export"] => output.lines().map(str::to_owned).collect(),
            ["list"] => {
                assert_eq!(output, rows(&expected), "{args:?}");
                continue;
            }
            _ => json_names(&output),
        };
        assert!(
            streamed == expected,
            "{args:?} streamed a state that never was: first {:?}, last {:?}",
            streamed.first(),
            streamed.last()
        );
    }
}

fn export_to_a_file_writes_what_stdout_gets(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Ann", "Doe, \"J\"", "Zoe\u{308}"]);
    for format in ["lines", "csv", "json"] {
        let streamed = cli.ok(["export", "--format", format]);
        let file = format!("people.{format}");
        assert_eq!(
            cli.ok(["export", "--format", format, "--output", &file]),
            ""
        );
        let written = std::fs::read_to_string(cli.cwd.path().join(&file)).unwrap();
        assert_eq!(written, streamed, "{format}");
        // `-o -` is stdout.
        assert_eq!(cli.ok(["export", "--format", format, "-o", "-"]), streamed);
    }
    assert_eq!(partial_files(cli.cwd.path()), Vec::<String>::new());
}

fn export_to_a_path_it_cannot_write_fails_in_one_line(db: &TestDb) {
    let cli = Runner::new(db.url());
    cli.ok(["add", "Ann"]);
    assert_eq!(
        cli.fails(["export", "-o", "no/such/dir/people.txt"]),
        "error: cannot write no/such/dir/people.txt: No such file or directory (os error 2)"
    );
    assert_eq!(cli.fails(["export", "-o", "."]), "error: . is a directory");
    std::fs::write(cli.cwd.path().join("a-file"), "").unwrap();
    assert_eq!(
        cli.fails(["export", "-o", "a-file/people.txt"]),
        "error: cannot write a-file/people.txt: Not a directory (os error 20)"
    );
    assert_eq!(partial_files(cli.cwd.path()), Vec::<String>::new());
}

/// An export that fails part way (a row people cannot read) replaces
/// nothing: the file it was to replace keeps its bytes and permissions,
/// through a symbolic link too, and no partial file is left behind.
fn a_failed_export_to_a_file_leaves_the_file_as_it_was() {
    use diesel::connection::SimpleConnection;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let db = sqlite_db();
    let cli = Runner::new(db.url());
    let names: Vec<String> = (1..=3_000).map(|i| format!("person {i}")).collect();
    cli.ok_with_stdin(["import"], names.join("\n"));
    let dir = cli.cwd.path();
    let kept = dir.join("kept.txt");
    std::fs::write(&kept, "the export of yesterday\n").unwrap();
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink("kept.txt", dir.join("latest.txt")).unwrap();
    let mut conn = people::open(db.url()).unwrap();
    // Far enough in that the rows before it fill several writes.
    conn.batch_execute("UPDATE person SET created_at = 'not a time' WHERE id = 2500")
        .unwrap();
    for target in ["kept.txt", "latest.txt", "new.txt"] {
        assert_eq!(
            cli.fails(["export", "-o", target]),
            "error: person 2500 cannot be read: its created_at is not valid: Invalid datetime not a time",
            "{target}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        "the export of yesterday\n"
    );
    assert!(!dir.join("new.txt").exists());
    assert_eq!(partial_files(dir), Vec::<String>::new());

    conn.batch_execute("UPDATE person SET created_at = updated_at WHERE id = 2500")
        .unwrap();
    assert_eq!(cli.ok(["export", "-o", "latest.txt"]), "");
    let expected = format!("{}\n", names.join("\n"));
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), expected);
    assert!(
        dir.join("latest.txt")
            .symlink_metadata()
            .unwrap()
            .is_symlink()
    );
    assert_eq!(std::fs::metadata(&kept).unwrap().mode() & 0o777, 0o640);
    // A new file gets what any new file here gets (0666 less the umask).
    assert_eq!(cli.ok(["export", "-o", "new.txt"]), "");
    std::fs::write(dir.join("plain.txt"), "").unwrap();
    assert_eq!(
        std::fs::metadata(dir.join("new.txt")).unwrap().mode() & 0o777,
        std::fs::metadata(dir.join("plain.txt")).unwrap().mode() & 0o777
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("new.txt")).unwrap(),
        expected
    );
}

/// Imports `count` names long enough that a stream of them outgrows a pipe;
/// returns them.
fn import_longish_names(cli: &Runner, count: usize) -> Vec<String> {
    let names: Vec<String> = (1..=count)
        .map(|i| format!("someone with a longish name {i:06}"))
        .collect();
    assert_eq!(
        cli.ok_with_stdin(["import"], names.join("\n")),
        format!("imported {count}, skipped 0\n")
    );
    names
}

/// Starts `people ARGS` with its output in a pipe and reads its first line.
fn start_streaming(
    cli: &Runner,
    args: &[&str],
) -> (
    std::process::Child,
    BufReader<std::process::ChildStdout>,
    String,
) {
    let mut child = std::process::Command::new(PEOPLE)
        .current_dir(cli.cwd.path())
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
    (child, reader, first)
}

/// Waits for `child`; its exit status and everything it wrote on stderr.
fn wait_with_stderr(mut child: std::process::Child) -> (std::process::ExitStatus, String) {
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    (child.wait().expect("wait for people"), stderr)
}

/// A database big enough that exporting it takes a while, and its runner.
fn big_sqlite_db() -> (TestDb, Runner) {
    let db = sqlite_db();
    let cli = Runner::new(db.url());
    import_longish_names(&cli, 300_000);
    (db, cli)
}

/// Starts `people export --format json -o out.json` (through `sh -c
/// "$shell; exec people …"`), and waits until it is writing the partial file.
fn start_export_to_a_file(cli: &Runner, shell: &str) -> std::process::Child {
    let child = std::process::Command::new("sh")
        .current_dir(cli.cwd.path())
        .env_remove("DATABASE_URL")
        .args(["-c", &format!("{shell}; exec \"$0\" \"$@\"")])
        .arg(PEOPLE)
        .args(["--database-url", &cli.url])
        .args(["export", "--format", "json", "-o", "out.json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn people");
    let started = std::time::Instant::now();
    while !partial_files(cli.cwd.path())
        .iter()
        .any(|name| std::fs::metadata(cli.cwd.path().join(name)).is_ok_and(|meta| meta.len() > 0))
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the export never started writing"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child
}

fn send(signal: &str, child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// Ctrl-C (or SIGTERM) in the middle of `export -o`: the file keeps its
/// bytes, no partial file is left, and the exit status is the signal's.
fn an_export_to_a_file_stopped_by_a_signal_leaves_it_as_it_was() {
    let (_db, cli) = big_sqlite_db();
    let out = cli.cwd.path().join("out.json");
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        std::fs::write(&out, "the export of yesterday\n").unwrap();
        let child = start_export_to_a_file(&cli, ":");
        send(signal, &child);
        let output = child.wait_with_output().expect("wait for people");
        assert_eq!(output.status.code(), Some(code), "SIG{signal}");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            format!("error: stopped by SIG{signal}; out.json left as it was\n")
        );
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "the export of yesterday\n"
        );
        assert_eq!(partial_files(cli.cwd.path()), Vec::<String>::new());
    }
}

/// A shell starts a script's background jobs with SIGINT ignored; `export
/// -o` leaves it so, and runs to the end.
fn an_export_to_a_file_keeps_an_ignored_sigint_ignored() {
    let (_db, cli) = big_sqlite_db();
    let child = start_export_to_a_file(&cli, "trap '' INT");
    send("INT", &child);
    let output = child.wait_with_output().expect("wait for people");
    assert!(output.status.success(), "{output:?}");
    let written = std::fs::read_to_string(cli.cwd.path().join("out.json")).unwrap();
    assert_eq!(json_names(&written).len(), 300_000);
    assert_eq!(partial_files(cli.cwd.path()), Vec::<String>::new());
}

/// The partial files an export left in `dir`.
fn partial_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".partial"))
        .collect()
}
