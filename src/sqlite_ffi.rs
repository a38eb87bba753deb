//! What people asks of SQLite through its C API rather than through Diesel.
//!
//! The id of the row a create just inserted: Diesel 2.3 has no accessor for
//! a connection's `sqlite3*` (upstream added one after 2.3, diesel-rs/diesel
//! PR 4966), so people notes the handle while Diesel opens the connection,
//! through SQLite's documented hook for that, `sqlite3_auto_extension`, and
//! reads `sqlite3_last_insert_rowid` from it, as rusqlite does, instead of
//! running a second statement (about 2,300 instructions of a create's 37,800,
//! measured with callgrind).
//!
//! Switching a file to WAL, which lets readers go on while one
//! process writes. The switch is a property of the file and needs an
//! exclusive lock; SQLite skips the busy handler where waiting for it could
//! deadlock (several processes opening the same fresh file at once), so a
//! busy file is retried here. Diesel reports SQLite errors by message only,
//! so this one statement runs on a short-lived connection of SQLite's C API,
//! which says which error it was by code.

use std::cell::Cell;
use std::ffi::{CStr, CString, c_char, c_int};
use std::ptr::{self, NonNull};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use libsqlite3_sys as ffi;

use crate::error::{Error, Result};

/// Whether the SQLite linked in was built with `SQLITE_ENABLE_MEMORY_MANAGEMENT`
/// (libsqlite3-sys's bundled default): every connection of the process then
/// draws on one page budget (README, "Several SQLite connections").
pub(crate) fn shares_page_cache() -> bool {
    // SAFETY: a valid C string; SQLite only compares it with its static list.
    unsafe { ffi::sqlite3_compileoption_used(c"ENABLE_MEMORY_MANAGEMENT".as_ptr()) == 1 }
}

/// Switches the database `target` (a path or `file:` URI that exists) to WAL.
/// A no-op when it is in WAL already.
pub(crate) fn switch_to_wal(target: &str, busy_timeout: Duration) -> Result<()> {
    let target = CString::new(target).map_err(|_| failure("the path contains a NUL byte"))?;
    let connection = RawConnection::open(&target)?;
    let started = Instant::now();
    loop {
        match connection.execute(c"PRAGMA journal_mode = WAL") {
            Ok(()) => return Ok(()),
            Err(code) if code & 0xff == ffi::SQLITE_BUSY && started.elapsed() < busy_timeout => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return Err(failure(&connection.message())),
        }
    }
}

fn failure(message: &str) -> Error {
    Error::Database {
        source: DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new(message.to_owned()),
        ),
    }
}

/// An `sqlite3*` that is closed when dropped.
struct RawConnection(ptr::NonNull<ffi::sqlite3>);

impl RawConnection {
    fn open(target: &CStr) -> Result<RawConnection> {
        let mut raw = ptr::null_mut();
        // No SQLITE_OPEN_CREATE: the file was made by the connection that asks.
        let flags = ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_URI;
        // SAFETY: `target` is a valid C string; `raw` receives a handle (or null).
        let code = unsafe { ffi::sqlite3_open_v2(target.as_ptr(), &mut raw, flags, ptr::null()) };
        let Some(handle) = ptr::NonNull::new(raw) else {
            return Err(failure("out of memory opening the database"));
        };
        let connection = RawConnection(handle);
        if code != ffi::SQLITE_OK {
            return Err(failure(&connection.message()));
        }
        let timeout_ms = c_int::try_from(crate::connection::SQLITE_BUSY_TIMEOUT.as_millis())
            .unwrap_or(c_int::MAX);
        // SAFETY: the handle is open.
        unsafe { ffi::sqlite3_busy_timeout(connection.0.as_ptr(), timeout_ms) };
        Ok(connection)
    }

