//! Faults of the PostgreSQL server itself — a wrong or missing password, a
//! missing database, restarts between and during commands — on a private
//! throwaway cluster (`support::PrivatePostgres`), never the shared server.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use super::{every_command, filler_names};
use crate::support::*;

crate::support::tests! {
    plain {
        postgres_with_a_wrong_or_missing_password_fails_in_one_line_that_never_shows_it => [POSTGRES_SERVER_BINARIES],
        a_missing_postgres_database_fails_in_one_line_and_only_migrate_creates_it => [POSTGRES_SERVER_BINARIES],
        postgres_restarted_or_stopped_between_two_commands_fails_cleanly_and_loses_nothing => [POSTGRES_SERVER_BINARIES],
        postgres_restarted_during_an_import_fails_it_in_one_line_and_writes_nothing => [POSTGRES_SERVER_BINARIES],
        a_postgres_connection_held_across_a_restart_fails_in_one_line_and_a_new_one_works => [POSTGRES_SERVER_BINARIES],
        a_pool_hands_out_working_connections_again_after_a_postgres_restart => [POSTGRES_SERVER_BINARIES],
    }
}

fn postgres_with_a_wrong_or_missing_password_fails_in_one_line_that_never_shows_it() {
    let pg = PrivatePostgres::start();
    let good = pg.people_db(&["Ann"]);
    let wrong = "wr0ng-pa55word";
    let port = pg.port;
    let cases = [
        (
            format!("postgres://postgres:{wrong}@127.0.0.1:{port}/people"),
            None,
            "password authentication failed for user \"postgres\"",
        ),
        (
            format!("postgres://127.0.0.1:{port}/people?user=postgres&password={wrong}"),
            None,
            "password authentication failed for user \"postgres\"",
        ),
        (
            format!("postgres://postgres@127.0.0.1:{port}/people"),
            Some(wrong),
            "password authentication failed for user \"postgres\"",
        ),
        (
            format!("postgres://postgres@127.0.0.1:{port}/people"),
            None,
            "no password supplied",
        ),
    ];
    for (url, pgpassword, expected) in &cases {
        let run = Runner::new(url);
        let input = run.file("names.txt", "Zed\n");
        for args in every_command(&input) {
            let mut cmd = run.cmd(&args);
            // No ~/.pgpass either: only what the case gives.
            cmd.env("PGPASSFILE", run.cwd.path().join("no-pgpass"));
            if let Some(password) = pgpassword {
                cmd.env("PGPASSWORD", password);
            } else {
                cmd.env_remove("PGPASSWORD");
            }
            let line = one_line_error(&cmd.output().unwrap());
            assert!(
                line.starts_with("error: cannot open database ") && line.contains(expected),
                "{url} {args:?}: {line}"
            );
            pg.assert_hides_passwords(&line, wrong);
        }
    }
    assert_eq!(good.ok(["list"]), "1\tAnn\n");
}

