//! `-v`/`-vv` and `RUST_LOG`: the library's `tracing` events (the statement
//! log above all) printed on stderr, one line each. Without either, no
//! subscriber is installed and the library renders nothing, except under
//! `people serve`, which logs its requests (`people::http`) and its start
//! and stop (`people::web`) at INFO, with the time, unless RUST_LOG says otherwise.

use std::io::IsTerminal;

use anyhow::Context;
use tracing_subscriber::EnvFilter;

pub fn init(verbosity: u8, serving: bool) -> anyhow::Result<()> {
    let rust_log = std::env::var("RUST_LOG")
        .ok()
        .filter(|spec| !spec.is_empty());
    if verbosity == 0 && rust_log.is_none() && !serving {
        return Ok(());
    }
    let mut filter = match &rust_log {
        Some(spec) => EnvFilter::try_new(spec).context("invalid RUST_LOG")?,
        None if serving => EnvFilter::new("warn,people::http=info,people::web=info"),
        None => EnvFilter::new("off"),
    };
    if verbosity > 0 {
        let level = if verbosity == 1 { "debug" } else { "trace" };
        let directive = format!("{}={level}", people::statement_log::TARGET);
        filter = filter.add_directive(directive.parse().context("statement log filter")?);
    }
    let format = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_level(serving)
        .compact();
    let installed = if serving {
        // A server's log is read later: each line says when.
        format.try_init()
    } else {
        format.without_time().try_init()
    };
    installed.map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))
}
