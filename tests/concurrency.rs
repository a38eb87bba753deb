//! Many threads and processes against one database: nothing lost, no raw
//! "database is locked", and races for a name resolved as `NameTaken`.

use std::collections::HashSet;
use std::time::Duration;

use crate::support::*;
use people::pool::PoolOptions;
use people::{Error, Pool};

crate::support::tests! {
    plain {
        a_pool_over_an_in_memory_database_shares_one_database,
        this_build_gives_each_sqlite_connection_its_own_page_cache,
    }
    per_backend {
        eight_threads_racing_for_one_name_one_wins_the_rest_get_name_taken,
        eight_threads_creating_1000_names_each_lose_none,
        four_processes_adding_at_once_all_succeed => [BINARY],
        readers_see_the_last_commit_while_a_write_is_open,
        an_exhausted_pool_says_so,
    }
}

const THREADS: usize = 8;

fn eight_threads_racing_for_one_name_one_wins_the_rest_get_name_taken(db: &TestDb) {
    let pool = Pool::new(db.url()).unwrap();
    for round in 0..5 {
        let name = format!("contested {round}");
        let barrier = std::sync::Barrier::new(THREADS);
        let results: Vec<people::Result<people::Person>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    s.spawn(|| {
                        let mut conn = pool.get()?;
                        barrier.wait();
                        people::create(&mut conn, name.as_str())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won = results.iter().filter(|r| r.is_ok()).count();
        let taken = results
            .iter()
            .filter(|r| matches!(r, Err(Error::NameTaken { name: n }) if *n == name))
            .count();
        assert_eq!((won, taken), (1, THREADS - 1), "{results:?}");
    }
}

fn eight_threads_creating_1000_names_each_lose_none(db: &TestDb) {
    let pool = Pool::new(db.url()).unwrap();
    let created: Vec<people::Person> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let pool = &pool;
                s.spawn(move || {
                    let mut conn = pool.get().unwrap();
                    (0..1000)
                        .map(|i| people::create(&mut conn, format!("t{t}-{i}")).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(
        created.iter().map(|p| p.id).collect::<HashSet<_>>().len(),
        THREADS * 1000,
        "ids are not unique"
    );
    let mut conn = pool.get().unwrap();
    assert_eq!(people::count(&mut conn).unwrap(), (THREADS * 1000) as i64);
    // Each create returned its own row, not another connection's id.
    for person in &created {
        assert_eq!(&people::get(&mut conn, person.id).unwrap(), person);
    }
}

fn four_processes_adding_at_once_all_succeed(db: &TestDb) {
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|p| {
                s.spawn(move || {
                    (0..25)
                        .filter_map(|i| {
                            let output = std::process::Command::new(PEOPLE)
                                .args(["--database-url", db.url(), "add", &format!("proc{p}-{i}")])
                                .env_remove("DATABASE_URL")
                                .output()
                                .unwrap();
                            (!output.status.success())
                                .then(|| String::from_utf8_lossy(&output.stderr).into_owned())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(people::count(&mut db.connect().unwrap()).unwrap(), 100);
}

fn readers_see_the_last_commit_while_a_write_is_open(db: &TestDb) {
    let mut writer = db.connect().unwrap();
    let mut reader = db.connect().unwrap();
    people::create(&mut writer, "before").unwrap();
    people::transaction(&mut writer, |writer| {
        people::create(writer, "during")?;
        // The writer holds its lock; the reader is neither blocked nor shown uncommitted rows.
        assert_eq!(people::count(&mut reader)?, 1);
        assert_eq!(people::find_by_name(&mut reader, "during")?, None);
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(people::count(&mut reader).unwrap(), 2);
}

fn an_exhausted_pool_says_so(db: &TestDb) {
    let options = PoolOptions {
        max_size: 1,
        connection_timeout: Duration::from_millis(200),
        ..PoolOptions::default()
    };
    let pool = Pool::with_options(db.url(), options).unwrap();
    let _held = pool.get().unwrap();
    let err = pool.get().err().unwrap();
    assert!(matches!(err, Error::Pool { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("no database connection available"),
        "{message}"
    );
    assert!(!message.contains('\n'));
}

/// libsqlite3-sys builds SQLite with `SQLITE_ENABLE_MEMORY_MANAGEMENT`, under
/// which the connections of a process share one page budget and a pooled
/// connection can be left without a cache for good (BENCHMARKS.md §1). This
/// repository's builds undo it (`.cargo/config.toml`); this fails if that
/// stops taking effect.
fn this_build_gives_each_sqlite_connection_its_own_page_cache() {
    use diesel::{Connection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = diesel::sql_types::Text)]
        compile_options: String,
    }
    let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
    let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
        .load::<CompileOption>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|o| o.compile_options)
        .collect();
    // The list is the bundled build's: libsqlite3-sys's own flags are in it.
    assert!(
        options.iter().any(|o| o == "ENABLE_API_ARMOR"),
        "{options:?}"
    );
    assert!(
        !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
        "SQLite was built with one page budget for all connections: {options:?}"
    );
    // What `Pool::new` asks before it warns, through SQLite's C API.
    assert!(!people::pool::sqlite_shares_page_cache());
}

fn a_pool_over_an_in_memory_database_shares_one_database() {
    let pool = Pool::new(":memory:").unwrap();
    people::create(&mut pool.get().unwrap(), "Alice").unwrap();
    std::thread::scope(|s| {
        s.spawn(|| assert_eq!(people::count(&mut pool.get().unwrap()).unwrap(), 1));
    });
    assert_eq!(pool.connections(), 1);
}
