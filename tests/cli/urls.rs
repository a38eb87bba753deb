//! The README's table of database URLs, row by row: every accepted spelling
//! opens the file the table names (and the same file as the diesel CLI, which
//! reads the same `DATABASE_URL`); every refused spelling is one line that
//! shows what to write instead, and creates nothing.
//!
//! `/srv` in the table stands for a temp directory; `./` is the command's
//! current directory, a fresh temp directory per spelling.

use std::path::{Path, PathBuf};

use crate::support::*;

crate::support::tests! {
    plain {
        every_accepted_spelling_in_the_readme_opens_the_file_it_names,
        every_refused_spelling_in_the_readme_says_what_to_write_and_creates_nothing,
        the_diesel_cli_and_people_open_the_same_file_for_every_accepted_spelling => [DIESEL_CLI],
        sqlite_three_slashes_at_the_root_says_what_it_means_when_it_cannot_create_the_file
            => [UNPRIVILEGED],
    }
}

/// One row of a README table: its spellings and its second column.
struct Row {
    spellings: Vec<String>,
    meaning: String,
}

/// The rows of the `| DATABASE_URL | <second> |` table under "Database URLs".
fn readme_table(second_header: &str) -> Vec<Row> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## Database URLs")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a Database URLs section in README.md");
    let header = format!("| `DATABASE_URL` | {second_header} |");
    let table = section
        .split(&header)
        .nth(1)
        .unwrap_or_else(|| panic!("no table headed {header:?}"));
    let rows: Vec<Row> = table
        .lines()
        .skip(2) // the rest of the header line, and |---|---|
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
            Row {
                spellings: backticked(cells[0]),
                meaning: cells.get(1).map_or("", |c| c.trim()).to_owned(),
            }
        })
        .collect();
    assert!(rows.len() >= 5, "the {header:?} table is too short");
    rows
}

fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// A spelling with `/srv` moved under `root`.
fn under(root: &Path, spelling: &str) -> String {
    spelling.replace("/srv", &format!("{}/srv", root.display()))
}

/// What an accepted row opens in `cwd` (with `/srv` under `cwd`): a file, or
/// `None` in memory. PostgreSQL rows are not for these tests.
enum Opens {
    File(PathBuf),
    Memory,
    Postgres,
}

fn opens(row: &Row, cwd: &Path) -> Opens {
    if row.meaning.contains("in-memory") {
        return Opens::Memory;
    }
    match backticked(&row.meaning).first() {
        Some(path) if path.starts_with("./") => Opens::File(cwd.join(&path[2..])),
        Some(path) if path.starts_with("/srv") => Opens::File(PathBuf::from(under(cwd, path))),
        _ => Opens::Postgres,
    }
}

/// A fresh current directory with the subdirectories the table's paths use.
fn fresh_cwd() -> tempfile::TempDir {
    let cwd = temp_dir();
    std::fs::create_dir(cwd.path().join("data")).unwrap();
    std::fs::create_dir(cwd.path().join("srv")).unwrap();
    cwd
}

/// Every file under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(
                files_under(&path)
                    .into_iter()
                    .map(|f| format!("{}/{f}", path.file_name().unwrap().to_string_lossy())),
            );
        } else {
            found.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    found.sort();
    found
}

/// The database files under `cwd`, without SQLite's -wal/-shm/-journal.
fn databases_under(cwd: &Path) -> Vec<String> {
    files_under(cwd)
        .into_iter()
        .filter(|f| !f.ends_with("-wal") && !f.ends_with("-shm") && !f.ends_with("-journal"))
        .collect()
}

fn relative(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd).unwrap().display().to_string()
}

