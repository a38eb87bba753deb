//! Fault injection: the real `people` binary against broken surroundings —
//! missing directories, read-only files and directories, files that are not
//! databases, truncated and corrupted databases, a lock held past the busy
//! timeout, a full disk, unreachable, password-protected and restarting
//! PostgreSQL servers, and a schema newer than this build.
//!
//! Every scenario ends the same way: exactly one `error: …` line on stderr,
//! exit code 1, no panic, and nothing half-written (the count or the file's
//! bytes are checked afterwards).
//!
//! The tests run as root here and in CI, and root ignores permission bits:
//! the read-only scenarios run the binary as `nobody` with `setpriv`. The
//! PostgreSQL scenarios that need a password or a restart start a private
//! throwaway cluster (never the shared server) and remove it afterwards.
//!

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::*;
use assert_cmd::Command;
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use people::Backend;
use tempfile::TempDir;

crate::support::tests! {
    plain {
        a_database_in_a_missing_directory_fails_every_command_in_one_line_and_creates_nothing,
        a_database_path_that_is_a_directory_fails_in_one_line,
        a_read_only_database_file_refuses_every_write_in_one_line_and_keeps_its_bytes => [UNPRIVILEGED],
        a_read_only_directory_refuses_every_write_in_one_line_and_keeps_the_file => [UNPRIVILEGED],
        a_file_that_is_not_a_database_fails_every_command_in_one_line_and_is_left_alone,
        a_truncated_database_fails_every_command_in_one_line,
        a_corrupted_schema_page_fails_every_command_in_one_line,
        corrupted_table_pages_fail_full_reads_in_one_line_and_never_panic,
        a_write_blocked_past_the_busy_timeout_fails_in_one_line_then_succeeds_after_release,
        a_lock_released_within_the_busy_timeout_is_waited_out,
        an_import_past_the_file_size_limit_fails_in_one_line_and_keeps_the_previous_rows => [PRLIMIT],
        an_import_onto_a_full_filesystem_fails_in_one_line_and_keeps_the_previous_rows => [TMPFS],
        an_unreachable_postgres_server_fails_every_command_in_one_line,
        connection_errors_never_show_the_password_whatever_its_characters,
    }
    per_backend {
        a_newer_schema_is_refused_by_every_command_and_left_untouched,
    }
}

/// Faults of the PostgreSQL server itself, on a private cluster.
#[cfg(feature = "postgres")]
pub(crate) mod private_cluster;

// ---------------------------------------------------------------------------
// Helpers