fn a_missing_postgres_database_fails_in_one_line_and_only_migrate_creates_it() {
    let pg = PrivatePostgres::start();
    let run = Runner::new(&pg.url("nosuch"));
    let input = run.file("names.txt", "Zed\n");
    for args in every_command(&input) {
        if args[0] == "migrate" {
            continue;
        }
        assert_eq!(
            run.fails(&args),
            format!(
                "error: cannot open database {}: connection to server at \"127.0.0.1\", \
                 port {} failed: FATAL: database \"nosuch\" does not exist",
                pg.redacted_url("nosuch"),
                pg.port
            ),
            "{args:?}"
        );
    }
    let output = run.output(["migrate"]);
    assert_no_panic(&output);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "20250101000000\n20261126000000\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!("created database {}\n", pg.redacted_url("nosuch"))
    );
    assert_eq!(run.count(), 0);

    // A database name that is an SQL injection attempt is created as named.
    let hostile = "x\"; DROP DATABASE postgres; --";
    let encoded = "x%22%3B%20DROP%20DATABASE%20postgres%3B%20--";
    let run = Runner::new(&pg.url(encoded));
    let output = run.output(["migrate"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(run.ok(["add", hostile]), format!("1\t{hostile}\n"));
    assert!(
        people::open(pg.url("postgres")).is_ok(),
        "the postgres database is gone"
    );
}

fn postgres_restarted_or_stopped_between_two_commands_fails_cleanly_and_loses_nothing() {
    let pg = PrivatePostgres::start();
    let run = pg.people_db(&["Ann"]);
    pg.server("restart");
    assert_eq!(run.ok(["add", "Bo"]), "2\tBo\n");

    pg.server("stop");
    let input = run.file("names.txt", "Zed\n");
    for args in every_command(&input) {
        let line = run.fails(&args);
        assert!(
            line.starts_with(&format!(
                "error: cannot open database {}: ",
                pg.redacted_url("people")
            )) && line.contains("Connection refused"),
            "{args:?}: {line}"
        );
        pg.assert_hides_passwords(&line, "");
    }
    pg.server("start");
    assert_eq!(run.ok(["list"]), "1\tAnn\n2\tBo\n");
}

fn postgres_restarted_during_an_import_fails_it_in_one_line_and_writes_nothing() {
    let pg = PrivatePostgres::start();
    let run = pg.people_db(&["Ann"]);
    let mut child = std::process::Command::new(PEOPLE)
        .args(["--database-url", &run.url, "import"])
        .current_dir(run.cwd.path())
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Names go in, then the import waits for more input, inside its
    // transaction (in the middle of a COPY), while the server restarts under it.
    stdin.write_all(filler_names(5_000).as_bytes()).unwrap();
    stdin.flush().unwrap();
    pg.wait_for_a_session_waiting_in_a_transaction();
    pg.server("restart");
    // Small enough for the pipe buffer, whenever the child gives up.
    let rest: String = (5_000..7_000)
        .map(|i| format!("import filler {i}\n"))
        .collect();
    let _ = stdin.write_all(rest.as_bytes());
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let line = one_line_error(&output);
    assert!(line.starts_with("error: database error: "), "{line}");
    pg.assert_hides_passwords(&line, "");
    assert_eq!(run.ok(["list"]), "1\tAnn\n");
}

fn a_postgres_connection_held_across_a_restart_fails_in_one_line_and_a_new_one_works() {
    let pg = PrivatePostgres::start();
    let run = pg.people_db(&["Ann"]);
    let mut conn = people::init(&run.url).unwrap();
    assert_eq!(people::count(&mut conn).unwrap(), 1);
    pg.server("restart");
    for _ in 0..2 {
        let error = people::create(&mut conn, "Bo").unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, people::Error::Database { .. }), "{error:?}");
        assert!(!message.contains('\n'), "{message:?}");
        pg.assert_hides_passwords(&message, "");
    }
    let mut fresh = people::init(&run.url).unwrap();
    assert_eq!(people::create(&mut fresh, "Bo").unwrap().name, "Bo");
    assert_eq!(people::count(&mut fresh).unwrap(), 2);
}

fn a_pool_hands_out_working_connections_again_after_a_postgres_restart() {
    let pg = PrivatePostgres::start();
    let run = pg.people_db(&["Ann"]);
    let options = people::pool::PoolOptions {
        max_size: 2,
        connection_timeout: Duration::from_secs(5),
        ..people::pool::PoolOptions::default()
    };
    let pool = people::Pool::with_options(&run.url, options).unwrap();
    {
        // Two connections in the pool, both used.
        let mut a = pool.get().unwrap();
        let mut b = pool.get().unwrap();
        assert_eq!(people::count(&mut a).unwrap(), 1);
        assert_eq!(people::count(&mut b).unwrap(), 1);
    }
    pg.server("restart");
    // The first use of a connection opened before the restart may fail,
    // once, in one line. After that the pool must not hand it out again.
    let mut failures = 0;
    for attempt in 0..6 {
        let mut conn = pool.get().unwrap();
        match people::count(&mut conn) {
            Ok(count) => assert_eq!(count, 1),
            Err(error) => {
                let message = error.to_string();
                assert!(!message.contains('\n'), "{message:?}");
                failures += 1;
                assert!(
                    failures <= 2,
                    "attempt {attempt}: the pool keeps handing out connections \
                     the restart closed: {message}"
                );
            }
        }
    }
}
