//! Numbered pages in the style of Flask-SQLAlchemy's `Pagination`, which
//! Diesel does not have. For walking a big table, [`list`](crate::list)'s
//! keyset pages are faster; numbered pages are for UIs.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;

use crate::catalog::sqlite_change_stamp;
use crate::connection::{DbConnection, with_inner};
use crate::error::{Error, Result};
use crate::models::Person;
use crate::person::filtered;
use crate::schema::person;
use crate::statements::PageAt;

/// Which page to fetch; see [`paginate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: i64,
    /// Items per page, before `max_per_page` is applied.
    pub per_page: i64,
    /// Upper bound for `per_page`, kept by [`Pagination::next`] and [`Pagination::prev`].
    pub max_per_page: Option<i64>,
    /// Only names containing this text (see [`search`](crate::search)).
    pub search: Option<String>,
}

impl Default for PageRequest {
    /// Page 1 of 20, as in Flask-SQLAlchemy.
    fn default() -> Self {
        PageRequest {
            page: 1,
            per_page: 20,
            max_per_page: None,
            search: None,
        }
    }
}

impl PageRequest {
    /// Page `page` with `per_page` items.
    pub fn new(page: i64, per_page: i64) -> Self {
        PageRequest {
            page,
            per_page,
            ..PageRequest::default()
        }
    }
}

/// One page of people plus what a UI needs to link the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pagination {
    items: Vec<Person>,
    page: i64,
    per_page: i64,
    total: i64,
    request: PageRequest,
}

/// How many page numbers [`Pagination::iter_pages`] shows around the edges
/// and the current page; the default is Flask-SQLAlchemy's (2, 2, 4, 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWindow {
    /// Pages shown at the start.
    pub left_edge: i64,
    /// Pages shown before the current one.
    pub left_current: i64,
    /// Pages shown after the current one.
    pub right_current: i64,
    /// Pages shown at the end.
    pub right_edge: i64,
}

impl Default for PageWindow {
    fn default() -> Self {
        PageWindow {
            left_edge: 2,
            left_current: 2,
            right_current: 4,
            right_edge: 2,
        }
    }
}

/// Fetches one numbered page, ordered by id, with the total count from the
/// same snapshot.
///
/// # Errors
/// [`Error::InvalidPage`] if `page` or `per_page` is below 1, or `page` is
/// past the last page (page 1 of an empty table is fine: it is empty).
///
/// # Example
/// ```
/// use people::PageRequest;
/// # let mut conn = people::init(":memory:")?;
/// people::create_many(&mut conn, (1..=45).map(|i| format!("p{i}")), people::OnConflict::Fail)?;
/// let page = people::paginate(&mut conn, &PageRequest::new(3, 20))?;
/// assert_eq!((page.items().len(), page.total(), page.pages()), (5, 45, 3));
/// assert_eq!((page.first(), page.last()), (41, 45));
/// assert!(!page.has_next());
/// # Ok::<(), people::Error>(())
/// ```
pub fn paginate(conn: &mut DbConnection, request: &PageRequest) -> Result<Pagination> {
    paginate_with(conn, request, None)
}

/// What [`paginate_cached`] learnt about the database, kept while the
/// database stays unchanged: the totals it counted, and where in id order
/// the rows it fetched stand. Keep one per connection (a thread's own), never
/// share one between connections.
///
/// A numbered page on a big SQLite table costs two walks: the count (SQLite
/// counts by walking an index, about a millisecond per 100,000 rows) and the
/// OFFSET (SQLite steps over every row before the page). With a memo, a
/// total is counted once, and a page starts from the nearest row whose
/// position an earlier page found (`WHERE id >= that_id … OFFSET the_rest`)
/// instead of from the first row.
///
/// Both are exact, not estimates: the memo belongs to one *change stamp* of
/// the database (`PRAGMA data_version`, which moves on every commit by
/// another connection, and `total_changes()`, this connection's own
/// writes), read inside the page's own read transaction; when the stamp
/// moves, the memo is forgotten. On PostgreSQL nothing is remembered.
#[derive(Debug, Default, Clone)]
pub struct PageMemo {
    stamp: Option<(i64, i64)>,
    /// Total per search (`None`: everyone).
    totals: HashMap<Option<String>, i64>,
    /// Position (0-based, in id order, everyone) → the id there.
    positions: BTreeMap<i64, i32>,
}

/// The memo forgets everything rather than grow past this many entries.
const MEMO_ENTRIES: usize = 65_536;

