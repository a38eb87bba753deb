//! One function per subcommand: call the library, write data to stdout.

use std::io::{self, BufRead, BufWriter, IsTerminal, Write};

use anyhow::Context;
use people::formats::{Format, PersonWriter};
use people::{DatabaseUrl, DbConnection, OnConflict, PageRequest, Person};

use super::output_file::OutputFile;
use super::{Command, FormatArg, ListArgs};

/// Rows fetched per query when streaming `list`.
const STREAM_BATCH: i64 = 1_000;

pub fn run(command: Command, url: &DatabaseUrl) -> anyhow::Result<()> {
    match command {
        Command::Migrate { status: false } => migrate(url),
        Command::Migrate { status: true } => migrate_status(url),
        Command::Adopt => adopt(url),
        Command::Copy { from, to } => copy(&from, &to),
        #[cfg(feature = "serve")]
        Command::Serve(args) => Ok(people::web::serve(url.clone(), &args.options())?),
        on_people => run_on_people(on_people, url),
    }
}

/// The commands that work on the people of an opened, migrated database.
fn run_on_people(command: Command, url: &DatabaseUrl) -> anyhow::Result<()> {
    let mut conn = open(url)?;
    let conn = &mut conn;
    let stdout = io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    match command {
        // Dispatched by `run`, which does not open the database first.
        Command::Migrate { .. } | Command::Adopt | Command::Copy { .. } => {}
        #[cfg(feature = "serve")]
        Command::Serve(_) => {}
        Command::Add { names } => add(conn, &names, &mut out)?,
        Command::Get { id } => print_row(&mut out, &people::get(conn, id)?)?,
        Command::Find { name } => match people::find_by_name(conn, &name)? {
            Some(person) => print_row(&mut out, &person)?,
            None => anyhow::bail!(
                "no person named {}",
                people::name::preview_at_most(&name, people::PersonName::MAX_CHARS)
            ),
        },
        Command::List(args) => list(conn, &args, &mut out)?,
        Command::Rename { id, new_name } => {
            print_row(&mut out, &people::rename(conn, id, new_name)?)?
        }
        Command::Delete { id } => print_row(&mut out, &people::delete(conn, id)?)?,
        Command::Count => writeln!(out, "{}", people::count(conn)?)?,
        Command::Import {
            file,
            skip_existing,
            format,
        } => import(conn, file, skip_existing, format, &mut out)?,
        Command::Export { format, output } => match output.filter(|path| path.as_os_str() != "-") {
            Some(path) => {
                let mut file = OutputFile::create(&path)?;
                let exported = people::formats::export(conn, format.into(), file.writer());
                // A signal fails the export's next write; say so instead.
                if let Some(interrupted) = file.interrupted() {
                    return Err(interrupted.into());
                }
                exported?;
                file.commit()?;
            }
            None => {
                people::formats::export(conn, format.into(), &mut out)?;
            }
        },
    }
    out.flush()?;
    Ok(())
}

/// `people::init`, with a word about SQLAlchemy's spelling when
/// `sqlite:///name.db` is about to make a file directly under `/`.
fn open(url: &DatabaseUrl) -> anyhow::Result<DbConnection> {
    let hint = root_file_hint(url);
    match people::init(url) {
        Ok(conn) => {
            if let Some(hint) = hint {
                eprintln!("warning: created {hint}");
            }
            Ok(conn)
        }
        Err(error) => match hint {
            Some(hint) => Err(anyhow::Error::new(error).context(format!("not created: {hint}"))),
            None => Err(error.into()),
        },
    }
}

/// For `sqlite:///NAME` naming a missing file directly under `/`.
fn root_file_hint(url: &DatabaseUrl) -> Option<String> {
    let path = url.sqlite_path()?;
    let name = url.expose().strip_prefix("sqlite:///")?;
    let at_root = path.parent() == Some(std::path::Path::new("/"));
    (at_root && !path.exists()).then(|| {
        format!(
            "{} (sqlite:///{name} is an absolute path, as in the diesel CLI; \
             SQLAlchemy reads it as relative: write sqlite://{name} for a file in the current directory)",
            path.display()
        )
    })
}

fn migrate(url: &DatabaseUrl) -> anyhow::Result<()> {
    if people::migrations::create_database_if_missing(url)? {
        eprintln!("created database {url}");
    }
    let mut conn = people::open(url)?;
    let applied = people::migrations::run_migrations(&mut conn)?;
    let mut out = io::stdout().lock();
    if applied.is_empty() {
        writeln!(out, "up to date")?;
    }
    for version in applied {
        writeln!(out, "{version}")?;
    }
    Ok(())
}

fn migrate_status(url: &DatabaseUrl) -> anyhow::Result<()> {
    use people::migrations::State;
    let mut conn = people::open(url)?;
    let mut out = io::stdout().lock();
    for migration in people::migrations::status(&mut conn)? {
        let state = match migration.state {
            State::Applied => "applied",
            State::Pending => "pending",
            _ => "unknown",
        };
        writeln!(out, "{state}\t{}\t{}", migration.version, migration.name)?;
    }
    Ok(())
}

