//! The hottest statements, written with Diesel's public query-builder traits
//! instead of its DSL, where the DSL's form costs more than the statement:
//!
//! * [`Rename`]: Diesel never caches an `UPDATE` (`update_statement/mod.rs`
//!   marks it unsafe to cache), so every rename would compile its SQL again.
//!   This one has a static `QueryId`, so the connection prepares it once.
//! * [`LimitPlus`], [`PageAt`]: Diesel binds `LIMIT ?`, and SQLite 3.47+
//!   re-prepares a statement whose LIMIT is a bare bound parameter every
//!   time it is run. `LIMIT +?` binds the same value as an expression, which
//!   SQLite does not.
//! * [`PersonWhere`], [`PageAt`]: a cached statement still walks its whole
//!   query tree on every call to collect the bound values (the select list,
//!   the FROM clause, each operator); these flat ones visit their one or two
//!   values and little else. Measured with callgrind on point reads.
//!
//! Both stay type-checked: column names come from `schema.rs`, bound values
//! carry their columns' SQL types, and results load through `Person`'s own
//! `Queryable` impl, which checks them.

use diesel::backend::Backend;
use diesel::expression::Expression;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::BigInt;

use crate::models::UtcTimestamp;
use crate::schema::person;

/// `UPDATE person SET name = ?, updated_at = ? WHERE id = ? RETURNING created_at`:
/// the rest of the row is what was written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rename<'a> {
    pub(crate) id: i32,
    pub(crate) name: &'a str,
    pub(crate) updated_at: UtcTimestamp,
}

/// The SQL is the same for every rename: Diesel may prepare it once.
impl QueryId for Rename<'_> {
    type QueryId = Rename<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB> QueryFragment<DB> for Rename<'_>
where
    DB: Backend,
    person::table: QueryFragment<DB>,
    for<'b> &'b str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
    UtcTimestamp: diesel::serialize::ToSql<diesel::sql_types::Timestamp, DB>,
    i32: diesel::serialize::ToSql<diesel::sql_types::Integer, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE ");
        person::table.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        out.push_identifier(<person::name as Column>::NAME)?;
        out.push_sql(" = ");
        out.push_bind_param::<<person::name as Expression>::SqlType, _>(&self.name)?;
        out.push_sql(", ");
        out.push_identifier(<person::updated_at as Column>::NAME)?;
        out.push_sql(" = ");
        out.push_bind_param::<<person::updated_at as Expression>::SqlType, _>(&self.updated_at)?;
        out.push_sql(" WHERE ");
        out.push_identifier(<person::id as Column>::NAME)?;
        out.push_sql(" = ");
        out.push_bind_param::<<person::id as Expression>::SqlType, _>(&self.id)?;
        out.push_sql(" RETURNING ");
        out.push_identifier(<person::created_at as Column>::NAME)
    }
}

impl Query for Rename<'_> {
    type SqlType = <person::created_at as Expression>::SqlType;
}

impl<Conn> RunQueryDsl<Conn> for Rename<'_> {}

/// `<query> LIMIT +?` on SQLite, `<query> LIMIT $n` on PostgreSQL.
#[derive(Debug, Clone, Copy, QueryId)]
pub(crate) struct LimitPlus<Q> {
    pub(crate) query: Q,
    pub(crate) limit: i64,
}

impl<Q: Query> Query for LimitPlus<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, DB> QueryFragment<DB> for LimitPlus<Q>
where
    DB: Backend + Spelling,
    Q: QueryFragment<DB>,
    i64: diesel::serialize::ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(DB::LIMIT);
        out.push_bind_param::<BigInt, _>(&self.limit)
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for LimitPlus<Q> {}

/// `id, name, created_at, updated_at`: `Person`'s columns in its field order,
/// which [`PersonRow`] states and `Person: Queryable` checks.
fn push_person_columns<DB: Backend>(out: &mut AstPass<'_, '_, DB>) -> QueryResult<()> {
    out.push_identifier(<person::id as Column>::NAME)?;
    out.push_sql(", ");
    out.push_identifier(<person::name as Column>::NAME)?;
    out.push_sql(", ");
    out.push_identifier(<person::created_at as Column>::NAME)?;
    out.push_sql(", ");
    out.push_identifier(<person::updated_at as Column>::NAME)
}

/// The SQL types of a `person` row, as `Person` loads it.
pub(crate) type PersonRow = (
    <person::id as Expression>::SqlType,
    <person::name as Expression>::SqlType,
    <person::created_at as Expression>::SqlType,
    <person::updated_at as Expression>::SqlType,
);

