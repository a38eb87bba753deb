//! What the benchmark races share: the workload, its timing and the
//! report's number formatting. Each bench is its own crate, so this is
//! included by `mod common;` in each.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use people::{OnConflict, Person};

/// Multiplier of the index permutation: prime, so `(i * STRIDE) % n` visits
/// every residue once as long as `n` is not a multiple of it.
pub const STRIDE: u64 = 7919;

/// Rows per page in the `page` phase.
pub const PAGE: usize = 50;

/// The races' phases, in the order they run: each builds on the ones before
/// it (the reads, rename and delete work on bulk_insert's rows, and the ids
/// insert_single expects follow them). Results are kept per phase in this
/// order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    BulkInsert,
    GetById,
    GetByName,
    Page,
    InsertSingle,
    Rename,
    Delete,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::BulkInsert,
        Phase::GetById,
        Phase::GetByName,
        Phase::Page,
        Phase::InsertSingle,
        Phase::Rename,
        Phase::Delete,
    ];

    /// The name the reports and the JSON use.
    pub fn name(self) -> &'static str {
        match self {
            Phase::BulkInsert => "bulk_insert",
            Phase::GetById => "get_by_id",
            Phase::GetByName => "get_by_name",
            Phase::Page => "page",
            Phase::InsertSingle => "insert_single",
            Phase::Rename => "rename",
            Phase::Delete => "delete",
        }
    }

    /// How many operations the phase performs on workload `w`.
    pub fn ops(self, w: &Workload) -> usize {
        match self {
            Phase::BulkInsert | Phase::GetById | Phase::GetByName => w.n,
            _ => w.tenth(),
        }
    }
}

pub type Res<T> = Result<T, String>;

/// Turns any error into the message the benchmark exits with.
pub fn err<E: std::fmt::Display>(context: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{context}: {e}")
}

/// Fails with `message` unless `ok`: the inline per-operation checks.
pub fn ensure(ok: bool, message: impl FnOnce() -> String) -> Res<()> {
    if ok { Ok(()) } else { Err(message()) }
}

/// Times `body`, which returns the phase checksum.
pub fn timed(ops: usize, body: impl FnOnce() -> Res<u64>) -> Res<Measured> {
    let start = Instant::now();
    let checksum = body()?;
    let time = start.elapsed();
    Ok(Measured {
        ops,
        time,
        checksum,
    })
}

