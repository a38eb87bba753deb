//! Integration tests: everything that touches a real database or the real
//! binary. One test binary (fast to link), one module per area, and our own
//! harness (`support::harness`): a test whose requirement is missing here —
//! no PostgreSQL URL, no `initdb`, a build without the binary — is reported
//! as ignored, never as passed. `PEOPLE_TEST_NO_SKIP=1` makes it a failure.

mod support;

#[cfg(feature = "cli")]
mod adopt;
#[cfg(feature = "cli")]
mod cli;
mod concurrency;
#[cfg(feature = "cli")]
mod copy;
#[cfg(feature = "cli")]
mod crash;
mod crud;
#[cfg(feature = "cli")]
mod faults;
#[cfg(feature = "cli")]
mod hostile;
mod migrations;
#[cfg(feature = "formats")]
mod properties;
// RELIABILITY.md names tests of every module, so only a full build can check it.
#[cfg(all(feature = "cli", feature = "postgres"))]
mod reliability_report;
mod security;
mod upgrade;
#[cfg(feature = "serve")]
mod web;
#[cfg(feature = "serve")]
mod web_browser;

use support::harness::Test;

/// Every registered test, in a stable order.
pub(crate) fn all_tests() -> Vec<Test> {
    let mut tests = Vec::new();
    #[cfg(feature = "cli")]
    tests.extend(
        [
            adopt::tests(),
            cli::tests(),
            copy::tests(),
            crash::tests(),
            faults::tests(),
            hostile::tests(),
        ]
        .into_iter()
        .flatten(),
    );
    #[cfg(all(feature = "cli", feature = "postgres"))]
    tests.extend(faults::private_cluster::tests());
    tests.extend(concurrency::tests());
    tests.extend(crud::tests());
    tests.extend(migrations::tests());
    #[cfg(feature = "formats")]
    tests.extend(properties::tests());
    #[cfg(all(feature = "cli", feature = "postgres"))]
    tests.extend(reliability_report::tests());
    tests.extend(security::tests());
    tests.extend(upgrade::tests());
    #[cfg(feature = "serve")]
    tests.extend(web::tests());
    #[cfg(feature = "serve")]
    tests.extend(web_browser::tests());
    tests
}

fn main() -> std::process::ExitCode {
    support::harness::run(all_tests())
}
