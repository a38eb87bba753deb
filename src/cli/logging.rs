//! `-v`/`-vv` and `RUST_LOG`: the library's `tracing` events (the statement
//! log above all) printed on stderr, one line each. Without either, no
//! subscriber is installed and the library renders nothing.

use std::io::IsTerminal;

use anyhow::Context;
use tracing_subscriber::EnvFilter;

pub fn init(verbosity: u8) -> anyhow::Result<()> {
    let rust_log = std::env::var("RUST_LOG")
        .ok()
        .filter(|spec| !spec.is_empty());
    if verbosity == 0 && rust_log.is_none() {
        return Ok(());
    }
    let mut filter = match &rust_log {
        Some(spec) => EnvFilter::try_new(spec).context("invalid RUST_LOG")?,
        None => EnvFilter::new("off"),
    };
    if verbosity > 0 {
        let level = if verbosity == 1 { "debug" } else { "trace" };
        let directive = format!("{}={level}", people::statement_log::TARGET);
        filter = filter.add_directive(directive.parse().context("statement log filter")?);
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .with_level(false)
        .compact()
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))
}
