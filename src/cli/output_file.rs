//! `export --output FILE`: a file that appears whole or not at all.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use tempfile::NamedTempFile;

/// A file written beside its final path and renamed over it once complete,
/// so that a failed export leaves what was there before (or nothing), never
/// a file cut short. Dropped without [`OutputFile::commit`], it removes the
/// partial file.
pub struct OutputFile {
    /// The file replaced: the one a symbolic link points at.
    path: PathBuf,
    /// The path as the user gave it, for messages.
    shown: PathBuf,
    partial: BufWriter<NamedTempFile>,
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
        Ok(OutputFile {
            path: target,
            shown: path.to_owned(),
            partial: BufWriter::new(partial),
        })
    }

    /// Where the output goes until [`OutputFile::commit`].
    pub fn writer(&mut self) -> &mut impl Write {
        &mut self.partial
    }

    /// Syncs the file to disk and renames it into place (then syncs the
    /// directory, so that the rename survives a crash too).
    pub fn commit(self) -> anyhow::Result<()> {
        let path = self.path;
        let cannot_write = || format!("cannot write {}", self.shown.display());
        let partial = self
            .partial
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(cannot_write)?;
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