fn every_accepted_spelling_in_the_readme_opens_the_file_it_names() {
    let mut checked = 0;
    for row in readme_table("opens") {
        for spelling in &row.spellings {
            let cwd = fresh_cwd();
            let expected = opens(&row, cwd.path());
            if matches!(expected, Opens::Postgres) {
                continue;
            }
            let url = under(cwd.path(), spelling);
            let run = Runner::new(&url);
            let out = succeeded(
                &run.cmd(["add", "Ann"])
                    .current_dir(cwd.path())
                    .output()
                    .unwrap(),
            );
            assert_eq!(out, "1\tAnn\n", "{spelling}");
            match expected {
                Opens::File(path) => {
                    assert_eq!(
                        databases_under(cwd.path()),
                        [relative(&path, cwd.path())],
                        "{spelling} made other files"
                    );
                    // The plain path opens the very same database.
                    let plain = Runner::new(&path.display().to_string());
                    assert_eq!(plain.ok(["list"]), "1\tAnn\n", "{spelling}");
                }
                Opens::Memory | Opens::Postgres => {
                    assert!(
                        databases_under(cwd.path()).is_empty(),
                        "{spelling} made a file"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} spellings checked");
}

fn every_refused_spelling_in_the_readme_says_what_to_write_and_creates_nothing() {
    let mut checked = 0;
    for row in readme_table("why") {
        // What the row tells the user to write, which the error must show too.
        let hints: Vec<String> = row
            .meaning
            .split(['W', 'w'])
            .filter(|part| part.starts_with("rite "))
            .flat_map(backticked)
            .collect();
        for spelling in &row.spellings {
            let cwd = fresh_cwd();
            let url = under(cwd.path(), spelling);
            let output = Runner::new(&url)
                .cmd(["add", "Ann"])
                .current_dir(cwd.path())
                .output()
                .unwrap();
            let line = one_line_error(&output);
            assert!(
                line.starts_with("error: invalid database URL "),
                "{spelling}: {line}"
            );
            for hint in &hints {
                let hint = under(cwd.path(), hint);
                assert!(
                    line.contains(&hint),
                    "{spelling}: {line:?} does not say {hint:?}"
                );
            }
            assert!(
                databases_under(cwd.path()).is_empty(),
                "{spelling} made a file"
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} spellings checked");
}

fn the_diesel_cli_and_people_open_the_same_file_for_every_accepted_spelling() {
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut checked = 0;
    for row in readme_table("opens") {
        for spelling in &row.spellings {
            let cwd = fresh_cwd();
            let Opens::File(expected) = opens(&row, cwd.path()) else {
                continue;
            };
            let url = under(cwd.path(), spelling);
            let diesel = std::process::Command::new("diesel")
                .args([
                    "migration",
                    "run",
                    "--database-url",
                    &url,
                    "--migration-dir",
                ])
                .arg(&migrations)
                .current_dir(cwd.path())
                .env_remove("DATABASE_URL")
                .output()
                .unwrap();
            assert!(
                diesel.status.success(),
                "diesel migration run --database-url {url}: {}",
                String::from_utf8_lossy(&diesel.stderr)
            );
            assert_eq!(
                databases_under(cwd.path()),
                [relative(&expected, cwd.path())],
                "diesel, {spelling}"
            );
            // people finds diesel's migrations applied (else it would migrate
            // and print nothing different), and no second file appears.
            let run = Runner::new(&url);
            let migrate = succeeded(
                &run.cmd(["migrate"])
                    .current_dir(cwd.path())
                    .output()
                    .unwrap(),
            );
            assert_eq!(
                migrate, "up to date\n",
                "{spelling}: people did not see diesel's file"
            );
            assert_eq!(
                databases_under(cwd.path()),
                [relative(&expected, cwd.path())],
                "people, {spelling}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} spellings checked");
}

/// As root `sqlite:///tut.db` would make /tut.db (with a warning); an
/// unprivileged user gets an error that says what the spelling means.
fn sqlite_three_slashes_at_the_root_says_what_it_means_when_it_cannot_create_the_file() {
    let name = format!("people-test-{}.db", std::process::id());
    let cwd = temp_dir();
    crate::faults::chmod(cwd.path(), 0o777);
    let output = crate::faults::unprivileged().people(
        cwd.path(),
        &format!("sqlite:///{name}"),
        &["add", "Ann"],
    );
    let line = one_line_error(&output);
    assert!(
        line.contains(&format!("sqlite:///{name} is an absolute path"))
            && line.contains(&format!(
                "write sqlite://{name} for a file in the current directory"
            )),
        "{line}"
    );
    assert!(!Path::new("/").join(&name).exists());
}