/// `SELECT <Person> FROM person WHERE <column> = ?`, for `get` (by id) and
/// `find_by_name` (by name).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PersonWhere<C: Column, V> {
    column: std::marker::PhantomData<C>,
    value: V,
}

impl<C: Column, V> PersonWhere<C, V> {
    pub(crate) fn new(_column: C, value: V) -> Self {
        PersonWhere {
            column: std::marker::PhantomData,
            value,
        }
    }
}

impl<C: Column + 'static, V> QueryId for PersonWhere<C, V> {
    type QueryId = PersonWhere<C, ()>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<C, V, DB> QueryFragment<DB> for PersonWhere<C, V>
where
    DB: Backend,
    C: Column<Table = person::table> + Expression,
    V: diesel::serialize::ToSql<C::SqlType, DB>,
    DB: diesel::sql_types::HasSqlType<C::SqlType>,
    person::table: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("SELECT ");
        push_person_columns(&mut out)?;
        out.push_sql(" FROM ");
        person::table.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        out.push_identifier(C::NAME)?;
        out.push_sql(" = ");
        out.push_bind_param::<C::SqlType, _>(&self.value)
    }
}

impl<C: Column, V> Query for PersonWhere<C, V> {
    type SqlType = PersonRow;
}

impl<C: Column, V, Conn> RunQueryDsl<Conn> for PersonWhere<C, V> {}

/// `SELECT <Person> FROM person WHERE id >= ? ORDER BY id LIMIT +? OFFSET +?`
/// (plain `LIMIT ? OFFSET ?` on PostgreSQL): a page of everyone from the row
/// with `from_id` (`i32::MIN`: from the first), `offset` rows on; with
/// offset 0, a keyset page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageAt {
    pub(crate) from_id: i32,
    pub(crate) limit: i64,
    pub(crate) offset: i64,
}

impl QueryId for PageAt {
    type QueryId = PageAt;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB> QueryFragment<DB> for PageAt
where
    DB: Backend + Spelling,
    person::table: QueryFragment<DB>,
    i32: diesel::serialize::ToSql<diesel::sql_types::Integer, DB>,
    i64: diesel::serialize::ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("SELECT ");
        push_person_columns(&mut out)?;
        out.push_sql(" FROM ");
        person::table.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        out.push_identifier(<person::id as Column>::NAME)?;
        out.push_sql(" >= ");
        out.push_bind_param::<<person::id as Expression>::SqlType, _>(&self.from_id)?;
        out.push_sql(" ORDER BY ");
        out.push_identifier(<person::id as Column>::NAME)?;
        out.push_sql(DB::LIMIT);
        out.push_bind_param::<BigInt, _>(&self.limit)?;
        out.push_sql(DB::OFFSET);
        out.push_bind_param::<BigInt, _>(&self.offset)
    }
}

impl Query for PageAt {
    type SqlType = PersonRow;
}

impl<Conn> RunQueryDsl<Conn> for PageAt {}

/// `INSERT INTO person (name, created_at, updated_at) VALUES (?, ?, ?2)`,
/// `… RETURNING id` on PostgreSQL: both times are one value, bound (and
/// formatted: on SQLite a timestamp is text) once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Create<'a> {
    pub(crate) name: &'a str,
    pub(crate) at: UtcTimestamp,
}

impl QueryId for Create<'_> {
    type QueryId = Create<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB> QueryFragment<DB> for Create<'_>
where
    DB: Backend + Spelling,
    person::table: QueryFragment<DB>,
    for<'b> &'b str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
    UtcTimestamp: diesel::serialize::ToSql<diesel::sql_types::Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("INSERT INTO ");
        person::table.walk_ast(out.reborrow())?;
        out.push_sql(" (");
        out.push_identifier(<person::name as Column>::NAME)?;
        out.push_sql(", ");
        out.push_identifier(<person::created_at as Column>::NAME)?;
        out.push_sql(", ");
        out.push_identifier(<person::updated_at as Column>::NAME)?;
        out.push_sql(") VALUES (");
        out.push_bind_param::<<person::name as Expression>::SqlType, _>(&self.name)?;
        out.push_sql(", ");
        out.push_bind_param::<<person::created_at as Expression>::SqlType, _>(&self.at)?;
        out.push_sql(DB::SECOND_PARAMETER_AGAIN);
        out.push_sql(")");
        if DB::RETURNING_IS_CHEAP {
            out.push_sql(" RETURNING ");
            out.push_identifier(<person::id as Column>::NAME)?;
        }
        Ok(())
    }
}

impl Query for Create<'_> {
    /// The id, when the statement returns it (see [`Spelling::RETURNING_IS_CHEAP`]).
    type SqlType = <person::id as Expression>::SqlType;
}