impl PageMemo {
    /// Makes the memo belong to `stamp`, forgetting what belonged to another.
    fn stamp(&mut self, stamp: (i64, i64)) {
        let full = self.totals.len() + self.positions.len() >= MEMO_ENTRIES;
        if self.stamp != Some(stamp) || full {
            self.totals.clear();
            self.positions.clear();
            self.stamp = Some(stamp);
        }
    }

    /// The nearest known row at or before `offset`: its position and id.
    fn start_for(&self, offset: i64) -> Option<(i64, i32)> {
        self.positions
            .range(..=offset)
            .next_back()
            .map(|(&at, &id)| (at, id))
    }
}

/// [`paginate`], remembering totals and row positions between calls on one
/// connection while the database is unchanged (see [`PageMemo`]): the same
/// pages, faster on SQLite.
///
/// # Errors
/// As [`paginate`].
///
/// # Example
/// ```
/// use people::{PageMemo, PageRequest};
/// # let mut conn = people::init(":memory:")?;
/// people::create_many(&mut conn, (1..=45).map(|i| format!("p{i}")), people::OnConflict::Fail)?;
/// let mut memo = PageMemo::default();
/// assert_eq!(people::paginate_cached(&mut conn, &PageRequest::new(1, 20), &mut memo)?.total(), 45);
/// people::create(&mut conn, "p46")?;
/// let last = people::paginate_cached(&mut conn, &PageRequest::new(3, 20), &mut memo)?;
/// assert_eq!((last.total(), last.items()[0].name.as_str()), (46, "p41"));
/// # Ok::<(), people::Error>(())
/// ```
pub fn paginate_cached(
    conn: &mut DbConnection,
    request: &PageRequest,
    memo: &mut PageMemo,
) -> Result<Pagination> {
    paginate_with(conn, request, Some(memo))
}

fn paginate_with(
    conn: &mut DbConnection,
    request: &PageRequest,
    mut memo: Option<&mut PageMemo>,
) -> Result<Pagination> {
    if request.page < 1 {
        return Err(Error::InvalidPage {
            reason: format!("page must be 1 or more, not {}", request.page),
        });
    }
    if request.per_page < 1 {
        return Err(Error::InvalidPage {
            reason: format!("per_page must be 1 or more, not {}", request.per_page),
        });
    }
    let per_page = request
        .max_per_page
        .map_or(request.per_page, |max| request.per_page.min(max.max(1)));
    let offset = (request.page - 1)
        .checked_mul(per_page)
        .ok_or_else(|| Error::InvalidPage {
            reason: format!("page {} is past the end", request.page),
        })?;
    let needle = request.search.as_deref();
    // One read transaction: the stamp, the items and the count come from one
    // snapshot. On SQLite the stamp's read starts that snapshot.
    let (total, items) = conn.transaction(|conn| {
        if let (DbConnection::Sqlite(c), Some(memo)) = (&mut *conn, memo.as_mut()) {
            memo.stamp(sqlite_change_stamp(c)?);
        } else {
            memo = None;
        }
        let items: Vec<Person> = match needle {
            None => {
                // From the nearest row an earlier page placed, else the first.
                let (at, from_id) = memo
                    .as_ref()
                    .and_then(|m| m.start_for(offset))
                    .unwrap_or((0, i32::MIN));
                let page = PageAt {
                    from_id,
                    limit: per_page,
                    offset: offset - at,
                };
                let items: Vec<Person> = with_inner!(conn, |c| page.load(c))?;
                if let (Some(memo), Some(first), Some(last)) =
                    (memo.as_mut(), items.first(), items.last())
                {
                    memo.positions.insert(offset, first.id);
                    memo.positions
                        .insert(offset + items.len() as i64 - 1, last.id);
                }
                items
            }
            Some(_) => filtered(needle)
                .order(person::id.asc())
                .limit(per_page)
                .offset(offset)
                .select(Person::as_select())
                .load(conn)?,
        };
        let key = request.search.clone();
        let total = match memo.as_ref().and_then(|m| m.totals.get(&key).copied()) {
            Some(total) => total,
            None => {
                let total: i64 = match needle {
                    None => person::table.count().get_result(conn)?,
                    Some(_) => filtered(needle).count().get_result(conn)?,
                };
                if let Some(memo) = memo.as_mut() {
                    memo.totals.insert(key, total);
                }
                total
            }
        };
        Ok::<_, Error>((total, items))
    })?;
    let pagination = Pagination {
        items,
        page: request.page,
        per_page,
        total,
        request: request.clone(),
    };
    if pagination.items.is_empty() && request.page != 1 {
        return Err(Error::InvalidPage {
            reason: format!(
                "page {} is past the end; the last page is {}",
                request.page,
                pagination.pages().max(1)
            ),
        });
    }
    Ok(pagination)
}

