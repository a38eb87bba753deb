//! The `people` command: a thin edge over the library. Errors are printed as
//! one `error: …` line with exit code 1; usage errors exit 2 (clap); an
//! `export -o` stopped by a signal exits 128 + its number.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any connection: this process never shares one between threads.
    let _ = people::use_sqlite_multi_thread_mode();
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS, // `people export | head`
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            match error.downcast_ref::<cli::Interrupted>() {
                // As the shell reports a process the signal killed.
                Some(interrupted) => ExitCode::from(128 + interrupted.signal as u8),
                None => ExitCode::from(1),
            }
        }
    }
}

/// The error and its causes, `: `-separated on one line (database messages,
/// PostgreSQL's above all, may span lines). Each error names its own part
/// only, so nothing is repeated.
fn one_line(error: &anyhow::Error) -> String {
    format!("{error:#}")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
