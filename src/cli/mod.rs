//! Command-line arguments (clap derive; the doc comments are the `--help`)
//! and the dispatch to one function per subcommand.

mod commands;
mod logging;
mod output_file;

pub use output_file::Interrupted;

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use people::DatabaseUrl;

/// Manage the people in a database: SQLite by default, PostgreSQL by URL.
#[derive(Debug, Parser)]
#[command(name = "people", version, about, max_term_width = 100)]
pub struct Cli {
    /// SQLite path, sqlite://, file: or postgres:// URL (see the README's URL
    /// table). Default: $DATABASE_URL (also read from a .env file), else
    /// people.db in the current directory.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    database_url: Option<String>,

    /// Print each SQL statement and its duration on stderr; -vv adds the
    /// bound values. RUST_LOG works too (e.g. RUST_LOG=people::sql=debug).
    #[arg(short, long, global = true, action = ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the database if needed (PostgreSQL), apply pending migrations;
    /// print each applied version, or `up to date`.
    Migrate {
        /// Only list each migration as `applied`, `pending` or `unknown`
        /// (applied by a newer people), with its version and name; change nothing.
        #[arg(long)]
        status: bool,
    },
    /// Take over a database another tool made (Flask-SQLAlchemy's
    /// `db.create_all()`): check its person table and every row, then give it
    /// people's constraints and migrations, keeping every id and name. Rows
    /// that break the rules are printed as `ID<TAB>REASON` and nothing changes.
    Adopt,
    /// Copy every person, with ids and timestamps, from FROM_URL into the
    /// empty database TO_URL (migrated first); print `copied N people`.
    Copy {
        /// The database to copy from.
        #[arg(value_name = "FROM_URL")]
        from: String,
        /// The database to copy into; it must hold no people.
        #[arg(value_name = "TO_URL")]
        to: String,
    },
    /// Add one or more people, all or nothing; print `ID<TAB>NAME` for each.
    Add {
        /// Names: 1 to 80 characters, no control characters, no surrounding spaces.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Print the person with this id as `ID<TAB>NAME`.
    Get {
        /// The person's id.
        id: i32,
    },
    /// Print the person with exactly this name as `ID<TAB>NAME`.
    Find {
        /// The exact, case-sensitive name.
        name: String,
    },
    /// List people by id as `ID<TAB>NAME` lines, streaming.
    List(ListArgs),
    /// Rename a person; print the updated row.
    Rename {
        /// The person's id.
        id: i32,
        /// The new name.
        new_name: String,
    },
    /// Delete a person; print the deleted row.
    Delete {
        /// The person's id.
        id: i32,
    },
    /// Print how many people there are.
    Count,
    /// Add people from a file in one transaction; print `imported N, skipped M`.
    Import {
        /// The input file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
        /// Skip names that already exist instead of refusing the whole import.
        #[arg(long)]
        skip_existing: bool,
        /// Input format.
        #[arg(long, value_enum, default_value_t = FormatArg::Lines)]
        format: FormatArg,
    },
    /// Write every person to standard output (or a file), streaming, from
    /// one snapshot.
    Export {
        /// Output format (each can be imported again).
        #[arg(long, value_enum, default_value_t = FormatArg::Lines)]
        format: FormatArg,
        /// Write to FILE instead: it is replaced only once the export is
        /// complete, so a failed export leaves it as it was. `-` is stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Serve the JSON API (/persons), the page (/) and /openapi.json over
    /// HTTP until SIGTERM or Ctrl-C; logs one line per request on stderr.
    #[cfg(feature = "serve")]
    Serve(ServeArgs),
}

#[cfg(feature = "serve")]
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on; port 0 picks a free one (the log says which).
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,
    /// Database connections in the pool. Default: on SQLite twice the CPU
    /// cores; on PostgreSQL half the server's free connections, at most 4
    /// per core.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    connections: Option<u32>,
    /// How long a request waits for a free connection before it gets 503.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    wait_ms: u64,
}

#[cfg(feature = "serve")]
impl ServeArgs {
    fn options(&self) -> people::web::ServeOptions {
        people::web::ServeOptions {
            addr: self.addr,
            store: people::web::StoreOptions {
                connections: self.connections,
                wait: std::time::Duration::from_millis(self.wait_ms),
                ..people::web::StoreOptions::default()
            },
        }
    }
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only names containing TEXT (ASCII case-insensitive; % _ \ are literal).
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// Start after this id (keyset pagination: fast at any depth).
    #[arg(long, value_name = "ID", conflicts_with = "page")]
    after: Option<i32>,
    /// Print at most N people.
    #[arg(long, value_name = "N", conflicts_with = "page")]
    limit: Option<u64>,
    /// Print numbered page P (from 1) instead; see --per-page.
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    page: Option<i64>,
    /// People per numbered page.
    #[arg(
        long,
        value_name = "K",
        requires = "page",
        default_value_t = 20,
        allow_negative_numbers = true
    )]
    per_page: i64,
    /// Print JSON: an array of {"id","name","created_at","updated_at"}, or
    /// with --page an object {items, page, per_page, total, pages}.
    #[arg(long)]
    json: bool,
}

/// `people::formats::Format` for clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    /// One name per line.
    Lines,
    /// CSV with an id,name,created_at,updated_at header.
    Csv,
    /// A JSON array of {"id","name","created_at","updated_at"} objects.
    Json,
}

impl From<FormatArg> for people::formats::Format {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Lines => people::formats::Format::Lines,
            FormatArg::Csv => people::formats::Format::Csv,
            FormatArg::Json => people::formats::Format::Json,
        }
    }
}

/// Where the database is when neither --database-url nor DATABASE_URL says.
const DEFAULT_DATABASE_URL: &str = "people.db";

/// Parses the arguments (after loading `.env`) and runs the command.
pub fn run() -> anyhow::Result<()> {
    load_dotenv()?;
    let cli = Cli::parse();
    #[cfg(feature = "serve")]
    let serving = matches!(cli.command, Command::Serve(_));
    #[cfg(not(feature = "serve"))]
    let serving = false;
    logging::init(cli.verbose, serving)?;
    // The one place the URL enters: parsed once, shown only redacted from here on.
    let url = DatabaseUrl::parse(cli.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL))?;
    commands::run(cli.command, &url)
}

/// Loads `.env` into the environment; a missing file is fine, a broken one is not.
fn load_dotenv() -> anyhow::Result<()> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(e) if e.not_found() => Ok(()),
        // dotenvy's message quotes the whole line, which may hold a password:
        // name the variable and the position, never the value.
        Err(dotenvy::Error::LineParse(line, index)) => {
            let variable: String = line.chars().take_while(|c| *c != '=').take(64).collect();
            Err(anyhow::anyhow!(
                "cannot read .env: the line for {:?} cannot be parsed (at character {index})",
                variable.trim()
            ))
        }
        Err(e) => Err(anyhow::anyhow!("cannot read .env: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn per_page_needs_page() {
        let parsed = Cli::try_parse_from(["people", "list", "--per-page", "5"]);
        assert_eq!(
            parsed.unwrap_err().kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
    }
}