/// people's SQLite busy timeout (`SQLITE_BUSY_TIMEOUT` in src/connection.rs).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// The SQLite database files next to `db` (`-wal`, `-shm`, `-journal`).
fn sidecar(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A migrated SQLite database file holding `names`, closed (so its WAL is
/// checkpointed into the file and removed), in a new directory.
fn sqlite_file_with(names: &[&str]) -> (TempDir, PathBuf) {
    let dir = temp_dir();
    let path = dir.path().join("people.db");
    {
        let mut conn = people::init(path.to_str().expect("UTF-8 temp path")).unwrap();
        if !names.is_empty() {
            people::create_many(&mut conn, names.iter().copied(), people::OnConflict::Fail)
                .unwrap();
        }
    }
    assert!(
        !sidecar(&path, "-wal").exists(),
        "the WAL outlived the last connection"
    );
    (dir, path)
}

/// The number of people, through the library (the file must still open).
#[track_caller]
fn count_of(url: &str) -> i64 {
    let mut conn = people::init(url).unwrap_or_else(|e| panic!("{url} no longer opens: {e}"));
    people::count(&mut conn).unwrap()
}

/// Every command that opens the database, with the arguments it needs.
/// `input` is an import file holding one valid name.
pub(crate) fn every_command(input: &Path) -> Vec<Vec<String>> {
    let input = input.display().to_string();
    [
        vec!["count"],
        vec!["get", "1"],
        vec!["find", "Ann"],
        vec!["list"],
        vec!["list", "--page", "1", "--json"],
        vec!["export", "--format", "json"],
        vec!["add", "Zed"],
        vec!["rename", "1", "Zed"],
        vec!["delete", "1"],
        vec!["import", input.as_str()],
        vec!["migrate"],
    ]
    .into_iter()
    .map(|args| args.into_iter().map(str::to_owned).collect())
    .collect()
}

// ---------------------------------------------------------------------------
// Paths that cannot hold a database

fn a_database_in_a_missing_directory_fails_every_command_in_one_line_and_creates_nothing() {
    let dir = temp_dir();
    let url = dir
        .path()
        .join("no/such/dir/people.db")
        .display()
        .to_string();
    let run = Runner::new(&url);
    let input = run.file("names.txt", "Zed\n");
    for args in every_command(&input) {
        let line = run.fails(&args);
        assert_eq!(
            line,
            format!("error: cannot open database {url}: unable to open database file"),
            "{args:?}"
        );
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "something was created"
    );
}

fn a_database_path_that_is_a_directory_fails_in_one_line() {
    let dir = temp_dir();
    let url = dir.path().display().to_string();
    let run = Runner::new(&url);
    let input = run.file("names.txt", "Zed\n");
    for args in every_command(&input) {
        let line = run.fails(&args);
        assert!(
            line.starts_with(&format!("error: cannot open database {url}: ")),
            "{args:?}: {line}"
        );
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "something was created"
    );
}

// ---------------------------------------------------------------------------
// Read-only files and directories

/// How to run `people` without root's power to ignore permission bits.
pub(crate) struct Unprivileged {
    /// Run through `setpriv` as nobody (65534); false when we are not root.
    setpriv: bool,
    /// The binary to run: the build's own, or a copy nobody can reach.
    binary: PathBuf,
    _copy: Option<TempDir>,
}

/// How to run `people` unprivileged here; only for tests that require [`UNPRIVILEGED`].
pub(crate) fn unprivileged() -> Unprivileged {
    if euid() != 0 {
        return Unprivileged {
            setpriv: false,
            binary: PEOPLE.into(),
            _copy: None,
        };
    }
    let as_nobody = |binary: &Path| {
        let binary = binary.to_str().expect("UTF-8 path");
        let args = ["--reuid=65534", "--regid=65534", "--clear-groups", binary];
        runs("setpriv", &[&args[..], &["--version"]].concat())
    };
    if as_nobody(Path::new(PEOPLE)) {
        return Unprivileged {
            setpriv: true,
            binary: PEOPLE.into(),
            _copy: None,
        };
    }
    // The build directory may be out of nobody's reach (under /root, say).
    let copy = temp_dir();
    chmod(copy.path(), 0o755);
    let binary = copy.path().join("people");
    std::fs::copy(PEOPLE, &binary).expect("copy the binary");
    chmod(&binary, 0o755);
    assert!(
        as_nobody(&binary),
        "uid 65534 cannot run the binary, even copied to {}",
        copy.path().display()
    );
    Unprivileged {
        setpriv: true,
        binary,
        _copy: Some(copy),
    }
}

impl Unprivileged {
    /// `people --database-url URL args…` in `cwd`, without root's powers.
    pub(crate) fn people(&self, cwd: &Path, url: &str, args: &[&str]) -> Output {
        let mut cmd = if self.setpriv {
            let mut cmd = Command::new("setpriv");
            cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(&self.binary);
            cmd
        } else {
            Command::new(&self.binary)
        };
        cmd.current_dir(cwd)
            .env_remove("DATABASE_URL")
            .timeout(Duration::from_secs(120))
            .arg("--database-url")
            .arg(url)
            .args(args)
            .output()
            .expect("run people")
    }
}

/// The writes that must all be refused on a read-only database.
const WRITES: &[&[&str]] = &[
    &["add", "Zed"],
    &["add", "Yan", "Zed"],
    &["rename", "1", "Zed"],
    &["delete", "1"],
    &["import", "names.txt"],
    &["import", "--skip-existing", "names.txt"],
];

fn a_read_only_database_file_refuses_every_write_in_one_line_and_keeps_its_bytes() {
    let runner = unprivileged();
    let (dir, db) = sqlite_file_with(&["Ann", "Bo"]);
    let url = db.display().to_string();
    std::fs::write(dir.path().join("names.txt"), "Cy\nDee\n").unwrap();
    // The directory stays writable (WAL may create -wal/-shm); the file is not.
    chmod(dir.path(), 0o777);
    chmod(&db, 0o444);
    let before = std::fs::read(&db).unwrap();
    for args in WRITES {
        let line = one_line_error(&runner.people(dir.path(), &url, args));
        assert!(
            line.contains("attempt to write a readonly database"),
            "{args:?}: {line}"
        );
    }
    // Reading needs no write access to the file.
    assert_eq!(
        clean_outcome(&runner.people(dir.path(), &url, &["count"])),
        Ok("2\n".to_owned())
    );
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file changed");
    chmod(&db, 0o644);
    assert_eq!(count_of(&url), 2);
}

fn a_read_only_directory_refuses_every_write_in_one_line_and_keeps_the_file() {
    let runner = unprivileged();
    let (dir, db) = sqlite_file_with(&["Ann", "Bo"]);
    let url = db.display().to_string();
    std::fs::write(dir.path().join("names.txt"), "Cy\nDee\n").unwrap();
    // The file is writable, but WAL needs to create -wal and -shm next to it.
    chmod(&db, 0o666);
    chmod(dir.path(), 0o555);
    let before = std::fs::read(&db).unwrap();
    for args in WRITES
        .iter()
        .chain([&["count"][..], &["migrate"][..]].iter())
    {
        let output = runner.people(dir.path(), &url, args);
        match clean_outcome(&output) {
            // SQLite cannot read a WAL database without its -shm file either.
            Err(line) => assert!(
                line.starts_with(&format!("error: cannot open database {url}: ")),
                "{args:?}: {line}"
            ),
            Ok(out) => assert!(
                matches!(args[0], "count" | "migrate"),
                "{args:?} succeeded in a read-only directory: {out:?}"
            ),
        }
    }
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file changed");
    for suffix in ["-wal", "-shm", "-journal"] {
        assert!(!sidecar(&db, suffix).exists(), "{suffix} appeared");
    }
    chmod(dir.path(), 0o755);
    assert_eq!(count_of(&url), 2);
}

// ---------------------------------------------------------------------------
// Files that are not (or no longer) databases

/// `len` reproducible pseudo-random bytes (xorshift).
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

/// Runs every command against the file at `db` and asserts each fails with
/// the one line `cannot open database <db>: <expected>`, leaving the file's
/// bytes unchanged.
#[track_caller]
fn every_command_fails_and_leaves_the_file(db: &Path, expected: &str) {
    let url = db.display().to_string();
    let before = std::fs::read(db).unwrap();
    let run = Runner::new(&url);
    let input = run.file("names.txt", "Zed\n");
    for args in every_command(&input) {
        let line = run.fails(&args);
        let prefix = format!("error: cannot open database {url}: ");
        assert!(
            line.starts_with(&prefix) && line[prefix.len()..].contains(expected),
            "{args:?}: {line}"
        );
    }
    assert_eq!(std::fs::read(db).unwrap(), before, "the file changed");
}

fn a_file_that_is_not_a_database_fails_every_command_in_one_line_and_is_left_alone() {
    let dir = temp_dir();
    let random = dir.path().join("random.db");
    std::fs::write(&random, noise(64 * 1024, 0x5eed)).unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "This is a text file, not a database.\n".repeat(500)).unwrap();
    // The right magic string, then noise.
    let fake = dir.path().join("fake.db");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend(noise(16 * 1024, 42));
    std::fs::write(&fake, bytes).unwrap();
    for db in [&random, &text, &fake] {
        every_command_fails_and_leaves_the_file(db, "file is not a database");
    }
}

/// A closed database of 5,000 people: 73 pages of 4 KiB.
fn five_thousand_people() -> (TempDir, PathBuf) {
    let names: Vec<String> = (1..=5000).map(|i| format!("person number {i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (dir, db) = sqlite_file_with(&names);
    let size = std::fs::metadata(&db).unwrap().len();
    assert!(size >= 50 * 4096, "only {size} bytes");
    (dir, db)
}

fn a_truncated_database_fails_every_command_in_one_line() {
    let (_dir, db) = five_thousand_people();
    let size = std::fs::metadata(&db).unwrap().len();
    // Cut in the middle of a page, on a page boundary, and inside page 1.
    for cut in [size / 2 + 1234, (size / 2) / 4096 * 4096, 100] {
        let file = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
        file.set_len(cut).unwrap();
        drop(file);
        every_command_fails_and_leaves_the_file(&db, "database disk image is malformed");
    }
}

/// The page size and the page count from an SQLite file's header.
fn pages(bytes: &[u8]) -> (usize, usize) {
    let page_size = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    (page_size, bytes.len() / page_size)
}

fn a_corrupted_schema_page_fails_every_command_in_one_line() {
    let (_dir, db) = five_thousand_people();
    let mut bytes = std::fs::read(&db).unwrap();
    // Page 1 holds the schema: its records run from the cell content offset
    // (header bytes 105..107) to the end of the page. Overwrite their middle.
    let (page_size, _) = pages(&bytes);
    let content_start = usize::from(u16::from_be_bytes([bytes[105], bytes[106]]));
    let middle = content_start + (page_size - content_start) / 2;
    bytes[middle..middle + 16].fill(0xff);
    std::fs::write(&db, &bytes).unwrap();
    // SQLite says "database disk image is malformed" or, when the damage
    // lands in a CREATE statement, "malformed database schema (…)".
    every_command_fails_and_leaves_the_file(&db, "malformed");
}

fn corrupted_table_pages_fail_full_reads_in_one_line_and_never_panic() {
    let (_dir, db) = five_thousand_people();
    let url = db.display().to_string();
    let mut bytes = std::fs::read(&db).unwrap();
    let (page_size, page_count) = pages(&bytes);
    // 64 bytes of 0xff in the middle of every page but the schema page.
    for page in 1..page_count {
        let middle = page * page_size + page_size / 2;
        bytes[middle..middle + 64].fill(0xff);
    }
    std::fs::write(&db, &bytes).unwrap();
    let run = Runner::new(&url);
    // Reading every row must hit the damage and say so. Output is streamed:
    // what was read before the damage (the CSV header) may be on stdout.
    for args in [&["list"][..], &["export"], &["export", "--format", "csv"]] {
        let line = one_line_error_after_output(&run.output(args));
        assert!(
            line.starts_with("error: database error: "),
            "{args:?}: {line}"
        );
    }
    // SQLite has no page checksums: a read that misses the damaged bytes may
    // succeed. Whatever each command does, it does cleanly.
    let input = run.file("names.txt", "Zed\n");
    for args in every_command(&input) {
        let output = run.output(&args);
        if output.status.success() {
            succeeded(&output);
        } else {
            one_line_error_after_output(&output);
        }
    }
}

// ---------------------------------------------------------------------------
// Locks

fn a_write_blocked_past_the_busy_timeout_fails_in_one_line_then_succeeds_after_release() {
    let (dir, db) = sqlite_file_with(&["Ann"]);
    let url = db.display().to_string();
    let run = Runner::new(&url);
    let input = run.file("names.txt", "Cy\nDee\n");
    let mut holder = people::open(&url).unwrap();
    holder.batch_execute("BEGIN EXCLUSIVE").unwrap();

    // Readers do not wait for a writer in WAL mode.
    assert_eq!(run.ok(["count"]), "1\n");
    // Both writers wait out the 5 s busy timeout, side by side.
    let started = Instant::now();
    let input_arg = input.display().to_string();
    let (add, import) = std::thread::scope(|s| {
        let add = s.spawn(|| run.output(["add", "Bo"]));
        let import = s.spawn(|| run.output(["import", input_arg.as_str()]));
        (add.join().unwrap(), import.join().unwrap())
    });
    let waited = started.elapsed();
    for output in [&add, &import] {
        assert_eq!(
            one_line_error(output),
            "error: database error: database is locked"
        );
    }
    assert!(
        waited >= BUSY_TIMEOUT - Duration::from_millis(500),
        "gave up after {waited:?}, before the busy timeout"
    );

    holder.batch_execute("ROLLBACK").unwrap();
    drop(holder);
    assert_eq!(run.ok(["add", "Bo"]), "2\tBo\n");
    assert_eq!(
        run.ok(["import", input_arg.as_str()]),
        "imported 2, skipped 0\n"
    );
    assert_eq!(run.count(), 4);
    drop(dir);
}

fn a_lock_released_within_the_busy_timeout_is_waited_out() {
    let (_dir, db) = sqlite_file_with(&["Ann"]);
    let url = db.display().to_string();
    let run = Runner::new(&url);
    let mut holder = people::open(&url).unwrap();
    holder.batch_execute("BEGIN EXCLUSIVE").unwrap();
    let (output, finished, released) = std::thread::scope(|s| {
        let add = s.spawn(|| {
            let output = run.output(["add", "Bo"]);
            (output, Instant::now())
        });
        std::thread::sleep(Duration::from_millis(1000));
        let released = Instant::now();
        holder.batch_execute("COMMIT").unwrap();
        let (output, finished) = add.join().unwrap();
        (output, finished, released)
    });
    assert_eq!(succeeded(&output), "2\tBo\n");
    // It succeeded because it waited for the lock, not because there was none.
    assert!(
        finished >= released,
        "the add finished {:?} before the lock was released",
        released - finished
    );
}

// ---------------------------------------------------------------------------
// A full disk

/// `names` lines `"import filler N"`, about 20 bytes each.
pub(super) fn filler_names(count: usize) -> String {
    (0..count).map(|i| format!("import filler {i}\n")).collect()
}

/// What an import that hits a full disk must look like: one line that names
/// the cause, not a consequence of it. `causes` are SQLite's messages for it:
/// ENOSPC is "database or disk is full"; EFBIG is that after a short write,
/// or "disk I/O error" when not one byte could be written.
#[track_caller]
fn assert_disk_full_import(output: &Output, causes: &[&str]) {
    let line = one_line_error(output);
    assert!(
        causes
            .iter()
            .any(|cause| line == format!("error: database error: {cause}")),
        "the full disk is not reported as such: {line}"
    );
}

fn an_import_past_the_file_size_limit_fails_in_one_line_and_keeps_the_previous_rows() {
    let (_dir, db) = sqlite_file_with(&["Ann", "Bo"]);
    let url = db.display().to_string();
    let before = std::fs::read(&db).unwrap();
    let run = Runner::new(&url);
    let input = run.file("names.txt", filler_names(200_000));
    // RLIMIT_FSIZE makes a write past 256 KiB fail. SIGXFSZ is ignored (an
    // ignored signal stays ignored across exec) so that SQLite gets EFBIG
    // instead of the process being killed.
    for extra in [&[][..], &["--skip-existing"]] {
        let output = Command::new("sh")
            .arg("-c")
            .arg("trap '' XFSZ; exec prlimit --fsize=262144 \"$@\"")
            .arg("sh")
            .arg(PEOPLE)
            .args(["--database-url", &url, "import"])
            .args(extra)
            .arg(&input)
            .current_dir(run.cwd.path())
            .env_remove("DATABASE_URL")
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap();
        assert_disk_full_import(&output, &["database or disk is full", "disk I/O error"]);
        assert_eq!(std::fs::read(&db).unwrap(), before, "the file changed");
        assert_eq!(run.count(), 2);
    }
}

fn an_import_onto_a_full_filesystem_fails_in_one_line_and_keeps_the_previous_rows() {
    // A 512 KiB tmpfs in a private mount namespace: it vanishes with the
    // namespace, whatever happens to this test.
    let (seed_dir, seed) = sqlite_file_with(&["Ann", "Bo"]);
    let out = temp_dir();
    let mount_point = temp_dir();
    let names = out.path().join("names.txt");
    std::fs::write(&names, filler_names(200_000)).unwrap();
    let script = r#"
        mnt=$1 seed=$2 people=$3 names=$4 out=$5
        mount -t tmpfs -o size=512k people-test "$mnt" || exit 97
        cp "$seed" "$mnt/people.db" || exit 98
        cd "$out" || exit 99
        "$people" --database-url "$mnt/people.db" import "$names" >import.out 2>import.err
        echo $? >import.rc
        "$people" --database-url "$mnt/people.db" count >count.out 2>count.err
        echo $? >count.rc
        cp "$mnt/people.db" after.db
    "#;
    let status = std::process::Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", script, "sh"])
        .arg(mount_point.path())
        .arg(&seed)
        .arg(PEOPLE)
        .arg(&names)
        .arg(out.path())
        .env_remove("DATABASE_URL")
        .status()
        .unwrap();
    assert!(status.success(), "the namespace script failed: {status:?}");
    let read = |name: &str| std::fs::read(out.path().join(name)).unwrap();
    let import = Output {
        status: exit_status(&read("import.rc")),
        stdout: read("import.out"),
        stderr: read("import.err"),
    };
    assert_disk_full_import(&import, &["database or disk is full"]);
    let count = Output {
        status: exit_status(&read("count.rc")),
        stdout: read("count.out"),
        stderr: read("count.err"),
    };
    assert_eq!(succeeded(&count), "2\n");
    let after = out.path().join("after.db");
    assert_eq!(count_of(&after.display().to_string()), 2);
    drop(seed_dir);
}

/// An `ExitStatus` from a shell's `$?` written to a file.
fn exit_status(rc: &[u8]) -> std::process::ExitStatus {
    use std::os::unix::process::ExitStatusExt;
    let code: i32 = String::from_utf8_lossy(rc)
        .trim()
        .parse()
        .expect("an exit code");
    std::process::ExitStatus::from_raw(code << 8)
}

// ---------------------------------------------------------------------------
// A schema newer than this build

fn a_newer_schema_is_refused_by_every_command_and_left_untouched(db: &TestDb) {
    {
        let mut conn = db.connect().unwrap();
        people::create_many(&mut conn, ["Ann", "Bo"], people::OnConflict::Fail).unwrap();
        diesel::sql_query(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('20990101000000')",
        )
        .execute(&mut conn)
        .unwrap();
    }
    let before = snapshot(db);
    let run = Runner::new(db.url());
    let input = run.file("names.txt", "Zed\n");
    for args in every_command(&input) {
        assert_eq!(
            run.fails(&args),
            "error: database schema is newer than this build of people \
             (unknown migrations: 20990101000000); upgrade people",
            "{args:?}"
        );
        assert_eq!(snapshot(db), before, "{args:?} changed the database");
    }
}

/// What must not change: the SQLite file's bytes, or the PostgreSQL rows.
fn snapshot(db: &TestDb) -> Vec<u8> {
    match db.backend() {
        Backend::Sqlite => std::fs::read(db.url()).unwrap(),
        _ => {
            #[derive(diesel::QueryableByName)]
            struct Row {
                #[diesel(sql_type = diesel::sql_types::Text)]
                row: String,
            }
            let mut conn = people::open(db.url()).unwrap();
            let rows: Vec<Row> = diesel::sql_query(
                "SELECT 'v' || version AS row FROM __diesel_schema_migrations \
                 UNION ALL SELECT id || ':' || name FROM person ORDER BY 1",
            )
            .load(&mut conn)
            .unwrap();
            rows.into_iter()
                .flat_map(|r| (r.row + "\n").into_bytes())
                .collect()
        }
    }
}

// ---------------------------------------------------------------------------
// PostgreSQL without a private cluster

fn an_unreachable_postgres_server_fails_every_command_in_one_line() {
    let port = closed_port();
    let url = format!("postgres://app:s3cret@127.0.0.1:{port}/people");
    let run = Runner::new(&url);
    let input = run.file("names.txt", "Zed\n");
    for args in every_command(&input) {
        let line = run.fails(&args);
        assert!(
            line.starts_with(&format!(
                "error: cannot open database postgres://app:***@127.0.0.1:{port}/people: "
            )) && line.contains("Connection refused"),
            "{args:?}: {line}"
        );
        assert!(!line.contains("s3cret"), "{line}");
    }
}

fn connection_errors_never_show_the_password_whatever_its_characters() {
    // Passwords written without percent-encoding, as people do. libpq reads
    // the user info up to the first `@` or `/`, so it takes all but the
    // `@` one as they are (and tries to connect); none may be shown.
    let port = closed_port();
    for (password, libpq_takes_it) in [
        ("pl41n", true),
        ("with:colon", true),
        ("with%40encoded-at", true),
        ("with?question", true),
        ("with#hash", true),
        ("with&amp", true),
        ("with=equals", true),
        ("with@at", false),
    ] {
        let url = format!("postgres://app:{password}@127.0.0.1:{port}/people");
        let line = Runner::new(&url).fails(["count"]);
        assert!(
            line.contains("Connection refused") == libpq_takes_it,
            "libpq did not parse the URL as expected: {line}"
        );
        assert!(
            !line.contains(password),
            "password {password:?} shown: {line}"
        );
    }
    for query in [
        "password=s3cret",
        "user=app&password=s3cret",
        "password=s3cret&sslmode=disable",
    ] {
        let url = format!("postgres://127.0.0.1:{port}/people?{query}");
        let line = Runner::new(&url).fails(["count"]);
        assert!(!line.contains("s3cret"), "{line}");
    }
}
