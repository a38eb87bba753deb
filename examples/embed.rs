//! A small app that embeds `people` the way the crate docs describe: one
//! connection for start-up work, a `Pool` shared by worker threads, typed
//! errors, and the statement log used as a test would use it.
//!
//! ```sh
//! cargo run --example embed                          # a temp SQLite file
//! cargo run --example embed -- postgres://postgres@127.0.0.1/app
//! ```

use std::process::ExitCode;

use people::{DatabaseUrl, Error, OnConflict, PageRequest, Pool};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The message, then its cause, on one line.
            let mut line = error.to_string();
            let mut cause = std::error::Error::source(&error);
            while let Some(c) = cause {
                line = format!("{line}: {c}");
                cause = c.source();
            }
            eprintln!("embed: {line}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Error> {
    let dir = tempfile::tempdir()?;
    let url: DatabaseUrl = match std::env::args().nth(1) {
        Some(url) => url.parse()?,
        None => DatabaseUrl::parse(&dir.path().join("app.db").display().to_string())?,
    };
    println!("database: {url}"); // never shows a password

    // Start-up: connect and migrate once.
    let mut conn = people::init(&url)?;
    let report = people::create_many(&mut conn, ["Ada", "Grace", "Edsger"], OnConflict::Skip)?;
    println!(
        "seeded {} people ({} already there)",
        report.inserted, report.skipped
    );

    // Workers: one pooled connection each.
    let pool = Pool::new(&url)?;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|worker| {
                let pool = &pool;
                scope.spawn(move || -> Result<(), Error> {
                    let mut conn = pool.get()?;
                    for job in 0..25 {
                        let name = format!("worker {worker} job {job}");
                        match people::create(&mut conn, name.as_str()) {
                            Ok(_) | Err(Error::NameTaken { .. }) => {}
                            Err(other) => return Err(other),
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        workers.into_iter().try_for_each(|worker| {
            worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    })?;

    // Reads, and the statement log: one query per page.
    let mut conn = pool.get()?;
    let (page, statements) = people::statement_log::record(&mut conn, |conn| {
        people::paginate(conn, &PageRequest::new(1, 10))
    });
    let page = page?;
    println!(
        "page 1 of {}: {} of {} people, in {} statements",
        page.pages(),
        page.items().len(),
        page.total(),
        statements.len()
    );
    for statement in &statements {
        println!("  {} ({} binds)", statement.sql, statement.binds);
    }

    // Typed errors instead of strings.
    match people::create(&mut conn, "Ada") {
        Err(Error::NameTaken { name }) => println!("{name:?} is taken, as expected"),
        other => println!("unexpected: {other:?}"),
    }
    println!("{} people", people::count(&mut conn)?);
    Ok(())
}