impl<Conn> RunQueryDsl<Conn> for Create<'_> {}

/// `INSERT INTO person (name, created_at, updated_at) VALUES (?, ?, ?2),
/// (?, ?2, ?2), …`: a SQLite batch of names sharing one time, bound (and
/// formatted) once per statement instead of twice per row.
///
/// Diesel's own batch insert is never cached: its SQL depends on the number
/// of rows, so it is compiled again for every batch (a sixth of a bulk
/// insert's instructions, measured with callgrind). `FULL` says whether the
/// batch has [`CREATE_MANY_ROWS`] rows: then its SQL is always the same and
/// has a static `QueryId`; a shorter last batch is prepared once, uncached.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CreateMany<'a, const FULL: bool> {
    names: &'a [crate::PersonName],
    at: UtcTimestamp,
}

/// Rows in a full [`CreateMany`]: three placeholders each stay well under
/// SQLite's 32,766 bound parameters, and memory stays flat.
pub(crate) const CREATE_MANY_ROWS: usize = 1_000;

impl<'a> CreateMany<'a, true> {
    /// A full batch, or `None` if `names` is not [`CREATE_MANY_ROWS`] long.
    pub(crate) fn full(names: &'a [crate::PersonName], at: UtcTimestamp) -> Option<Self> {
        (names.len() == CREATE_MANY_ROWS).then_some(CreateMany { names, at })
    }
}

impl<'a> CreateMany<'a, false> {
    pub(crate) fn partial(names: &'a [crate::PersonName], at: UtcTimestamp) -> Self {
        CreateMany { names, at }
    }
}

impl<const FULL: bool> QueryId for CreateMany<'_, FULL> {
    type QueryId = CreateMany<'static, FULL>;
    const HAS_STATIC_QUERY_ID: bool = FULL;
}

impl<const FULL: bool> QueryFragment<diesel::sqlite::Sqlite> for CreateMany<'_, FULL> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::sqlite::Sqlite>) -> QueryResult<()> {
        if !FULL {
            out.unsafe_to_cache_prepared();
        }
        out.push_sql("INSERT INTO ");
        person::table.walk_ast(out.reborrow())?;
        out.push_sql(" (");
        out.push_identifier(<person::name as Column>::NAME)?;
        out.push_sql(", ");
        out.push_identifier(<person::created_at as Column>::NAME)?;
        out.push_sql(", ");
        out.push_identifier(<person::updated_at as Column>::NAME)?;
        out.push_sql(") VALUES ");
        for (row, name) in self.names.iter().enumerate() {
            out.push_sql(if row == 0 { "(" } else { ", (" });
            out.push_bind_param::<<person::name as Expression>::SqlType, _>(name.as_str())?;
            if row == 0 {
                // Parameter 2: a `?` numbers itself one past the largest so far.
                out.push_sql(", ");
                out.push_bind_param::<<person::created_at as Expression>::SqlType, _>(&self.at)?;
                out.push_sql(", ?2)");
            } else {
                out.push_sql(", ?2, ?2)");
            }
        }
        Ok(())
    }
}

impl<const FULL: bool, Conn> RunQueryDsl<Conn> for CreateMany<'_, FULL> {}

/// What differs between the backends in the statements above.
pub(crate) trait Spelling {
    /// The SQL before a bound LIMIT.
    const LIMIT: &'static str;
    /// The SQL before a bound OFFSET (which SQLite re-prepares for as it does for LIMIT).
    const OFFSET: &'static str;
    /// `, ` and the second bound parameter once more.
    const SECOND_PARAMETER_AGAIN: &'static str;
    /// Whether `RETURNING` costs no more than reading the id another way.
    /// SQLite buffers RETURNING rows in a temporary b-tree (a page allocated
    /// and zeroed per statement: a third of an insert's instructions, measured
    /// with callgrind), so there the id is the connection's last rowid (`person::create`).
    const RETURNING_IS_CHEAP: bool;
}

impl Spelling for diesel::sqlite::Sqlite {
    const LIMIT: &'static str = " LIMIT +";
    const OFFSET: &'static str = " OFFSET +";
    const SECOND_PARAMETER_AGAIN: &'static str = ", ?2";
    const RETURNING_IS_CHEAP: bool = false;
}

#[cfg(feature = "postgres")]
impl Spelling for diesel::pg::Pg {
    const LIMIT: &'static str = " LIMIT ";
    const OFFSET: &'static str = " OFFSET ";
    const SECOND_PARAMETER_AGAIN: &'static str = ", $2";
    const RETURNING_IS_CHEAP: bool = true;
}
