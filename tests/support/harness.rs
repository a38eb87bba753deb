//! The test harness: libtest-mimic with requirements. Every test is
//! registered with what it needs (a PostgreSQL server, a tool, root); when a
//! requirement is missing here, the test is reported as `ignored` and a note
//! says why — it never shows as `ok` without having run. With
//! `PEOPLE_TEST_NO_SKIP=1` (CI) a missing requirement fails the test instead.
//!
//! Registering: each module lists its tests with [`tests!`](crate::support::tests),
//! which also runs each `per_backend` body once per backend. A test function
//! that is not listed is dead code, which the build refuses (clippy
//! `-D warnings`), so no test can be forgotten.

use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::sync::{Mutex, OnceLock};

use libtest_mimic::{Arguments, Failed, Trial};

/// Something a test needs from the machine, probed once per run.
#[derive(Clone, Copy)]
pub struct Requirement {
    /// Names the requirement in notes.
    pub name: &'static str,
    /// `Ok` when it is met here, else why not.
    pub probe: fn() -> Result<(), String>,
}

/// One registered test.
pub struct Test {
    name: String,
    requires: Vec<Requirement>,
    run: Box<dyn FnOnce() + Send>,
}

impl Test {
    pub fn new(
        name: String,
        requires: Vec<Requirement>,
        run: impl FnOnce() + Send + 'static,
    ) -> Test {
        Test {
            name,
            requires,
            run: Box::new(run),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The module part of a test name: `tests::cli::add` → `cli::add`.
pub fn module_name(module_path: &str) -> &str {
    module_path
        .split_once("::")
        .map_or(module_path, |(_, rest)| rest)
}

/// Whether `requirement` is met, probing it on first use.
fn check(requirement: &Requirement) -> Result<(), String> {
    static PROBED: OnceLock<Mutex<HashMap<&'static str, Result<(), String>>>> = OnceLock::new();
    let probed = PROBED.get_or_init(Default::default);
    if let Some(result) = probed
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(requirement.name)
    {
        return result.clone();
    }
    let result = (requirement.probe)();
    probed
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(requirement.name, result.clone());
    result
}

/// Runs `tests` under libtest's command-line arguments and output format.
pub fn run(tests: Vec<Test>) -> ExitCode {
    let args = Arguments::from_args();
    let strict = std::env::var("PEOPLE_TEST_NO_SKIP").is_ok_and(|v| v == "1");
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let trials: Vec<Trial> = tests
        .into_iter()
        .map(|test| {
            let missing = test
                .requires
                .iter()
                .find_map(|r| check(r).err().map(|why| format!("{}: {why}", r.name)));
            let Test { name, run, .. } = test;
            match missing {
                None => Trial::test(name, move || {
                    run();
                    Ok(())
                }),
                Some(why) if strict => Trial::test(name, move || {
                    Err(Failed::from(format!(
                        "required, and PEOPLE_TEST_NO_SKIP=1 forbids skipping: {why}"
                    )))
                }),
                Some(why) => {
                    *skipped.entry(why.clone()).or_default() += 1;
                    // Were it run anyway (--ignored), it must not pass.
                    Trial::test(name, move || Err(Failed::from(format!("skipped: {why}"))))
                        .with_ignored_flag(true)
                }
            }
        })
        .collect();
    if !args.list {
        for (why, count) in &skipped {
            println!("note: {count} test(s) skipped (shown as ignored): {why}");
        }
    }
    libtest_mimic::run(&args, trials).exit_code()
}

/// Lists a module's tests: `plain { a, b => [REQ] }` are `fn a()`;
/// `per_backend { c, d => [REQ] }` are `fn c(db: &TestDb)`, each run as
/// `module::sqlite::c` and `module::postgres::c` (which needs PostgreSQL).
macro_rules! tests {
    (
        $( plain { $( $plain:ident $( => [ $($plain_req:expr),+ ] )? ),* $(,)? } )?
        $( per_backend { $( $each:ident $( => [ $($each_req:expr),+ ] )? ),* $(,)? } )?
    ) => {
        /// This module's tests, for the harness.
        pub(crate) fn tests() -> Vec<$crate::support::harness::Test> {
            #[allow(unused_imports)]
            use $crate::support::harness::{module_name, Test};
            let module = module_name(module_path!());
            #[allow(unused_mut)]
            let mut tests = Vec::new();
            $($(
                tests.push(Test::new(
                    format!("{module}::{}", stringify!($plain)),
                    vec![$($($plain_req),+)?],
                    $plain,
                ));
            )*)?
            $($(
                tests.push(Test::new(
                    format!("{module}::sqlite::{}", stringify!($each)),
                    vec![$($($each_req),+)?],
                    || $each(&$crate::support::sqlite_db()),
                ));
                tests.push(Test::new(
                    format!("{module}::postgres::{}", stringify!($each)),
                    vec![$crate::support::POSTGRES $(, $($each_req),+)?],
                    || $each(&$crate::support::postgres_db()),
                ));
            )*)?
            tests
        }
    };
}
pub(crate) use tests;
