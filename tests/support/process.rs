//! One runner for the `people` binary, shared by the CLI, fault and hostile
//! tests: every run gets its own empty current directory and no inherited
//! `DATABASE_URL`, so no stray `.env` or `people.db` is ever used.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use assert_cmd::Command;
use tempfile::TempDir;

use super::output::{one_line_error, succeeded};

/// The `people` binary under test; empty in a build without the `cli`
/// feature, where tests that run it require [`BINARY`](super::BINARY).
pub(crate) const PEOPLE: &str = match option_env!("CARGO_BIN_EXE_people") {
    Some(path) => path,
    None => "",
};

/// The `people` binary in `cwd`, with no DATABASE_URL inherited.
pub(crate) fn people_in(cwd: &Path) -> Command {
    let mut cmd = Command::new(PEOPLE);
    cmd.current_dir(cwd)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .timeout(Duration::from_secs(120));
    cmd
}

/// A new empty directory, removed when dropped.
pub(crate) fn temp_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("people-test-")
        .tempdir()
        .expect("temp dir")
}

/// Runs `people --database-url URL …` in its own empty current directory.
pub(crate) struct Runner {
    pub(crate) url: String,
    pub(crate) cwd: TempDir,
}

impl Runner {
    pub(crate) fn new(url: &str) -> Runner {
        Runner {
            url: url.to_owned(),
            cwd: temp_dir(),
        }
    }

    /// The command, ready for more arguments or standard input.
    pub(crate) fn cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = people_in(self.cwd.path());
        cmd.arg("--database-url").arg(&self.url).args(args);
        cmd
    }

    pub(crate) fn output<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd(args).output().expect("run people")
    }

    /// Runs and asserts success with an empty stderr; returns stdout.
    #[track_caller]
    pub(crate) fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        succeeded(&self.output(args))
    }

    /// Runs and asserts a one-line error with exit code 1; returns the line.
    #[track_caller]
    pub(crate) fn fails<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        one_line_error(&self.output(args))
    }

    /// Like [`ok`](Self::ok), with `input` on standard input.
    #[track_caller]
    pub(crate) fn ok_with_stdin<I, S>(&self, args: I, input: impl Into<Vec<u8>>) -> String
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

    /// Like [`fails`](Self::fails), with `input` on standard input.
    #[track_caller]
    pub(crate) fn fails_with_stdin<I, S>(&self, args: I, input: impl Into<Vec<u8>>) -> String
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
    pub(crate) fn count(&self) -> u64 {
        let out = self.ok(["count"]);
        out.strip_suffix('\n')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("count printed {out:?}"))
    }

    /// Writes a file into the current directory and returns its path.
    pub(crate) fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.cwd.path().join(name);
        std::fs::write(&path, contents).expect("write input file");
        path
    }
}

/// The effective user id of this process (from /proc: no libc needed).
pub(crate) fn euid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|id| id.parse().ok())
        .expect("an effective uid in /proc/self/status")
}

/// Whether `program args…` runs and succeeds.
pub(crate) fn runs(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago).
pub(crate) fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}
