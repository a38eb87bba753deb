//! A throwaway PostgreSQL cluster in a temp directory, on a free port, with
//! scram-sha-256 password authentication: for tests that need a password, a
//! missing database or a server restart, never the shared server.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::process::{Runner, closed_port, euid};
use super::requirements::postgres_bin_dir;

/// A throwaway PostgreSQL cluster in a temp directory, on a free port, with
/// scram-sha-256 password authentication. Stopped and deleted when dropped,
/// also when the test fails.
pub(crate) struct PrivatePostgres {
    dir: TempDir,
    bin: PathBuf,
    pub(crate) port: u16,
    password: String,
    /// Run the server's tools as `postgres` (initdb refuses root).
    as_postgres: bool,
}

impl PrivatePostgres {
    /// A running cluster. Only for tests that require
    /// [`POSTGRES_SERVER_BINARIES`](super::POSTGRES_SERVER_BINARIES).
    #[track_caller]
    pub(crate) fn start() -> PrivatePostgres {
        let bin = postgres_bin_dir().expect("PostgreSQL server binaries (a test requirement)");
        let as_postgres = euid() == 0;
        let dir = tempfile::Builder::new()
            .prefix("people-pg-")
            .tempdir()
            .expect("temp dir");
        // The `postgres` user creates the data directory and the socket here.
        chmod(dir.path(), 0o777);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let password = format!("pw{}x{nanos}", std::process::id());
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, format!("{password}\n")).unwrap();
        chmod(&pwfile, 0o644);
        let cluster = PrivatePostgres {
            dir,
            bin,
            port: closed_port(),
            password,
            as_postgres,
        };
        let data = cluster.data_dir();
        cluster.tool(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                &format!("--pwfile={}", pwfile.display()),
                "-N",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        cluster.server("start");
        cluster
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// Runs one of the server's tools (as `postgres` when we are root) and
    /// panics with its output if it fails.
    #[track_caller]
    fn tool(&self, name: &str, args: &[&str]) {
        let program = self.bin.join(name);
        let mut cmd = if self.as_postgres {
            let mut cmd = std::process::Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(&program);
            cmd
        } else {
            std::process::Command::new(&program)
        };
        let output = cmd
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {name}: {e}"));
        let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        assert!(
            output.status.success(),
            "{name} {args:?} failed: {}{}\nserver log:\n{log}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }

    /// `pg_ctl start`, `restart` or `stop` (fast), waiting until done.
    #[track_caller]
    pub(crate) fn server(&self, action: &str) {
        let data = self.data_dir();
        let log = self.dir.path().join("server.log").display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c shared_buffers=16MB -c max_connections=20",
            self.port,
            self.dir.path().display()
        );
        let mut args = vec![action, "-D", &data, "-w", "-t", "60", "-s"];
        if action != "stop" {
            args.extend(["-l", &log, "-o", &options]);
        }
        if action != "start" {
            args.extend(["-m", "fast"]);
        }
        self.tool("pg_ctl", &args);
    }

    /// The URL of `database` on this cluster, with the right password.
    pub(crate) fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// The same URL as people print it.
    pub(crate) fn redacted_url(&self, database: &str) -> String {
        format!("postgres://postgres:***@127.0.0.1:{}/{database}", self.port)
    }

    /// Asserts the line shows neither this cluster's password nor `other`.
    #[track_caller]
    pub(crate) fn assert_hides_passwords(&self, line: &str, other: &str) {
        assert!(!line.contains(&self.password), "the password shown: {line}");
        assert!(
            other.is_empty() || !line.contains(other),
            "a password shown: {line}"
        );
    }

    /// Waits (up to a minute) until some session sits in an open transaction.
    #[track_caller]
    /// Waits until a session waits on its client inside a transaction: idle
    /// in it, or in a `COPY … FROM STDIN` waiting for the next data.
    pub(crate) fn wait_for_a_session_waiting_in_a_transaction(&self) {
        #[derive(diesel::QueryableByName)]
        struct Sessions {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        use diesel::RunQueryDsl;
        let mut conn = people::open(self.url("postgres")).unwrap();
        let started = Instant::now();
        loop {
            let sessions: Sessions = diesel::sql_query(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'idle in transaction' \
                 OR (state = 'active' AND wait_event = 'ClientRead')",
            )
            .get_result(super::pg(&mut conn))
            .unwrap();
            if sessions.n > 0 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no session opened a transaction"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A migrated `people` database holding `names`.
    pub(crate) fn people_db(&self, names: &[&str]) -> Runner {
        let run = Runner::new(&self.url("people"));
        let output = run.output(["migrate"]);
        assert!(output.status.success(), "{output:?}");
        if !names.is_empty() {
            run.ok(std::iter::once("add").chain(names.iter().copied()));
        }
        run
    }
}

impl Drop for PrivatePostgres {
    // Best effort and never a panic: this may run while a test unwinds.
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let data = self.data_dir();
        let args = ["stop", "-D", data.as_str(), "-m", "immediate", "-w", "-s"];
        let mut cmd = if self.as_postgres {
            let mut cmd = std::process::Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(&pg_ctl);
            cmd
        } else {
            std::process::Command::new(&pg_ctl)
        };
        let _ = cmd
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn chmod(path: &std::path::Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
