//! Without a database: help, version, usage errors, where the URL comes from.

use crate::support::*;

crate::support::tests! {
    plain {
        help_lists_every_command,
        version_prints_the_crate_version,
        help_never_prints_the_database_url_value,
        usage_errors_exit_2,
        migrate_on_a_fresh_sqlite_file_prints_the_applied_version,
        sqlite_path_sqlite_url_and_file_uri_open_the_same_database,
        an_unsupported_scheme_exits_1_hides_the_password_and_creates_nothing,
        an_unreachable_postgres_server_is_one_line_without_the_password,
        an_sqlite_file_in_a_missing_directory_exits_1,
        without_flag_or_env_people_db_in_the_current_directory_is_used,
        dotenv_database_url_is_used_without_the_flag,
        database_url_env_is_used_and_wins_over_dotenv,
        the_flag_wins_over_env_and_dotenv,
        a_broken_dotenv_is_a_one_line_error,
        a_broken_dotenv_error_does_not_show_a_password,
    }
}

fn help_lists_every_command() {
    let dir = temp_dir();
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

fn version_prints_the_crate_version() {
    let dir = temp_dir();
    let out = succeeded(&people_in(dir.path()).arg("--version").output().unwrap());
    assert_eq!(out, format!("people {}\n", env!("CARGO_PKG_VERSION")));
}

fn help_never_prints_the_database_url_value() {
    let dir = temp_dir();
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

fn usage_errors_exit_2() {
    let dir = temp_dir();
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

fn migrate_on_a_fresh_sqlite_file_prints_the_applied_version() {
    let dir = temp_dir();
    let cli = Runner::new(&dir.path().join("fresh.db").display().to_string());
    assert_eq!(cli.ok(["migrate"]), "20250101000000\n20261126000000\n");
    assert!(dir.path().join("fresh.db").exists());
    assert_eq!(cli.ok(["migrate"]), "up to date\n");
    assert_eq!(cli.count(), 0);
}

fn sqlite_path_sqlite_url_and_file_uri_open_the_same_database() {
    let dir = temp_dir();
    let path = dir.path().join("same.db").display().to_string();
    assert_eq!(Runner::new(&path).ok(["add", "Ann"]), "1\tAnn\n");
    for url in [format!("sqlite://{path}"), format!("file:{path}")] {
        assert_eq!(Runner::new(&url).ok(["get", "1"]), "1\tAnn\n", "{url}");
    }
}

fn an_unsupported_scheme_exits_1_hides_the_password_and_creates_nothing() {
    let cli = Runner::new("mysql://root:s3cret@localhost/db");
    assert_eq!(
        cli.fails(["count"]),
        "error: invalid database URL mysql://root:***@localhost/db: unsupported scheme \"mysql\"; \
         use a file path, sqlite://, file: or postgres://"
    );
    let left: Vec<_> = std::fs::read_dir(cli.cwd.path()).unwrap().collect();
    assert!(left.is_empty(), "files were created: {left:?}");
}

fn an_unreachable_postgres_server_is_one_line_without_the_password() {
    let cli = Runner::new("postgres://u:s3cret@127.0.0.1:1/x");
    let line = cli.fails(["count"]);
    assert!(
        line.starts_with("error: cannot open database postgres://u:***@127.0.0.1:1/x: "),
        "{line}"
    );
    assert!(!line.contains("s3cret"), "{line}");
    // libpq's message is said once, not once per error in the chain.
    assert_eq!(line.matches("port 1 failed").count(), 1, "{line}");
}

fn an_sqlite_file_in_a_missing_directory_exits_1() {
    let dir = temp_dir();
    let url = dir
        .path()
        .join("no/such/dir/people.db")
        .display()
        .to_string();
    let line = Runner::new(&url).fails(["count"]);
    assert!(
        line.starts_with(&format!("error: cannot open database {url}: ")),
        "{line}"
    );
}

fn without_flag_or_env_people_db_in_the_current_directory_is_used() {
    let dir = temp_dir();
    let out = succeeded(&people_in(dir.path()).args(["add", "Ann"]).output().unwrap());
    assert_eq!(out, "1\tAnn\n");
    let default_db = dir.path().join("people.db");
    assert!(default_db.is_file(), "people.db was not created");
    let cli = Runner::new(&default_db.display().to_string());
    assert_eq!(cli.ok(["list"]), "1\tAnn\n");
}

fn dotenv_database_url_is_used_without_the_flag() {
    let dir = temp_dir();
    std::fs::write(dir.path().join(".env"), "DATABASE_URL=from-dotenv.db\n").unwrap();
    let out = succeeded(&people_in(dir.path()).args(["add", "Ann"]).output().unwrap());
    assert_eq!(out, "1\tAnn\n");
    assert!(dir.path().join("from-dotenv.db").is_file());
    assert!(!dir.path().join("people.db").exists());
    let cli = Runner::new(&dir.path().join("from-dotenv.db").display().to_string());
    assert_eq!(cli.ok(["find", "Ann"]), "1\tAnn\n");
}

fn database_url_env_is_used_and_wins_over_dotenv() {
    let dir = temp_dir();
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

fn the_flag_wins_over_env_and_dotenv() {
    let dir = temp_dir();
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

fn a_broken_dotenv_is_a_one_line_error() {
    let dir = temp_dir();
    std::fs::write(dir.path().join(".env"), "NOT A VALID LINE\n").unwrap();
    let line = one_line_error(&people_in(dir.path()).arg("count").output().unwrap());
    assert!(line.starts_with("error: cannot read .env: "), "{line}");
    assert!(!dir.path().join("people.db").exists());
}

fn a_broken_dotenv_error_does_not_show_a_password() {
    let dir = temp_dir();
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
