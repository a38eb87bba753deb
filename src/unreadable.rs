//! A stored row people cannot read (another program wrote a time or a name
//! people does not understand) is reported with its id and column, so it
//! can be found and mended, instead of as a bare "error deserializing field".
//!
//! Diesel fails a row at its first bad column and forgets the row. So
//! [`Person`](crate::Person)'s `Queryable` reads its columns through
//! [`PersonRow`], which reads them exactly as `#[derive(Queryable)]` does
//! and, only when that fails, reads the id from the same row and names it.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromStaticSqlRow};
use diesel::result::DeserializeFieldError;
use diesel::row::Row;

use crate::models::UtcTimestamp;

/// The columns of a `Person`, in the order `Person` selects them.
pub(crate) type Columns = (i32, String, UtcTimestamp, UtcTimestamp);

/// A `Person`'s columns, read as [`Columns`]. (`pub` in a private module: it
/// appears in `Person`'s public `Queryable` impl, unnameable.)
pub struct PersonRow(pub(crate) Columns);

/// For each backend by name: an impl generic over the backend would let
/// another crate's backend overlap Diesel's blanket impl for single values.
macro_rules! read_person_row_on {
    ($($(#[$attr:meta])* $backend:ty),*) => {$(
        $(#[$attr])*
        impl<ST0, ST1, ST2, ST3> FromStaticSqlRow<(ST0, ST1, ST2, ST3), $backend> for PersonRow
        where
            Columns: FromStaticSqlRow<(ST0, ST1, ST2, ST3), $backend>,
            i32: FromStaticSqlRow<ST0, $backend>,
        {
            #[inline(always)]
            fn build_from_row<'a>(row: &impl Row<'a, $backend>) -> deserialize::Result<Self> {
                match Columns::build_from_row(row) {
                    Ok(columns) => Ok(PersonRow(columns)),
                    Err(error) => Err(name_the_row::<_, ST0>(row, error)),
                }
            }
        }
    )*};
}

read_person_row_on!(
    diesel::sqlite::Sqlite,
    #[cfg(feature = "postgres")]
    diesel::pg::Pg,
    <crate::DbConnection as diesel::Connection>::Backend
);

/// The failed column's error, with the row's id (column 0) beside it.
#[cold]
fn name_the_row<'a, DB, ST0>(
    row: &impl Row<'a, DB>,
    error: Box<dyn std::error::Error + Send + Sync>,
) -> Box<dyn std::error::Error + Send + Sync>
where
    DB: Backend,
    i32: FromStaticSqlRow<ST0, DB>,
{
    let Ok(id) = <i32 as FromStaticSqlRow<ST0, DB>>::build_from_row(&row.partial_row(0..1)) else {
        return error; // the id itself is unreadable: nothing to name
    };
    match error.downcast::<DeserializeFieldError>() {
        Ok(field) => Box::new(UnreadablePerson {
            id,
            column: field.field_name.unwrap_or_default(),
            source: field.error,
        }),
        Err(other) => other,
    }
}

/// Carried through Diesel's `DeserializationError`, and taken out of it
/// again by `Error`'s `From<diesel::result::Error>` (by type, not by text).
#[derive(Debug, thiserror::Error)]
#[error("person {id}: {column} cannot be read")]
pub(crate) struct UnreadablePerson {
    pub(crate) id: i32,
    pub(crate) column: String,
    #[source]
    pub(crate) source: Box<dyn std::error::Error + Send + Sync>,
}