impl Pagination {
    /// The people on this page.
    pub fn items(&self) -> &[Person] {
        &self.items
    }

    /// Takes the people on this page.
    pub fn into_items(self) -> Vec<Person> {
        self.items
    }

    /// This page's number, from 1.
    pub fn page(&self) -> i64 {
        self.page
    }

    /// Items per page, after `max_per_page` was applied.
    pub fn per_page(&self) -> i64 {
        self.per_page
    }

    /// Items on all pages together.
    pub fn total(&self) -> i64 {
        self.total
    }

    /// Number of pages; 0 when there are no items.
    pub fn pages(&self) -> i64 {
        if self.total == 0 {
            0
        } else {
            // Not (total + per_page - 1) / per_page: that overflows for a huge per_page.
            (self.total - 1) / self.per_page + 1
        }
    }

    /// Whether there is a page before this one.
    pub fn has_prev(&self) -> bool {
        self.page > 1
    }

    /// Whether there is a page after this one.
    pub fn has_next(&self) -> bool {
        self.page < self.pages()
    }

    /// The previous page's number, if any.
    pub fn prev_num(&self) -> Option<i64> {
        self.has_prev().then(|| self.page - 1)
    }

    /// The next page's number, if any.
    pub fn next_num(&self) -> Option<i64> {
        self.has_next().then(|| self.page + 1)
    }

    /// 1-based number of this page's first item overall; 0 on an empty page.
    pub fn first(&self) -> i64 {
        if self.items.is_empty() {
            0
        } else {
            (self.page - 1) * self.per_page + 1
        }
    }

    /// 1-based number of this page's last item overall; 0 on an empty page.
    pub fn last(&self) -> i64 {
        if self.items.is_empty() {
            0
        } else {
            self.first() + self.items.len() as i64 - 1
        }
    }

    /// Fetches the next page with the same `per_page` (and `max_per_page`).
    ///
    /// # Errors
    /// [`Error::InvalidPage`] past the last page.
    pub fn next(&self, conn: &mut DbConnection) -> Result<Pagination> {
        paginate(
            conn,
            &PageRequest {
                page: self.page + 1,
                per_page: self.per_page,
                ..self.request.clone()
            },
        )
    }

    /// Fetches the previous page with the same `per_page` (and `max_per_page`).
    ///
    /// # Errors
    /// [`Error::InvalidPage`] before the first page.
    pub fn prev(&self, conn: &mut DbConnection) -> Result<Pagination> {
        paginate(
            conn,
            &PageRequest {
                page: self.page - 1,
                per_page: self.per_page,
                ..self.request.clone()
            },
        )
    }

    /// Page numbers for a pager, with `None` where numbers are left out,
    /// exactly as Flask-SQLAlchemy's `iter_pages`.
    ///
    /// ```
    /// # use people::PageWindow;
    /// # let mut conn = people::init(":memory:")?;
    /// # people::create_many(&mut conn, (1..=150).map(|i| format!("p{i}")), people::OnConflict::Fail)?;
    /// let page = people::paginate(&mut conn, &people::PageRequest::new(7, 10))?;
    /// assert_eq!(
    ///     page.iter_pages(PageWindow::default()),
    ///     [Some(1), Some(2), None, Some(5), Some(6), Some(7), Some(8), Some(9),
    ///      Some(10), Some(11), None, Some(14), Some(15)]
    /// );
    /// # Ok::<(), people::Error>(())
    /// ```
    pub fn iter_pages(&self, window: PageWindow) -> Vec<Option<i64>> {
        let mut out = Vec::new();
        let pages_end = self.pages() + 1;
        if pages_end == 1 {
            return out;
        }
        let left_end = (1 + window.left_edge).min(pages_end);
        out.extend((1..left_end).map(Some));
        if left_end == pages_end {
            return out;
        }
        let mid_start = left_end.max(self.page - window.left_current);
        let mid_end = (self.page + window.right_current + 1).min(pages_end);
        if mid_start > left_end {
            out.push(None);
        }
        out.extend((mid_start..mid_end).map(Some));
        if mid_end == pages_end {
            return out;
        }
        let right_start = mid_end.max(pages_end - window.right_edge);
        if right_start > mid_end {
            out.push(None);
        }
        out.extend((right_start..pages_end).map(Some));
        out
    }
}

