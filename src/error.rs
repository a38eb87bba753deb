//! The one error type of the library, and the single place where Diesel's
//! errors are turned into it.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `people`.
///
/// Each message is one line and names the offending value. Where a
/// lower-level error caused this one (a database or I/O failure), the message
/// says what failed and the cause is [`source()`](std::error::Error::source):
/// print the whole chain, e.g. with anyhow's `{:#}`, to see both.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No person has this id.
    #[error("no person with id {id}")]
    NotFound {
        /// The id that was looked up.
        id: i32,
    },

    /// Another person already has this name (names are unique).
    #[error("name {} is already taken; choose another name", crate::name::quoted(.name))]
    NameTaken {
        /// The name that collided.
        name: String,
    },

    /// The name breaks a rule of [`PersonName`](crate::PersonName).
    #[error("invalid name: {reason}")]
    InvalidName {
        /// Which rule, and the offending value (shortened if long).
        reason: String,
    },

    /// An input record could not be read (import files).
    #[error("{location}: {reason}")]
    InvalidRecord {
        /// Where in the input: `line 5`, or `record 3` in JSON.
        location: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A page request that cannot be served (page or per_page below 1, or past the end).
    #[error("invalid page: {reason}")]
    InvalidPage {
        /// What is wrong with it.
        reason: String,
    },

    /// The database holds migrations this build does not know: it was made by
    /// a newer version of `people`. Nothing was changed.
    #[error(
        "database schema is newer than this build of people (unknown migrations: {}); upgrade people",
        versions.join(", ")
    )]
    SchemaTooNew {
        /// The applied versions this build does not know.
        versions: Vec<String>,
    },

    /// The database has a `person` table but no people migration history:
    /// another tool made it (Flask-SQLAlchemy's `db.create_all()`, say).
    /// Nothing was written; [`adopt`](crate::adopt::adopt) takes it over.
    #[error(
        "the database has a person table but no people migration history (another tool made it?); \
         nothing was changed: take it over with `people adopt`"
    )]
    NeedsAdoption,

    /// [`adopt`](crate::adopt::adopt) cannot take the database over; nothing was written.
    #[error("cannot adopt the database: {reason}")]
    AdoptionRefused {
        /// Why: no table, already managed, a different shape, or bad rows.
        reason: String,
    },

    /// [`copy`](crate::copy::copy) refuses a target that already holds people.
    #[error(
        "the target database already holds {people} {}; copy needs an empty one",
        if *people == 1 { "person" } else { "people" }
    )]
    TargetNotEmpty {
        /// How many.
        people: i64,
    },

    /// The database URL is not usable (bad parameter, unsupported scheme...).
    #[error("invalid database URL {url}: {reason}")]
    InvalidUrl {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// What is wrong with it, and how to write it instead.
        reason: String,
    },

    /// The database could not be opened.
    #[error("cannot open database {url}")]
    Connection {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// Diesel's error.
        #[source]
        source: diesel::ConnectionError,
    },

    /// A connection could not be taken from the pool in time.
    #[error("no database connection available")]
    Pool {
        /// r2d2's error (it says why the last attempt failed).
        #[source]
        source: diesel::r2d2::PoolError,
    },

    /// Applying or inspecting migrations failed.
    #[error("migration failed")]
    Migration {
        /// The migration harness' error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A stored row people cannot read: another program wrote a time or a
    /// name people does not understand. Mend or delete that row.
    #[error("person {id} cannot be read: its {column} is not valid")]
    UnreadablePerson {
        /// The row's id.
        id: i32,
        /// The column: `name`, `created_at` or `updated_at`.
        column: String,
        /// Why the value could not be read.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// Any other database failure.
    #[error("database error")]
    Database {
        /// Diesel's error.
        #[source]
        source: DieselError,
    },

    /// Reading input or writing output failed.
    #[error("i/o error")]
    Io {
        /// The underlying error.
        #[source]
        #[from]
        source: std::io::Error,
    },
}

impl Error {
    /// Maps a failed write of `name`: a unique violation becomes [`Error::NameTaken`],
    /// whichever writer won the race.
    pub(crate) fn from_write(source: DieselError, name: &str) -> Self {
        match source {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Error::NameTaken {
                name: name.to_owned(),
            },
            other => Error::from(other),
        }
    }

    /// Whether this is a unique violation reported by the database.
    pub(crate) fn is_unique_violation(source: &DieselError) -> bool {
        matches!(
            source,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
        )
    }
}

impl From<DieselError> for Error {
    fn from(source: DieselError) -> Self {
        match source {
            DieselError::DeserializationError(inner) => {
                match inner.downcast::<crate::unreadable::UnreadablePerson>() {
                    Ok(row) => Error::UnreadablePerson {
                        id: row.id,
                        column: row.column,
                        source: row.source,
                    },
                    Err(inner) => Error::Database {
                        source: DieselError::DeserializationError(inner),
                    },
                }
            }
            source => Error::Database { source },
        }
    }
}

impl From<std::convert::Infallible> for Error {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_is_the_source_not_repeated_in_the_message() {
        use std::error::Error as _;
        let err = Error::Database {
            source: DieselError::QueryBuilderError("first\nsecond\n".into()),
        };
        assert_eq!(err.to_string(), "database error");
        assert_eq!(
            err.source().map(ToString::to_string).as_deref(),
            Some("first\nsecond\n")
        );
    }

    #[test]
    fn schema_too_new_lists_versions_and_advice() {
        let err = Error::SchemaTooNew {
            versions: vec!["20990101000000".into()],
        };
        assert_eq!(
            err.to_string(),
            "database schema is newer than this build of people (unknown migrations: 20990101000000); upgrade people"
        );
    }
}