pub fn sum_page(rows: &[Person], after: i32) -> Res<u64> {
    ensure(rows.len() == PAGE && rows[0].id == after + 1, || {
        format!(
            "page after {after}: got {} rows starting at {:?}",
            rows.len(),
            rows.first().map(|p| p.id)
        )
    })?;
    Ok(rows.iter().map(|p| p.id as u64).sum())
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// 1234567.8 -> "1,234,568".
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`, without a date crate.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3_600,
        rem % 3_600 / 60
    )
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

/// Every input, built before any timer starts.
pub struct Workload {
    pub n: usize,
    /// `person-000001`.. : row `i` gets id `i + 1`.
    pub names: Vec<String>,
    /// The permutation of 1..=n that the point reads follow.
    pub ids: Vec<i32>,
    /// The `after` key of each page.
    pub page_keys: Vec<i32>,
    /// `newperson-000001`.. for insert_single.
    pub new_names: Vec<String>,
    /// `renamed-000001`.. for ids 1..=n/10.
    pub renames: Vec<String>,
}

impl Workload {
    pub fn new(n: usize) -> Self {
        let tenth = n / 10;
        let perm = |i: usize, m: usize| ((i as u64 * STRIDE) % m as u64) as i32;
        Workload {
            n,
            names: (1..=n).map(|i| format!("person-{i:06}")).collect(),
            ids: (0..n).map(|i| perm(i, n) + 1).collect(),
            page_keys: (0..tenth).map(|i| perm(i, n - PAGE)).collect(),
            new_names: (1..=tenth).map(|i| format!("newperson-{i:06}")).collect(),
            renames: (1..=tenth).map(|i| format!("renamed-{i:06}")).collect(),
        }
    }

    pub fn tenth(&self) -> usize {
        self.n / 10
    }

    pub fn name_of(&self, id: i32) -> &str {
        &self.names[id as usize - 1]
    }

    /// The id insert_single's `i`-th create gets: after the n bulk rows.
    pub fn new_id(&self, i: usize) -> i32 {
        (self.n + 1 + i) as i32
    }

    /// The id rename's `i`-th operation renames: ids 1 ..= n/10.
    pub fn renamed_id(&self, i: usize) -> i32 {
        (i + 1) as i32
    }

    /// Ids deleted by the delete phase: n/10+1 ..= 2n/10.
    pub fn deleted_id(&self, i: usize) -> i32 {
        (self.tenth() + 1 + i) as i32
    }

    // What each phase's operation must return, checked the same way for
    // every contestant; each returns the operation's share of the checksum.

    /// get_by_id: the row of `id`.
    pub fn check_get(&self, id: i32, got: &Person) -> Res<u64> {
        ensure(got.id == id && got.name == self.name_of(id), || {
            format!("get({id}) = {got:?}")
        })?;
        Ok(got.name.len() as u64)
    }

    /// get_by_name: the row of `id`, looked up by its name.
    pub fn check_find(&self, id: i32, got: Option<&Person>) -> Res<u64> {
        let name = self.name_of(id);
        let got = got.ok_or_else(|| format!("get_by_name({name}) = None"))?;
        ensure(got.id == id && got.name == name, || {
            format!("get_by_name({name}) = {got:?}")
        })?;
        Ok(got.id as u64)
    }

    /// insert_single's `i`-th create.
    pub fn check_create(&self, i: usize, got: &Person) -> Res<u64> {
        let (expected, name) = (self.new_id(i), &self.new_names[i]);
        ensure(got.id == expected && &got.name == name, || {
            format!("insert({name}) = {got:?}, expected id {expected}")
        })?;
        Ok(got.id as u64)
    }

    /// rename's `i`-th operation.
    pub fn check_rename(&self, i: usize, got: &Person) -> Res<u64> {
        let (id, name) = (self.renamed_id(i), &self.renames[i]);
        ensure(got.id == id && &got.name == name, || {
            format!("rename({id}, {name}) = {got:?}")
        })?;
        Ok(got.id as u64)
    }

    /// delete's `i`-th operation: the deleted row.
    pub fn check_delete(&self, i: usize, got: &Person) -> Res<u64> {
        let id = self.deleted_id(i);
        ensure(got.id == id && got.name == self.name_of(id), || {
            format!("delete({id}) = {got:?}")
        })?;
        Ok(got.id as u64)
    }
}

/// One phase of one contestant in one round.
#[derive(Clone, Copy, Default)]
pub struct Measured {
    pub ops: usize,
    pub time: Duration,
    pub checksum: u64,
}

impl Measured {
    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.time.as_secs_f64()
    }
}

/// The slices each phase but bulk_insert is cut into (see [`race_round`]).
pub const SLICES: usize = 10;

/// One round of a race between `contestants` open sessions, each on its own
/// fresh database: phase by phase, every phase but bulk_insert (one
/// transaction) cut into [`SLICES`] slices that the contestants take in
/// turns, the one going first rotating with the round, phase and slice. A
/// phase's time is the sum of a contestant's slices, so a drift of the
/// machine's speed falls on all contestants alike. `run(c, p, ops)` runs
/// operations `ops` of phase `p` for contestant `c` and returns their
/// checksum; `settle()` runs untimed before each phase and, in bulk_insert,
/// before each contestant. Returns `[contestant][phase]`.
pub fn race_round(
    contestants: usize,
    w: &Workload,
    round: usize,
    mut settle: impl FnMut(),
    mut run: impl FnMut(usize, Phase, std::ops::Range<usize>) -> Res<u64>,
) -> Res<Vec<Vec<Measured>>> {
    let mut out = vec![Vec::with_capacity(Phase::ALL.len()); contestants];
    for (p, &phase) in Phase::ALL.iter().enumerate() {
        let ops = phase.ops(w);
        let slices = if phase == Phase::BulkInsert {
            1
        } else {
            SLICES
        };
        let mut totals = vec![Measured::default(); contestants];
        for k in 0..slices {
            let range = k * ops / slices..(k + 1) * ops / slices;
            for turn in 0..contestants {
                let c = (turn + round + p + k) % contestants;
                if k == 0 && (turn == 0 || slices == 1) {
                    settle();
                }
                let slice = timed(range.len(), || run(c, phase, range.clone()))?;
                let total = &mut totals[c];
                total.ops += slice.ops;
                total.time += slice.time;
                total.checksum += slice.checksum;
            }
        }
        for (c, total) in totals.into_iter().enumerate() {
            out[c].push(total);
        }
    }
    Ok(out)
}

/// Operations `ops` of phase `p` through the public `people` API; returns
/// their checksum. The phases build on each other: phase `p` expects every
/// operation of the phases before it done. bulk_insert runs its range as one
/// `create_many` (one transaction).
pub fn people_phase(
    conn: &mut people::DbConnection,
    w: &Workload,
    p: Phase,
    ops: std::ops::Range<usize>,
) -> Res<u64> {
    let mut sum = 0u64;
    match p {
        Phase::BulkInsert => {
            let names = &w.names[ops];
            let report = people::create_many(conn, names, OnConflict::Fail)
                .map_err(err("people::create_many"))?;
            ensure(
                report.inserted == names.len() as u64 && report.skipped == 0,
                || format!("create_many: {report:?}"),
            )?;
            sum = report.inserted;
        }
        Phase::GetById => {
            for &id in &w.ids[ops] {
                let got = people::get(conn, id).map_err(err("people::get"))?;
                sum += w.check_get(id, &got)?;
            }
        }
        Phase::GetByName => {
            for &id in &w.ids[ops] {
                let got = people::find_by_name(conn, w.name_of(id))
                    .map_err(err("people::find_by_name"))?;
                sum += w.check_find(id, got.as_ref())?;
            }
        }
        Phase::Page => {
            for &after in &w.page_keys[ops] {
                let rows =
                    people::list(conn, Some(after), PAGE as i64).map_err(err("people::list"))?;
                sum += sum_page(&rows, after)?;
            }
        }
        Phase::InsertSingle => {
            for i in ops {
                let got = people::create(conn, &w.new_names[i]).map_err(err("people::create"))?;
                sum += w.check_create(i, &got)?;
            }
        }
        Phase::Rename => {
            for i in ops {
                let got = people::rename(conn, w.renamed_id(i), &w.renames[i])
                    .map_err(err("people::rename"))?;
                sum += w.check_rename(i, &got)?;
            }
        }
        Phase::Delete => {
            for i in ops {
                let got = people::delete(conn, w.deleted_id(i)).map_err(err("people::delete"))?;
                sum += w.check_delete(i, &got)?;
            }
        }
    }
    Ok(sum)
}

/// People's rate over the rival's in phase `p`, one ratio per round.
fn round_ratios(raced: &[[Vec<Measured>; 2]], p: usize) -> Vec<f64> {
    raced
        .iter()
        .map(|r| r[0][p].ops_per_sec() / r[1][p].ops_per_sec())
        .collect()
}

/// The report's table: per phase, the median rate of each contestant and the
/// median of the per-round ratios with their range. `results[round]` holds people's phases
/// first, then the rival's.
pub fn ratio_table(rival: &str, results: &[[Vec<Measured>; 2]]) -> String {
    let mut table = format!(
        "| phase | ops | people ops/s | {rival} ops/s | people/{rival} | lowest–highest round |\n"
    );
    table.push_str("|---|--:|--:|--:|--:|--:|\n");
    for (p, name) in Phase::ALL.iter().map(|p| p.name()).enumerate() {
        let rate = |c: usize| median(results.iter().map(|r| r[c][p].ops_per_sec()).collect());
        let ratios = round_ratios(results, p);
        let lowest = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let highest = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        table.push_str(&format!(
            "| {name} | {} | {} | {} | {:.2}x | {lowest:.2}–{highest:.2}x |\n",
            thousands(results[0][0][p].ops as f64),
            thousands(rate(0)),
            thousands(rate(1)),
            median(ratios),
        ));
    }
    table
}

/// Per round and phase, people against the rival's fastest form:
/// `results[round][contestant][phase]` with people first and the rival's
/// forms after it; `candidates[phase]` lists the contestants whose code for
/// that phase differs (the others run the same code as one of them). The
/// fastest form is the one with the highest median over the rounds, so that
/// noise in one round does not pick the rival.
pub fn fastest_rival(
    results: &[Vec<Vec<Measured>>],
    candidates: &[&[usize]],
) -> (Vec<usize>, Vec<[Vec<Measured>; 2]>) {
    let fastest: Vec<usize> = (0..Phase::ALL.len())
        .map(|p| {
            let median_rate =
                |c: usize| median(results.iter().map(|r| r[c][p].ops_per_sec()).collect());
            candidates[p]
                .iter()
                .copied()
                .max_by(|&a, &b| median_rate(a).total_cmp(&median_rate(b)))
                .unwrap_or(1)
        })
        .collect();
    let raced = results
        .iter()
        .map(|contestants| {
            let rival = (0..Phase::ALL.len())
                .map(|p| contestants[fastest[p]][p])
                .collect();
            [contestants[0].clone(), rival]
        })
        .collect();
    (fastest, raced)
}

/// The per-phase medians as JSON, for `benches/chart.py`, with each round's
/// ratio so that the chart can show how far the rounds lie apart.
pub fn write_json(
    path: &std::path::Path,
    bench: &str,
    backend: &str,
    rival: &str,
    started: &str,
    n: usize,
    raced: &[[Vec<Measured>; 2]],
) -> Res<()> {
    let phases: Vec<serde_json::Value> = Phase::ALL
        .iter()
        .enumerate()
        .map(|(p, phase)| {
            let rate = |c: usize| median(raced.iter().map(|r| r[c][p].ops_per_sec()).collect());
            let round_ratios = round_ratios(raced, p);
            serde_json::json!({
                "phase": phase.name(),
                "people": rate(0),
                "rival": rate(1),
                "ratio": median(round_ratios.clone()),
                "round_ratios": round_ratios,
            })
        })
        .collect();
    let json = serde_json::json!({
        "bench": bench,
        "backend": backend,
        "rival": rival,
        "started": started,
        "n": n,
        "rounds": raced.len(),
        "phases": phases,
    });
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err("creating the JSON's directory"))?;
    }
    let json = serde_json::to_string(&json).map_err(err("writing the JSON results"))?;
    std::fs::write(path, json + "\n").map_err(err("writing the JSON results"))
}
