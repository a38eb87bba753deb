//! What some tests need from the machine, as harness requirements: probed
//! once, and a test whose requirement is missing shows as ignored.

use std::path::{Path, PathBuf};

use super::harness::Requirement;
use super::process::{euid, runs};

/// A PostgreSQL server named by `PEOPLE_TEST_POSTGRES_URL`.
pub const POSTGRES: Requirement = Requirement {
    name: "PostgreSQL",
    probe: || match std::env::var(super::POSTGRES_URL_VAR) {
        _ if !cfg!(feature = "postgres") => Err("built without the postgres feature".into()),
        Ok(url) if !url.is_empty() => Ok(()),
        _ => Err(format!("{} is not set", super::POSTGRES_URL_VAR)),
    },
};

/// A build with PostgreSQL support (no server needed).
pub const POSTGRES_BUILD: Requirement = Requirement {
    name: "PostgreSQL support",
    probe: || {
        if cfg!(feature = "postgres") {
            Ok(())
        } else {
            Err("built without the postgres feature".into())
        }
    },
};

/// The `people` binary (the `cli` feature).
pub const BINARY: Requirement = Requirement {
    name: "the people binary",
    probe: || {
        if super::PEOPLE.is_empty() {
            Err("built without the cli feature".into())
        } else {
            Ok(())
        }
    },
};

/// Running the binary without root's power to ignore permission bits:
/// either we are not root, or `setpriv` can switch to `nobody`.
pub const UNPRIVILEGED: Requirement = Requirement {
    name: "an unprivileged user",
    probe: || {
        if euid() != 0
            || runs(
                "setpriv",
                &["--reuid=65534", "--regid=65534", "--clear-groups", "true"],
            )
        {
            Ok(())
        } else {
            Err("running as root, and `setpriv` (util-linux) cannot switch to uid 65534".into())
        }
    },
};

/// `prlimit` and a shell that can ignore SIGXFSZ, to make writes hit a file size limit.
pub const PRLIMIT: Requirement = Requirement {
    name: "prlimit",
    probe: || {
        if runs("prlimit", &["--version"]) && runs("sh", &["-c", "trap '' XFSZ"]) {
            Ok(())
        } else {
            Err("`prlimit` (util-linux) or `sh` is not installed".into())
        }
    },
};

/// Mounting a small tmpfs in a private mount namespace (root and `unshare -m`).
pub const TMPFS: Requirement = Requirement {
    name: "a private tmpfs",
    probe: || {
        let mount = "d=$(mktemp -d) || exit 1; mount -t tmpfs -o size=64k people-probe \"$d\"; \
                     ok=$?; umount \"$d\" 2>/dev/null; rmdir \"$d\"; exit $ok";
        if euid() == 0
            && runs(
                "unshare",
                &["-m", "--propagation", "private", "sh", "-c", mount],
            )
        {
            Ok(())
        } else {
            Err("cannot mount a tmpfs here (needs root and `unshare -m`)".into())
        }
    },
};

/// PostgreSQL's server binaries, for a private throwaway cluster.
pub const POSTGRES_SERVER_BINARIES: Requirement = Requirement {
    name: "PostgreSQL server binaries",
    probe: || {
        if postgres_bin_dir().is_none() {
            return Err("no /usr/lib/postgresql/*/bin/initdb".into());
        }
        if euid() == 0 && !runs("runuser", &["-u", "postgres", "--", "true"]) {
            return Err("running as root, and `runuser -u postgres` does not work \
                        (initdb refuses to run as root)"
                .into());
        }
        Ok(())
    },
};

/// The diesel CLI on the PATH, with SQLite support.
pub const DIESEL_CLI: Requirement = Requirement {
    name: "the diesel CLI",
    probe: || {
        if runs("diesel", &["--version"]) {
            Ok(())
        } else {
            Err(
                "`diesel` is not on the PATH (cargo install diesel_cli --no-default-features \
                 --features sqlite-bundled,postgres-bundled)"
                    .into(),
            )
        }
    },
};

/// GNU time, to measure a process's peak memory.
pub const GNU_TIME: Requirement = Requirement {
    name: "GNU time",
    probe: || {
        if Path::new("/usr/bin/time").exists() {
            Ok(())
        } else {
            Err("/usr/bin/time (GNU time) is not installed".into())
        }
    },
};

/// Debian's Chromium, which tests/web_browser.rs drives.
#[cfg_attr(not(feature = "serve"), allow(dead_code))]
pub const CHROMIUM_BIN: &str = "/usr/bin/chromium";
/// Debian's chromedriver, the WebDriver server for [`CHROMIUM_BIN`].
#[cfg_attr(not(feature = "serve"), allow(dead_code))]
pub const CHROMEDRIVER_BIN: &str = "/usr/bin/chromedriver";

/// Headless Chromium and a chromedriver of the same major version
/// (`apt-get install chromium chromium-driver`).
#[cfg_attr(not(feature = "serve"), allow(dead_code))]
pub const CHROMIUM: Requirement = Requirement {
    name: "Chromium and chromedriver",
    probe: || {
        let major = |program: &str| -> Result<String, String> {
            if !Path::new(program).exists() {
                return Err(format!(
                    "{program} is not installed (apt-get install chromium chromium-driver)"
                ));
            }
            let output = std::process::Command::new(program)
                .arg("--version")
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .output()
                .map_err(|e| format!("{program} --version: {e}"))?;
            let text = String::from_utf8_lossy(&output.stdout);
            // "Chromium 156.0.8078.108 built on …", "ChromeDriver 156.0.8078.108 (…)".
            text.split_whitespace()
                .nth(1)
                .and_then(|version| version.split('.').next())
                .filter(|major| output.status.success() && major.parse::<u32>().is_ok())
                .map(str::to_owned)
                .ok_or_else(|| format!("{program} --version does not run: {:?}", text.trim()))
        };
        let (browser, driver) = (major(CHROMIUM_BIN)?, major(CHROMEDRIVER_BIN)?);
        if browser == driver {
            Ok(())
        } else {
            Err(format!(
                "Chromium {browser} and chromedriver {driver} are different major versions"
            ))
        }
    },
};

/// The newest `/usr/lib/postgresql/<version>/bin` holding `initdb`.
pub fn postgres_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin)
}
