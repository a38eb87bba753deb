//! Integration tests: everything that touches a real database or the real
//! binary. One test binary (fast to link); one module per area. Tests in
//! `backend_tests!` run on SQLite and, when PEOPLE_TEST_POSTGRES_URL is set,
//! on PostgreSQL.

mod support;

mod cli;
mod concurrency;
mod crash;
mod crud;
mod faults;
mod hostile;
mod migrations;
mod properties;
mod reliability_report;
mod security;