    /// Runs `sql`; the error is SQLite's extended result code.
    fn execute(&self, sql: &CStr) -> std::result::Result<(), c_int> {
        // SAFETY: the handle is open and `sql` is a valid C string; no callback.
        let code = unsafe {
            ffi::sqlite3_exec(
                self.0.as_ptr(),
                sql.as_ptr(),
                None,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if code == ffi::SQLITE_OK {
            Ok(())
        } else {
            // SAFETY: the handle is open.
            Err(unsafe { ffi::sqlite3_extended_errcode(self.0.as_ptr()) })
        }
    }

    /// SQLite's message for the last error on this connection.
    fn message(&self) -> String {
        // SAFETY: the handle is open; sqlite3_errmsg returns a valid C string
        // owned by SQLite, copied before the next call on the handle.
        unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.0.as_ptr())) }
            .to_string_lossy()
            .into_owned()
    }
}

impl Drop for RawConnection {
    fn drop(&mut self) {
        // SAFETY: the handle is open and nothing else refers to it.
        unsafe { ffi::sqlite3_close(self.0.as_ptr()) };
    }
}

/// See [`use_sqlite_multi_thread_mode`](crate::use_sqlite_multi_thread_mode).
pub(crate) fn multi_thread_mode() -> bool {
    // SAFETY: sqlite3_config may be called before SQLite is initialized; after
    // that it changes nothing and returns SQLITE_MISUSE, which is reported.
    unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MULTITHREAD) == ffi::SQLITE_OK }
}

/// The C handle of one of people's SQLite connections, noted while Diesel
/// opened it. It is kept with that connection (see
/// `connection::ConnectionExtras`) and used only through `&mut` to it, so it
/// is open and no other call is running on it whenever it is used.
#[derive(Debug)]
pub(crate) struct SqliteHandle(NonNull<ffi::sqlite3>);

// SAFETY: the handle moves with the `SqliteConnection` that owns it (which
// Diesel declares `Send`) and is only used through `&mut` to that connection.
unsafe impl Send for SqliteHandle {}

impl SqliteHandle {
    /// The rowid of the connection's last successful INSERT.
    pub(crate) fn last_insert_rowid(&self) -> i64 {
        // SAFETY: the handle is open and not in use (see the type's docs);
        // the call only reads the connection's state.
        unsafe { ffi::sqlite3_last_insert_rowid(self.0.as_ptr()) }
    }
}

thread_local! {
    /// Whether this thread is opening a connection whose handle people keeps.
    static NOTING: Cell<bool> = const { Cell::new(false) };
    /// The handle SQLite opened last on this thread while `NOTING`.
    static NOTED: Cell<*mut ffi::sqlite3> = const { Cell::new(ptr::null_mut()) };
}

/// SQLite calls this for every connection opened in the process, on the
/// opening thread; it notes the handle only while [`open_noting_handle`] runs
/// there, and never fails an open.
unsafe extern "C" fn note_opened_handle(
    db: *mut ffi::sqlite3,
    _error_message: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // `try_with`: thread-locals may be gone while a thread exits.
    if NOTING.try_with(Cell::get).unwrap_or(false) {
        let _ = NOTED.try_with(|noted| noted.set(db));
    }
    ffi::SQLITE_OK
}

/// Runs `open`, which opens one SQLite connection on this thread, and
/// returns its result with that connection's handle; `None` if SQLite would
/// not take the hook (then creates read the id with a statement).
pub(crate) fn open_noting_handle<T>(open: impl FnOnce() -> T) -> (T, Option<SqliteHandle>) {
    static HOOKED: OnceLock<bool> = OnceLock::new();
    let hooked = *HOOKED.get_or_init(|| {
        // SAFETY: the entry point has the signature SQLite calls it with.
        unsafe { ffi::sqlite3_auto_extension(Some(note_opened_handle)) == ffi::SQLITE_OK }
    });
    if !hooked {
        return (open(), None);
    }
    NOTED.set(ptr::null_mut());
    NOTING.set(true);
    let opened = open();
    NOTING.set(false);
    (
        opened,
        NonNull::new(NOTED.replace(ptr::null_mut())).map(SqliteHandle),
    )
}
