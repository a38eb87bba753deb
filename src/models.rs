//! The `person` row as Rust structs: [`Person`] to read, [`NewPerson`] to insert.
//! Both are checked against `schema.rs` on every enabled backend.

use std::fmt;

use diesel::prelude::*;

use crate::name::PersonName;
use crate::schema::person;

/// A stored person.
///
/// `Display` follows the seed tutorial's `__repr__`: `<Name "Alice">`.
///
/// ```
/// let alice = people::Person { id: 1, name: "Alice".into() };
/// assert_eq!(alice.to_string(), r#"<Name "Alice">"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Queryable, Selectable, Identifiable)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[diesel(table_name = person)]
#[cfg_attr(
    feature = "postgres",
    diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))
)]
#[cfg_attr(
    not(feature = "postgres"),
    diesel(check_for_backend(diesel::sqlite::Sqlite))
)]
pub struct Person {
    /// Assigned by the database; never reused after a delete.
    pub id: i32,
    /// Unique, 1 to 80 characters (see [`PersonName`]).
    pub name: String,
}

impl fmt::Display for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<Name {:?}>", self.name)
    }
}

/// A person to insert. It borrows a [`PersonName`], so only valid names
/// reach the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Insertable)]
#[diesel(table_name = person)]
// Without this, Diesel's SQLite batch insert runs one INSERT per row in a
// savepoint (it treats every field as maybe-DEFAULT); with it, one multi-row
// INSERT per batch.
#[diesel(treat_none_as_default_value = false)]
pub struct NewPerson<'a> {
    name: &'a str,
}

impl<'a> NewPerson<'a> {
    /// A new row with this name.
    pub fn new(name: &'a PersonName) -> Self {
        NewPerson {
            name: name.as_str(),
        }
    }

    /// The name to insert.
    pub fn name(&self) -> &'a str {
        self.name
    }
}