#[cfg(test)]
mod tests {
    //! Flask-SQLAlchemy's tests/test_pagination.py, ported.
    use super::*;

    fn make_page(page: i64, per_page: i64, total: i64) -> Pagination {
        let on_page = (total - (page - 1) * per_page).clamp(0, per_page);
        let items = (0..on_page)
            .map(|i| Person {
                id: i as i32,
                name: format!("p{i}"),
                created_at: chrono::DateTime::UNIX_EPOCH,
                updated_at: chrono::DateTime::UNIX_EPOCH,
            })
            .collect();
        Pagination {
            items,
            page,
            per_page,
            total,
            request: PageRequest::new(page, per_page),
        }
    }

    #[test]
    fn first_page() {
        let p = make_page(1, 10, 150);
        assert_eq!(
            (p.page(), p.per_page(), p.total(), p.pages()),
            (1, 10, 150, 15)
        );
        assert!(!p.has_prev());
        assert_eq!(p.prev_num(), None);
        assert!(p.has_next());
        assert_eq!(p.next_num(), Some(2));
    }

    #[test]
    fn last_page() {
        let p = make_page(15, 10, 150);
        assert!(p.has_prev());
        assert_eq!(p.prev_num(), Some(14));
        assert!(!p.has_next());
        assert_eq!(p.next_num(), None);
    }

    #[test]
    fn item_numbers() {
        let p = make_page(1, 10, 150);
        assert_eq!((p.first(), p.last()), (1, 10));
        let p = make_page(15, 10, 145);
        assert_eq!((p.first(), p.last()), (141, 145));
        let p = make_page(1, 10, 0);
        assert_eq!((p.first(), p.last(), p.pages()), (0, 0, 0));
    }

    #[test]
    fn iter_pages_matches_flask_sqlalchemy() {
        let expected: [(i64, &[i64]); 15] = [
            (1, &[1, 2, 3, 4, 5, 0, 14, 15]),
            (2, &[1, 2, 3, 4, 5, 6, 0, 14, 15]),
            (3, &[1, 2, 3, 4, 5, 6, 7, 0, 14, 15]),
            (4, &[1, 2, 3, 4, 5, 6, 7, 8, 0, 14, 15]),
            (5, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 14, 15]),
            (6, &[1, 2, 0, 4, 5, 6, 7, 8, 9, 10, 0, 14, 15]),
            (7, &[1, 2, 0, 5, 6, 7, 8, 9, 10, 11, 0, 14, 15]),
            (8, &[1, 2, 0, 6, 7, 8, 9, 10, 11, 12, 0, 14, 15]),
            (9, &[1, 2, 0, 7, 8, 9, 10, 11, 12, 13, 14, 15]),
            (10, &[1, 2, 0, 8, 9, 10, 11, 12, 13, 14, 15]),
            (11, &[1, 2, 0, 9, 10, 11, 12, 13, 14, 15]),
            (12, &[1, 2, 0, 10, 11, 12, 13, 14, 15]),
            (13, &[1, 2, 0, 11, 12, 13, 14, 15]),
            (14, &[1, 2, 0, 12, 13, 14, 15]),
            (15, &[1, 2, 0, 13, 14, 15]),
        ];
        for (page, pages) in expected {
            // 0 stands for Flask's None.
            let pages: Vec<Option<i64>> = pages.iter().map(|&n| (n != 0).then_some(n)).collect();
            assert_eq!(
                make_page(page, 10, 150).iter_pages(PageWindow::default()),
                pages,
                "page {page}"
            );
        }
    }

    #[test]
    fn zero_pages() {
        let p = make_page(1, 10, 0);
        assert_eq!(p.pages(), 0);
        assert!(!p.has_prev());
        assert!(!p.has_next());
    }

    #[test]
    fn iter_pages_of_nothing_is_empty() {
        assert!(
            make_page(1, 10, 0)
                .iter_pages(PageWindow::default())
                .is_empty()
        );
    }

    #[test]
    fn iter_pages_short() {
        for page in 1..=4 {
            let pages = make_page(page, 10, 40).iter_pages(PageWindow::default());
            assert_eq!(pages, [Some(1), Some(2), Some(3), Some(4)]);
        }
    }
}
