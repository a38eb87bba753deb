//! `people-crash-writer`: a long-running writer on the library, for the crash
//! tests in `tests/crash.rs`, which kill it with SIGKILL at random moments.
//! Not a module of the test binary; built by `cargo test` as a `[[bin]]`.
//!
//! ```text
//! people-crash-writer URL add-loop TAG
//! people-crash-writer URL rename-delete-loop TAG SEED
//! ```
//!
//! One write per transaction, through the public API only (`people::create`,
//! `people::rename`, `people::delete`), with two lines on stdout per write,
//! each written whole and flushed before the writer goes on:
//!
//! * `try<TAB>OP<TAB>ID<TAB>NAME` just before the write starts (`-` for what
//!   is not known yet), and
//! * `ok<TAB>OP<TAB>ID<TAB>NAME` once it has committed: the acknowledgement.
//!
//! `add-loop` creates `TAG-1`, `TAG-2`, … until killed. `rename-delete-loop`
//! picks a random live person (xorshift seeded by SEED) and renames it to
//! `TAG-n` (two times in three) or deletes it (`ok` then names the deleted
//! row), until killed or nobody is left. Any error goes to stderr, exit 1.

use std::io::{self, Write};
use std::process::ExitCode;

const USAGE: &str = "usage: people-crash-writer URL add-loop TAG | people-crash-writer URL rename-delete-loop TAG SEED";

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, mode, tag, rest @ ..] = args.as_slice() else {
        return Err(USAGE.into());
    };
    let mut conn = people::init(url)?;
    let mut out = io::stdout().lock();
    match (mode.as_str(), rest) {
        ("add-loop", []) => add_loop(&mut conn, tag, &mut out),
        ("rename-delete-loop", [seed]) => {
            rename_delete_loop(&mut conn, tag, seed.parse()?, &mut out)
        }
        _ => Err(USAGE.into()),
    }
}

/// Writes one whole line with a single `write` and flushes it, so the reader
/// sees either the complete line or nothing of it.
fn say(out: &mut impl Write, status: &str, op: &str, id: &str, name: &str) -> io::Result<()> {
    out.write_all(format!("{status}\t{op}\t{id}\t{name}\n").as_bytes())?;
    out.flush()
}

fn add_loop(conn: &mut people::DbConnection, tag: &str, out: &mut impl Write) -> Result<()> {
    for n in 1.. {
        let name = format!("{tag}-{n}");
        say(out, "try", "add", "-", &name)?;
        let person = people::create(conn, name.as_str())?;
        say(out, "ok", "add", &person.id.to_string(), &person.name)?;
    }
    Ok(())
}

fn rename_delete_loop(
    conn: &mut people::DbConnection,
    tag: &str,
    seed: u64,
    out: &mut impl Write,
) -> Result<()> {
    let mut live = Vec::new();
    let mut after = None;
    loop {
        let page = people::list(conn, after, 1_000)?;
        live.extend(page.iter().map(|p| p.id));
        match page.last() {
            Some(last) => after = Some(last.id),
            None => break,
        }
    }
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut n = 0u64;
    while !live.is_empty() {
        let index = (next() % live.len() as u64) as usize;
        let id = live[index];
        if next() % 3 == 0 {
            say(out, "try", "delete", &id.to_string(), "-")?;
            let deleted = people::delete(conn, id)?;
            live.swap_remove(index);
            say(out, "ok", "delete", &deleted.id.to_string(), &deleted.name)?;
        } else {
            n += 1;
            let name = format!("{tag}-{n}");
            say(out, "try", "rename", &id.to_string(), &name)?;
            let renamed = people::rename(conn, id, name.as_str())?;
            say(out, "ok", "rename", &renamed.id.to_string(), &renamed.name)?;
        }
    }
    Ok(())
}