fn adopt(url: &DatabaseUrl) -> anyhow::Result<()> {
    let mut conn = people::open(url)?;
    let mut out = BufWriter::new(io::stdout().lock());
    // Each offending row as it is found: a million bad rows stream through.
    let mut write_error = None;
    let adopted = people::adopt::adopt(&mut conn, |row| {
        if write_error.is_none() {
            if let Err(e) = writeln!(out, "{}\t{}", row.id, row.reason) {
                write_error = Some(e);
            }
        }
    });
    out.flush()?;
    if let Some(e) = write_error {
        return Err(e.into());
    }
    writeln!(out, "adopted {} people", adopted?.people)?;
    out.flush()?;
    Ok(())
}

fn copy(from: &str, to: &str) -> anyhow::Result<()> {
    let from = DatabaseUrl::parse(from)?;
    let to = DatabaseUrl::parse(to)?;
    let mut source = people::init(&from)?;
    people::migrations::create_database_if_missing(&to)?;
    let mut target = people::init(&to)?;
    let progress = progress_bar("{spinner} {human_pos} people copied ({per_sec})");
    let copied = people::copy::copy(&mut source, &mut target, |n| progress.set_position(n));
    progress.finish_and_clear();
    println!("copied {} people", copied?.people);
    Ok(())
}

fn print_row(out: &mut impl Write, person: &Person) -> io::Result<()> {
    writeln!(out, "{}\t{}", person.id, person.name)
}

fn add(conn: &mut DbConnection, names: &[String], out: &mut impl Write) -> anyhow::Result<()> {
    // One name is one autocommit INSERT; several are all or nothing.
    let created = match names {
        [name] => vec![people::create(conn, name)?],
        _ => people::transaction(conn, |conn| {
            names
                .iter()
                .map(|name| people::create(conn, name))
                .collect::<people::Result<Vec<_>>>()
        })?,
    };
    for person in &created {
        print_row(out, person)?;
    }
    Ok(())
}

fn list(conn: &mut DbConnection, args: &ListArgs, out: &mut impl Write) -> anyhow::Result<()> {
    if let Some(page) = args.page {
        let request = PageRequest {
            page,
            per_page: args.per_page,
            search: args.search.clone(),
            ..PageRequest::default()
        };
        let pagination = people::paginate(conn, &request)?;
        if args.json {
            #[derive(serde::Serialize)]
            struct Page<'a> {
                items: &'a [Person],
                page: i64,
                per_page: i64,
                total: i64,
                pages: i64,
            }
            let page = Page {
                items: pagination.items(),
                page: pagination.page(),
                per_page: pagination.per_page(),
                total: pagination.total(),
                pages: pagination.pages(),
            };
            serde_json::to_writer(&mut *out, &page)?;
            writeln!(out)?;
        } else {
            for person in pagination.items() {
                print_row(out, person)?;
            }
        }
        return Ok(());
    }
    let mut sink = if args.json {
        RowSink::Json(PersonWriter::new(out, Format::Json)?)
    } else {
        RowSink::Rows(out)
    };
    // Batches of one snapshot, as `people::formats::export` reads them.
    people::read_snapshot(conn, |conn| {
        let mut left = args.limit.unwrap_or(u64::MAX);
        let mut after = args.after;
        while left > 0 {
            let batch_size = STREAM_BATCH.min(i64::try_from(left).unwrap_or(i64::MAX));
            let batch = match &args.search {
                Some(needle) => people::search(conn, needle, after, batch_size)?,
                None => people::list(conn, after, batch_size)?,
            };
            for person in &batch {
                match &mut sink {
                    RowSink::Json(writer) => writer.write(person)?,
                    RowSink::Rows(out) => print_row(out, person)?,
                }
            }
            left -= batch.len() as u64;
            match batch.last() {
                Some(last) if batch.len() as i64 == batch_size => after = Some(last.id),
                _ => break,
            }
        }
        anyhow::Ok(())
    })?;
    if let RowSink::Json(writer) = sink {
        writer.finish()?;
    }
    Ok(())
}

/// Where `list` writes: `ID<TAB>NAME` lines, or a JSON array.
enum RowSink<W: Write> {
    Rows(W),
    Json(PersonWriter<W>),
}

fn import(
    conn: &mut DbConnection,
    file: Option<std::path::PathBuf>,
    skip_existing: bool,
    format: FormatArg,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let input: Box<dyn BufRead + Send> = match file {
        Some(path) if path.as_os_str() != "-" => {
            let file = std::fs::File::open(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Box::new(io::BufReader::with_capacity(64 * 1024, file))
        }
        _ => Box::new(io::BufReader::new(io::stdin())),
    };
    let progress = progress_bar("{spinner} {human_pos} names read ({per_sec})");
    // A hidden bar still reads the clock on every `inc`: a tenth of the
    // client's work in an import of short names, for nothing.
    let counting = !progress.is_hidden();
    let names = people::formats::read_names(input, format.into()).inspect(|_| {
        if counting {
            progress.inc(1)
        }
    });
    let on_conflict = if skip_existing {
        OnConflict::Skip
    } else {
        OnConflict::Fail
    };
    let report = people::create_many(conn, names, on_conflict);
    progress.finish_and_clear();
    let report = report?;
    writeln!(
        out,
        "imported {}, skipped {}",
        report.inserted, report.skipped
    )?;
    Ok(())
}

/// A counter on stderr when a person is watching, nothing otherwise.
fn progress_bar(template: &str) -> indicatif::ProgressBar {
    if !io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}
