//! Security properties checked on the source itself: every SQL statement the
//! library sends is either built by Diesel (values as bound parameters) or a
//! fixed string. The few statements that must splice an identifier are
//! listed here with the reason, so a new one fails this test until reviewed.

use std::path::Path;

use crate::support::*;

crate::support::tests! {
    plain {
        all_sql_is_built_by_diesel_or_fixed_strings,
        errors_and_debug_output_never_show_a_postgres_password => [POSTGRES_BUILD],
    }
}

/// Raw-SQL call sites whose argument is not a string literal, and why each is safe.
const REVIEWED: &[(&str, &str, &str)] = &[
    (
        "src/connection.rs",
        "conn.batch_execute(pragmas)",
        "`pragmas` is one of two string constants, chosen by the synchronous setting",
    ),
    (
        "src/copy.rs",
        "diesel::sql_query(format!(\"ALTER SEQUENCE {name} RESTART WITH {ever}\"))",
        "ALTER SEQUENCE takes no bind parameters; the name is pg_get_serial_sequence's, quoted by PostgreSQL, and `ever` an i64",
    ),
    (
        "src/database.rs",
        "diesel::sql_query(statement)",
        "CREATE DATABASE takes no bind parameters; the name is a quoted identifier with \" doubled",
    ),
    (
        "src/test_util.rs",
        "diesel::sql_query(format!(\"CREATE DATABASE {name}\"))",
        "test-only; the name is generated from digits and ASCII letters",
    ),
    (
        "src/test_util.rs",
        "diesel::sql_query(drop_sql)",
        "test-only; the same generated name",
    ),
];

const RAW_SQL_CALLS: &[&str] = &["sql_query(", "batch_execute(", "sql::<", "SqlLiteral"];

fn all_sql_is_built_by_diesel_or_fixed_strings() {
    let mut unreviewed = Vec::new();
    let mut seen = vec![false; REVIEWED.len()];
    for file in rust_files(Path::new(env!("CARGO_MANIFEST_DIR")).join("src").as_path()) {
        let relative = file
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let source = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = source.lines().collect();
        for (number, line) in lines.iter().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for call in RAW_SQL_CALLS {
                let Some(at) = code.find(call) else { continue };
                let mut argument = code[at + call.len()..].trim_start();
                if argument.is_empty() {
                    // rustfmt put the argument on the next line.
                    argument = lines.get(number + 1).map_or("", |next| next.trim_start());
                }
                if argument.starts_with('"') {
                    continue; // a fixed string
                }
                match REVIEWED
                    .iter()
                    .position(|(f, snippet, _)| *f == relative && code.contains(snippet))
                {
                    Some(index) => seen[index] = true,
                    None => unreviewed.push(format!("{relative}:{}: {}", number + 1, line.trim())),
                }
            }
        }
    }
    assert!(
        unreviewed.is_empty(),
        "raw SQL built at run time, not reviewed:\n{}",
        unreviewed.join("\n")
    );
    let stale: Vec<_> = REVIEWED
        .iter()
        .zip(seen)
        .filter(|(_, seen)| !seen)
        .map(|(r, _)| r.1)
        .collect();
    assert!(
        stale.is_empty(),
        "reviewed call sites that no longer exist: {stale:?}"
    );
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

fn errors_and_debug_output_never_show_a_postgres_password() {
    let url = "postgres://app:hunter2@127.0.0.1:1/people?password=hunter2";
    let error = people::init(url).err().unwrap();
    assert!(
        !format!("{error} {error:?}").contains("hunter2"),
        "{error:?}"
    );
    // The cause (libpq's message), as a CLI or anyhow would print it.
    let cause = std::error::Error::source(&error).map(ToString::to_string);
    assert!(!format!("{cause:?}").contains("hunter2"), "{cause:?}");
    let error = people::Pool::new(url).err().unwrap();
    assert!(!format!("{error} {error:?}").contains("hunter2"));
    let parsed = people::DatabaseUrl::parse(url).unwrap();
    assert!(!format!("{parsed} {parsed:?}").contains("hunter2"));
}
