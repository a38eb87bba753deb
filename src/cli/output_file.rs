//! `export --output FILE`: a file that appears whole or not at all, even
//! when the export is stopped with Ctrl-C.

use std::fmt;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use signal_hook::SigId;
use signal_hook::consts::{SIGINT, SIGTERM};
use tempfile::NamedTempFile;

/// A file written beside its final path and renamed over it once complete,
/// so that a failed export leaves what was there before (or nothing), never
/// a file cut short. Dropped without [`OutputFile::commit`], it removes the
/// partial file. While it lives, SIGINT and SIGTERM do not kill the process
/// (which would leave the partial file behind): they make its next write
/// fail, and [`OutputFile::interrupted`] says which signal came.
pub struct OutputFile {
    /// The file replaced: the one a symbolic link points at.
    path: PathBuf,
    /// The path as the user gave it, for messages.
    shown: PathBuf,
    partial: BufWriter<Interruptible<NamedTempFile>>,
    signals: CaughtSignals,
}

impl OutputFile {
    /// Starts writing `path`: a new file gets the usual permissions (0666
    /// less the umask), a file being replaced keeps its own. A symbolic link
    /// is followed, so the file it points at is replaced and the link stays.
    pub fn create(path: &Path) -> anyhow::Result<OutputFile> {
        // Messages name the file as the user did.
        let cannot_write = || format!("cannot write {}", path.display());
        let target = match fs::canonicalize(path) {
            Ok(target) => target,
            Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_owned(),
            Err(e) => return Err(e).with_context(cannot_write),
        };
        let replaced = match fs::metadata(&target) {
            Ok(meta) if meta.is_dir() => anyhow::bail!("{} is a directory", path.display()),
            Ok(meta) => Some(meta.permissions()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(cannot_write),
        };
        // A missing directory in the operating system's words: tempfile's
        // error names the partial file instead of the one the user named.
        let dir = directory_of(&target);
        fs::metadata(dir).with_context(cannot_write)?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(".people-export-").suffix(".partial");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(0o666));
        }
        let partial = builder
            .tempfile_in(dir)
            .map_err(|e| io::Error::from(e.kind()))
            .with_context(cannot_write)?;
        if let Some(permissions) = replaced {
            partial
                .as_file()
                .set_permissions(permissions)
                .with_context(cannot_write)?;
        }
        let signals = CaughtSignals::catch().context("cannot catch Ctrl-C")?;
        let partial = Interruptible {
            inner: partial,
            caught: Arc::clone(&signals.caught),
        };
        Ok(OutputFile {
            path: target,
            shown: path.to_owned(),
            partial: BufWriter::new(partial),
            signals,
        })
    }

    /// Where the output goes until [`OutputFile::commit`].
    pub fn writer(&mut self) -> &mut impl Write {
        &mut self.partial
    }

    /// The signal that stopped the writes, if one came: the file is then
    /// left as it was.
    pub fn interrupted(&self) -> Option<Interrupted> {
        self.signals.caught().map(|signal| Interrupted {
            signal,
            shown: self.shown.clone(),
        })
    }

    /// Syncs the file to disk and renames it into place (then syncs the
    /// directory, so that the rename survives a crash too), unless a signal
    /// came first.
    pub fn commit(self) -> anyhow::Result<()> {
        if let Some(interrupted) = self.interrupted() {
            return Err(interrupted.into());
        }
        let path = self.path;
        let cannot_write = || format!("cannot write {}", self.shown.display());
        let partial = self
            .partial
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(cannot_write)?
            .inner;
        partial.as_file().sync_all().with_context(cannot_write)?;
        partial
            .persist(&path)
            .map_err(|e| e.error)
            .with_context(cannot_write)?;
        #[cfg(unix)]
        fs::File::open(directory_of(&path))
            .and_then(|dir| dir.sync_all())
            .with_context(cannot_write)?;
        Ok(())
    }
}

/// The directory `path` is in (`.` for a bare file name).
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// An export to a file stopped by SIGINT or SIGTERM, which left the file as
/// it was. The process exits with 128 + the signal's number, as if the
/// signal had killed it.
#[derive(Debug)]
pub struct Interrupted {
    pub signal: i32,
    shown: PathBuf,
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.signal == SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        };
        write!(
            f,
            "stopped by {name}; {} left as it was",
            self.shown.display()
        )
    }
}

impl std::error::Error for Interrupted {}

/// SIGINT and SIGTERM noted instead of acted on, until dropped.
struct CaughtSignals {
    /// The last signal that came, or 0.
    caught: Arc<AtomicUsize>,
    handlers: Vec<SigId>,
}

impl CaughtSignals {
    fn catch() -> io::Result<CaughtSignals> {
        let mut signals = CaughtSignals {
            caught: Arc::new(AtomicUsize::new(0)),
            handlers: Vec::new(),
        };
        // A signal the parent ignores stays ignored: a shell starts a
        // script's background jobs with SIGINT ignored, so that Ctrl-C
        // stops the script and not them.
        for signal in [SIGINT, SIGTERM].into_iter().filter(|&s| !is_ignored(s)) {
            let caught = Arc::clone(&signals.caught);
            let handler = signal_hook::flag::register_usize(signal, caught, signal as usize)?;
            signals.handlers.push(handler);
        }
        Ok(signals)
    }

    fn caught(&self) -> Option<i32> {
        match self.caught.load(Ordering::SeqCst) {
            0 => None,
            signal => i32::try_from(signal).ok(),
        }
    }
}

impl Drop for CaughtSignals {
    fn drop(&mut self) {
        for handler in self.handlers.drain(..) {
            signal_hook::low_level::unregister(handler);
        }
    }
}

/// A writer that fails once a signal has been caught, so that an export in
/// progress stops at its next write.
struct Interruptible<W> {
    inner: W,
    caught: Arc<AtomicUsize>,
}

impl<W: Write> Write for Interruptible<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.caught.load(Ordering::SeqCst) != 0 {
            // Not ErrorKind::Interrupted: write_all would retry that.
            return Err(io::Error::other("stopped by a signal"));
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Whether `signal` is ignored (`SIG_IGN`) in this process.
fn is_ignored(signal: libc::c_int) -> bool {
    // SAFETY: `sigaction` is plain old data, for which all zeroes is valid;
    // with a null new action, the call only writes the current one into it.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    let read = unsafe { libc::sigaction(signal, std::ptr::null(), &mut current) };
    read == 0 && current.sa_sigaction == libc::SIG_IGN
}
