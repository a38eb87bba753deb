//! SQLite URLs and the one parameter `people` adds to them: `synchronous`,
//! the durability choice.

use crate::error::{Error, Result};

/// How hard SQLite works to make a commit survive a crash.
///
/// Both settings survive a crash of the process: a commit that returned is
/// never lost when `people` (or your app) is killed. They differ on power
/// loss or an OS crash:
///
/// * [`Normal`](Synchronous::Normal) (the default) may lose the last commits
///   before the failure (never corrupting the file). No fsync per commit:
///   about 55,000 single-row commits/s measured on the development machine.
/// * [`Full`](Synchronous::Full) fsyncs the WAL on every commit, so a commit
///   that returned survives power loss too: about 8,000 commits/s there.
///
/// Choose it with the URL parameter `synchronous`: `app.db?synchronous=full`
/// (or `file:app.db?synchronous=full`, `sqlite://app.db?synchronous=full`).
/// It applies to every connection opened from that URL, pooled ones included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// `PRAGMA synchronous = NORMAL` in WAL mode.
    #[default]
    Normal,
    /// `PRAGMA synchronous = FULL`.
    Full,
}

/// An SQLite URL split into what SQLite opens and our own parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqliteUrl {
    /// What is passed to SQLite: a path, or a `file:` URI with SQLite's own parameters.
    pub(crate) target: String,
    pub(crate) synchronous: Synchronous,
}

impl SqliteUrl {
    pub(crate) fn parse(url: &str) -> Result<SqliteUrl> {
        // Diesel turns sqlite:// into file:, so SQLite's URI rules apply to both.
        let is_uri = url.starts_with("file:") || url.starts_with("sqlite://");
        let Some((base, query)) = url.split_once('?') else {
            return Ok(SqliteUrl {
                target: url.to_owned(),
                synchronous: Synchronous::default(),
            });
        };
        let mut synchronous = Synchronous::default();
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "synchronous" => {
                    synchronous = match value.to_ascii_lowercase().as_str() {
                        "normal" => Synchronous::Normal,
                        "full" => Synchronous::Full,
                        other => {
                            return Err(Error::InvalidUrl {
                                url: url.to_owned(),
                                reason: format!(
                                    "synchronous must be normal or full, not {other:?}"
                                ),
                            });
                        }
                    }
                }
                // SQLite's own URI parameters (mode, cache, immutable, vfs...).
                _ if is_uri => kept.push(pair),
                _ => {
                    return Err(Error::InvalidUrl {
                        url: url.to_owned(),
                        reason: format!(
                            "unknown parameter {key:?}; a plain path takes only synchronous=normal|full \
                             (use a file: URI for SQLite's own parameters)"
                        ),
                    });
                }
            }
        }
        let target = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Ok(SqliteUrl {
            target,
            synchronous,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> (String, Synchronous) {
        let parsed = SqliteUrl::parse(url).unwrap();
        (parsed.target, parsed.synchronous)
    }

    #[test]
    fn synchronous_is_taken_off_the_url() {
        assert_eq!(parse("app.db"), ("app.db".into(), Synchronous::Normal));
        assert_eq!(
            parse("app.db?synchronous=full"),
            ("app.db".into(), Synchronous::Full)
        );
        assert_eq!(
            parse("app.db?synchronous=NORMAL"),
            ("app.db".into(), Synchronous::Normal)
        );
        assert_eq!(
            parse("file:app.db?mode=rwc&synchronous=full&cache=private"),
            (
                "file:app.db?mode=rwc&cache=private".into(),
                Synchronous::Full
            )
        );
        assert_eq!(
            parse("sqlite://app.db?synchronous=full"),
            ("sqlite://app.db".into(), Synchronous::Full)
        );
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(SqliteUrl::parse("app.db?synchronous=off").is_err());
        assert!(SqliteUrl::parse("app.db?mode=ro").is_err());
        assert!(SqliteUrl::parse("file:app.db?mode=ro").is_ok());
    }
}
