//! The library's CRUD functions, on every backend.

use crate::support::*;
use people::{BulkReport, Error, OnConflict, PageRequest, Person};

crate::support::tests! {
    plain {
        create_many_on_postgres_sends_one_copy_per_100000_names_and_no_empty_one => [POSTGRES],
    }
    per_backend {
        create_returns_the_stored_row,
        a_create_is_one_statement_and_returns_its_own_row_beside_another_writer,
        a_create_returns_its_own_row_without_people_s_instrumentation,
        create_refuses_a_taken_name_with_name_taken,
        names_are_case_sensitive_and_exact,
        invalid_names_are_refused_before_the_database,
        eighty_multibyte_characters_round_trip_exactly,
        sql_metacharacters_are_stored_literally,
        get_missing_id_is_not_found,
        find_by_name_absent_is_none,
        rename_changes_only_the_name,
        create_sets_both_timestamps_to_now_in_utc,
        the_database_keeps_updated_at_true_for_another_programs_writes,
        rename_to_taken_name_is_refused_and_changes_nothing,
        rename_missing_id_is_not_found,
        delete_returns_the_row_and_its_id_is_never_reused,
        delete_missing_id_is_not_found,
        count_counts,
        list_walks_keyset_pages_in_id_order,
        search_is_substring_ascii_case_insensitive_with_literal_wildcards,
        create_many_is_all_or_nothing_on_a_taken_name,
        create_many_refuses_a_name_repeated_within_the_batch,
        create_many_skip_existing_reports_skipped,
        create_many_spans_several_batches,
        create_many_gives_a_skipping_batch_the_time_of_the_others,
        create_many_invalid_name_writes_nothing,
        transaction_rolls_back_every_write_on_error,
        a_failed_write_inside_a_transaction_leaves_it_usable,
        read_snapshot_sees_one_moment_and_nests_in_a_transaction,
        paginate_250_rows_gives_13_pages_of_20,
        paginate_applies_max_per_page_and_next_and_prev_keep_it,
        paginate_refuses_bad_pages,
        paginate_empty_table_page_1_is_empty_not_an_error,
        paginate_with_search_counts_only_matches,
        paginate_cached_gives_exactly_the_pages_paginate_gives,
        the_database_refuses_an_81_character_name_written_with_raw_sql,
    }
}

fn create_returns_the_stored_row(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    let alice = people::create(&mut conn, "Alice").unwrap();
    assert_eq!(alice.name, "Alice");
    assert_eq!(people::get(&mut conn, alice.id).unwrap(), alice);
    let bob = people::create(&mut conn, "Bob").unwrap();
    assert!(bob.id > alice.id);
}

/// On SQLite a create reads its id from the connection's C handle, noted
/// when the connection was opened: interleaved with another connection's
/// creates, each must still get its own row, and no second statement.
fn a_create_is_one_statement_and_returns_its_own_row_beside_another_writer(db: &TestDb) {
    let mut one = db.connect().unwrap();
    let mut other = db.connect().unwrap();
    for i in 0..20 {
        let (created, statements) =
            people::statement_log::record(&mut one, |c| people::create(c, format!("one {i}")));
        let created = created.unwrap();
        assert_eq!(statements.len(), 1, "{statements:#?}");
        assert!(statements[0].sql.starts_with("INSERT"), "{statements:#?}");
        let by_other = people::create(&mut other, format!("other {i}")).unwrap();
        assert_eq!(people::get(&mut other, created.id).unwrap(), created);
        assert_eq!(people::get(&mut one, by_other.id).unwrap(), by_other);
    }
}

/// An app may replace a connection's instrumentation (people's statement
/// log and SQLite handle live there): creates then read the id another way.
fn a_create_returns_its_own_row_without_people_s_instrumentation(db: &TestDb) {
    use diesel::Connection as _;
    let mut one = db.connect().unwrap();
    let mut other = db.connect().unwrap();
    one.set_instrumentation(|_: diesel::connection::InstrumentationEvent<'_>| {});
    for i in 0..5 {
        let created = people::create(&mut one, format!("one {i}")).unwrap();
        let by_other = people::create(&mut other, format!("other {i}")).unwrap();
        assert_eq!(people::get(&mut other, created.id).unwrap(), created);
        assert_eq!(people::get(&mut one, by_other.id).unwrap(), by_other);
    }
    let ((), statements) = people::statement_log::record(&mut one, |_| ());
    assert!(statements.is_empty());
}

fn create_refuses_a_taken_name_with_name_taken(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    people::create(&mut conn, "Alice").unwrap();
    match people::create(&mut conn, "Alice") {
        Err(Error::NameTaken { name }) => assert_eq!(name, "Alice"),
        other => panic!("expected NameTaken, got {other:?}"),
    }
    assert_eq!(people::count(&mut conn).unwrap(), 1);
}

fn names_are_case_sensitive_and_exact(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    people::create(&mut conn, "alice").unwrap();
    people::create(&mut conn, "Alice").unwrap();
    people::create(&mut conn, "Ålice").unwrap();
    assert_eq!(people::count(&mut conn).unwrap(), 3);
    assert_eq!(
        people::find_by_name(&mut conn, "Alice")
            .unwrap()
            .unwrap()
            .name,
        "Alice"
    );
}

fn invalid_names_are_refused_before_the_database(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    let too_long = "x".repeat(81);
    for bad in [
        "",
        " Alice",
        "Alice ",
        "\tAlice",
        "a\nb",
        "a\0b",
        "a\u{1b}b",
        too_long.as_str(),
    ] {
        match people::create(&mut conn, bad) {
            Err(Error::InvalidName { reason }) => assert!(!reason.contains('\n'), "{reason}"),
            other => panic!("{bad:?} was not refused: {other:?}"),
        }
    }
    assert_eq!(people::count(&mut conn).unwrap(), 0);
}

fn eighty_multibyte_characters_round_trip_exactly(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    for name in ["é".repeat(80), "😀".repeat(80), "e\u{301}".repeat(40)] {
        let stored = people::create(&mut conn, name.as_str()).unwrap();
        assert_eq!(people::get(&mut conn, stored.id).unwrap().name, name);
    }
}

fn sql_metacharacters_are_stored_literally(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    let names = [
        "Robert'); DROP TABLE person;--",
        "\" OR 1=1 --",
        "50% off_",
        r"back\slash",
        "$1 ?1 :name",
    ];
    for name in names {
        let stored = people::create(&mut conn, name).unwrap();
        assert_eq!(people::find_by_name(&mut conn, name).unwrap(), Some(stored));
    }
    assert_eq!(people::count(&mut conn).unwrap(), names.len() as i64);
}

fn get_missing_id_is_not_found(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    assert!(matches!(
        people::get(&mut conn, 42),
        Err(Error::NotFound { id: 42 })
    ));
    assert_eq!(
        people::get(&mut conn, 42).unwrap_err().to_string(),
        "no person with id 42"
    );
}

fn find_by_name_absent_is_none(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    people::create(&mut conn, "Alice").unwrap();
    assert_eq!(people::find_by_name(&mut conn, "Alic").unwrap(), None);
    assert_eq!(people::find_by_name(&mut conn, "").unwrap(), None);
}

fn rename_changes_only_the_name(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    let alice = people::create(&mut conn, "Alice").unwrap();
    let bob = people::create(&mut conn, "Bob").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2));
    let renamed = people::rename(&mut conn, alice.id, "Alicia").unwrap();
    assert_eq!(
        renamed,
        Person {
            name: "Alicia".into(),
            updated_at: renamed.updated_at,
            ..alice.clone()
        }
    );
    assert!(renamed.updated_at > alice.updated_at, "{renamed:?}");
    assert_eq!(people::get(&mut conn, alice.id).unwrap(), renamed);
    assert_eq!(people::get(&mut conn, bob.id).unwrap(), bob);
    assert_eq!(people::find_by_name(&mut conn, "Alice").unwrap(), None);
}

fn create_sets_both_timestamps_to_now_in_utc(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    let before = chrono::Utc::now();
    let alice = people::create(&mut conn, "Alice").unwrap();
    let after = chrono::Utc::now();
    assert_eq!(alice.created_at, alice.updated_at);
    assert!(
        before - chrono::TimeDelta::microseconds(1) <= alice.created_at
            && alice.created_at <= after,
        "{alice:?} not between {before} and {after}"
    );
    // Stored to the microsecond: it reads back exactly.
    assert_eq!(alice.created_at.timestamp_subsec_nanos() % 1_000, 0);
    assert_eq!(people::get(&mut conn, alice.id).unwrap(), alice);
    let report = people::create_many(&mut conn, ["Bo", "Cy"], OnConflict::Fail).unwrap();
    assert_eq!(report.inserted, 2);
    let bo = people::find_by_name(&mut conn, "Bo").unwrap().unwrap();
    let cy = people::find_by_name(&mut conn, "Cy").unwrap().unwrap();
    assert_eq!(
        (bo.created_at, bo.updated_at),
        (cy.created_at, cy.updated_at)
    );
    assert!(bo.created_at >= alice.created_at);
}

fn the_database_keeps_updated_at_true_for_another_programs_writes(db: &TestDb) {
    use diesel::connection::SimpleConnection;
    let mut conn = db.connect().unwrap();
    // Another program names neither column: the defaults fill them.
    conn.batch_execute("INSERT INTO person (name) VALUES ('Other')")
        .unwrap();
    let other = people::find_by_name(&mut conn, "Other").unwrap().unwrap();
    let now = chrono::Utc::now();
    assert!(
        (now - other.created_at).num_seconds().abs() < 60,
        "{other:?}"
    );
    assert_eq!(other.created_at, other.updated_at);
    std::thread::sleep(std::time::Duration::from_millis(5));
    // ... nor updated_at when it renames: the trigger advances it.
    conn.batch_execute("UPDATE person SET name = 'Renamed' WHERE name = 'Other'")
        .unwrap();
    let renamed = people::get(&mut conn, other.id).unwrap();
    assert_eq!(renamed.created_at, other.created_at);
    assert!(renamed.updated_at > other.updated_at, "{renamed:?}");
}

fn rename_to_taken_name_is_refused_and_changes_nothing(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    let alice = people::create(&mut conn, "Alice").unwrap();
    people::create(&mut conn, "Bob").unwrap();
    assert!(
        matches!(people::rename(&mut conn, alice.id, "Bob"), Err(Error::NameTaken { name }) if name == "Bob")
    );
    assert_eq!(people::get(&mut conn, alice.id).unwrap().name, "Alice");
}

fn rename_missing_id_is_not_found(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    assert!(matches!(
        people::rename(&mut conn, 7, "Zed"),
        Err(Error::NotFound { id: 7 })
    ));
    assert_eq!(people::count(&mut conn).unwrap(), 0);
}

fn delete_returns_the_row_and_its_id_is_never_reused(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    people::create(&mut conn, "Alice").unwrap();
    let bob = people::create(&mut conn, "Bob").unwrap();
    assert_eq!(people::delete(&mut conn, bob.id).unwrap(), bob);
    assert!(matches!(
        people::get(&mut conn, bob.id),
        Err(Error::NotFound { .. })
    ));
    let carol = people::create(&mut conn, "Carol").unwrap();
    assert!(carol.id > bob.id, "id {} was reused", carol.id);
}

fn delete_missing_id_is_not_found(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    people::create(&mut conn, "Alice").unwrap();
    assert!(matches!(
        people::delete(&mut conn, 99),
        Err(Error::NotFound { id: 99 })
    ));
    assert_eq!(people::count(&mut conn).unwrap(), 1);
}

fn count_counts(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    assert_eq!(people::count(&mut conn).unwrap(), 0);
    people::create_many(
        &mut conn,
        (0..37).map(|i| format!("p{i}")),
        OnConflict::Fail,
    )
    .unwrap();
    assert_eq!(people::count(&mut conn).unwrap(), 37);
}

fn list_walks_keyset_pages_in_id_order(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    people::create_many(
        &mut conn,
        (0..25).map(|i| format!("p{i:02}")),
        OnConflict::Fail,
    )
    .unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = people::list(&mut conn, after, 10).unwrap();
        assert!(page.len() <= 10);
        match page.last() {
            Some(last) => after = Some(last.id),
            None => break,
        }
        seen.extend(page.into_iter().map(|p| p.name));
    }
    let expected: Vec<String> = (0..25).map(|i| format!("p{i:02}")).collect();
    assert_eq!(seen, expected);
    assert!(people::list(&mut conn, None, 0).unwrap().is_empty());
}

fn search_is_substring_ascii_case_insensitive_with_literal_wildcards(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    let names = [
        "Alice", "MALICE", "Bob", "50% off", "5000 off", "a_b", "axb", r"c\d", "cd",
    ];
    people::create_many(&mut conn, names, OnConflict::Fail).unwrap();
    let found = |conn: &mut people::DbConnection, needle: &str| -> Vec<String> {
        people::search(conn, needle, None, 100)
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect()
    };
    assert_eq!(found(&mut conn, "lic"), ["Alice", "MALICE"]);
    assert_eq!(found(&mut conn, "ALI"), ["Alice", "MALICE"]);
    assert_eq!(found(&mut conn, "%"), ["50% off"]);
    assert_eq!(found(&mut conn, "_"), ["a_b"]);
    assert_eq!(found(&mut conn, r"\"), [r"c\d"]);
    assert!(found(&mut conn, "zzz").is_empty());
    // Keyset paging works on search results too.
    let first = people::search(&mut conn, "o", None, 1).unwrap();
    let rest = people::search(&mut conn, "o", Some(first[0].id), 10).unwrap();
    assert_eq!(first.len() + rest.len(), 3);
}

fn create_many_is_all_or_nothing_on_a_taken_name(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    people::create(&mut conn, "p1500").unwrap();
    let result = people::create_many(
        &mut conn,
        (0..3000).map(|i| format!("p{i}")),
        OnConflict::Fail,
    );
    assert!(matches!(result, Err(Error::NameTaken { name }) if name == "p1500"));
    assert_eq!(people::count(&mut conn).unwrap(), 1);
}

fn create_many_refuses_a_name_repeated_within_the_batch(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    let result = people::create_many(&mut conn, ["A", "B", "A"], OnConflict::Fail);
    assert!(matches!(result, Err(Error::NameTaken { name }) if name == "A"));
    assert_eq!(people::count(&mut conn).unwrap(), 0);
}

fn create_many_skip_existing_reports_skipped(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    people::create_many(&mut conn, ["A", "C"], OnConflict::Fail).unwrap();
    let report =
        people::create_many(&mut conn, ["A", "B", "C", "D", "B"], OnConflict::Skip).unwrap();
    assert_eq!(
        report,
        BulkReport {
            inserted: 2,
            skipped: 3
        }
    );
    assert_eq!(people::count(&mut conn).unwrap(), 4);
}

fn create_many_spans_several_batches(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    let n = 1_000 * 2 + 17;
    let report =
        people::create_many(&mut conn, (0..n).map(|i| format!("n{i}")), OnConflict::Fail).unwrap();
    assert_eq!(
        report,
        BulkReport {
            inserted: n as u64,
            skipped: 0
        }
    );
    let last = people::list(&mut conn, None, n as i64 + 1).unwrap();
    assert_eq!(last.len(), n);
    assert_eq!(last[n - 1].name, format!("n{}", n - 1));
    // One time for the whole call, in both columns of every row (the
    // batches bind it once per statement).
    let at = last[0].created_at;
    for (i, p) in last.iter().enumerate() {
        assert_eq!(p.name, format!("n{i}"));
        assert_eq!((p.created_at, p.updated_at), (at, at), "{p:?}");
    }
}

/// A batch with a taken name is inserted again, skipping it (on PostgreSQL
/// by an INSERT instead of the COPY): its rows get the call's one time too.
/// The taken name is in the batch after 100,000 names, PostgreSQL's COPY
/// batch (100 of SQLite's).
fn create_many_gives_a_skipping_batch_the_time_of_the_others(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    let taken = people::create(&mut conn, "n100000").unwrap();
    let names = (0..100_002).map(|i| format!("n{i}"));
    let report = people::create_many(&mut conn, names, OnConflict::Skip).unwrap();
    assert_eq!(
        report,
        BulkReport {
            inserted: 100_001,
            skipped: 1
        }
    );
    let first = people::find_by_name(&mut conn, "n0").unwrap().unwrap();
    let last = people::find_by_name(&mut conn, "n100001").unwrap().unwrap();
    assert_eq!(
        (first.created_at, first.updated_at),
        (last.created_at, last.updated_at)
    );
    assert_eq!(first.created_at, first.updated_at);
    assert!(first.created_at >= taken.created_at, "{first:?} {taken:?}");
}

/// COPY has a fixed cost per statement (its end drains the pipeline): exactly
/// two batches' worth of names is two COPYs, not a third, empty one.
fn create_many_on_postgres_sends_one_copy_per_100000_names_and_no_empty_one() {
    let db = postgres_db();
    let mut conn = db.connect().unwrap();
    let n = 200_000;
    let (report, statements) = people::statement_log::record(&mut conn, |conn| {
        people::create_many(conn, (0..n).map(|i| format!("n{i}")), OnConflict::Fail)
    });
    assert_eq!(report.unwrap().inserted, n);
    let copies: Vec<_> = statements
        .iter()
        .filter(|s| s.sql.starts_with("COPY "))
        .collect();
    assert_eq!(copies.len(), 2, "{copies:#?}");
    assert_eq!(people::count(&mut conn).unwrap(), n as i64);
}

fn create_many_invalid_name_writes_nothing(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    let names = (0..2500).map(|i| {
        if i == 2400 {
            " bad".to_owned()
        } else {
            format!("ok{i}")
        }
    });
    assert!(matches!(
        people::create_many(&mut conn, names, OnConflict::Skip),
        Err(Error::InvalidName { .. })
    ));
    assert_eq!(people::count(&mut conn).unwrap(), 0);
}

fn transaction_rolls_back_every_write_on_error(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    let result = people::transaction(&mut conn, |conn| {
        people::create(conn, "A")?;
        people::create(conn, "B")?;
        people::create(conn, "A")
    });
    assert!(matches!(result, Err(Error::NameTaken { .. })));
    assert_eq!(people::count(&mut conn).unwrap(), 0);
}

fn a_failed_write_inside_a_transaction_leaves_it_usable(db: &TestDb) {
    // PostgreSQL aborts a transaction after any error unless the failing
    // statement ran in a savepoint: each CRUD write is one.
    let mut conn = db.connect().unwrap();
    people::transaction(&mut conn, |conn| {
        people::create(conn, "A")?;
        assert!(matches!(
            people::create(conn, "A"),
            Err(Error::NameTaken { .. })
        ));
        people::create(conn, "B")
    })
    .unwrap();
    assert_eq!(people::count(&mut conn).unwrap(), 2);
}

fn read_snapshot_sees_one_moment_and_nests_in_a_transaction(db: &TestDb) {
    let mut reader = db.connect().unwrap();
    let mut writer = db.connect().unwrap();
    people::create(&mut writer, "Ann").unwrap();
    let (before, during) = people::read_snapshot(&mut reader, |conn| {
        let before = people::list(conn, None, 10)?;
        people::create(&mut writer, "Bo")?;
        people::rename(&mut writer, before[0].id, "Anna")?;
        Ok::<_, Error>((before, people::list(conn, None, 10)?))
    })
    .unwrap();
    assert_eq!(
        during, before,
        "the second read saw another connection's writes"
    );
    assert_eq!(
        people::count(&mut reader).unwrap(),
        2,
        "and the next one does"
    );
    // Inside a transaction it runs in it and sees that transaction's writes.
    let seen = people::transaction(&mut reader, |conn| {
        people::create(conn, "Cy")?;
        people::read_snapshot(conn, people::count)
    })
    .unwrap();
    assert_eq!(seen, 3);
    if db.backend() == people::Backend::Postgres {
        // READ ONLY: a write inside fails, and the database is unchanged.
        let write = people::read_snapshot(&mut reader, |conn| people::create(conn, "Di"));
        assert!(matches!(write, Err(Error::Database { .. })), "{write:?}");
    }
    assert_eq!(people::count(&mut reader).unwrap(), 3);
}

fn seed_250(conn: &mut people::DbConnection) {
    people::create_many(
        conn,
        (1..=250).map(|i| format!("task {i}")),
        OnConflict::Fail,
    )
    .unwrap();
}

fn paginate_250_rows_gives_13_pages_of_20(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    seed_250(&mut conn);
    let p = people::paginate(&mut conn, &PageRequest::default()).unwrap();
    assert_eq!(
        (
            p.page(),
            p.per_page(),
            p.items().len(),
            p.total(),
            p.pages()
        ),
        (1, 20, 20, 250, 13)
    );
    assert_eq!(p.items()[0].name, "task 1");
    let p = people::paginate(&mut conn, &PageRequest::new(2, 10)).unwrap();
    assert_eq!(
        (p.page(), p.per_page(), p.first(), p.last()),
        (2, 10, 11, 20)
    );
    assert_eq!(p.items()[0].name, "task 11");
    let last = people::paginate(&mut conn, &PageRequest::new(13, 20)).unwrap();
    assert_eq!(
        (
            last.items().len(),
            last.first(),
            last.last(),
            last.has_next()
        ),
        (10, 241, 250, false)
    );
}

fn paginate_applies_max_per_page_and_next_and_prev_keep_it(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    seed_250(&mut conn);
    let capped = PageRequest {
        per_page: 100,
        max_per_page: Some(50),
        ..PageRequest::default()
    };
    assert_eq!(people::paginate(&mut conn, &capped).unwrap().per_page(), 50);

    let request = PageRequest {
        per_page: 110,
        max_per_page: Some(250),
        ..PageRequest::default()
    };
    let p = people::paginate(&mut conn, &request).unwrap();
    assert_eq!((p.page(), p.per_page()), (1, 110));
    let p = p.next(&mut conn).unwrap();
    assert_eq!(
        (p.page(), p.per_page(), p.items()[0].name.as_str()),
        (2, 110, "task 111")
    );
    let p = p.prev(&mut conn).unwrap();
    assert_eq!((p.page(), p.per_page()), (1, 110));
    assert!(matches!(p.prev(&mut conn), Err(Error::InvalidPage { .. })));

    let request = PageRequest {
        page: 2,
        per_page: 100,
        max_per_page: Some(50),
        search: None,
    };
    let p = people::paginate(&mut conn, &request).unwrap();
    assert_eq!(p.prev(&mut conn).unwrap().per_page(), 50);
    assert_eq!(p.next(&mut conn).unwrap().per_page(), 50);
}

fn paginate_refuses_bad_pages(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    seed_250(&mut conn);
    for (page, per_page) in [(0, 20), (-1, 20), (1, 0), (1, -1), (14, 20), (i64::MAX, 20)] {
        let result = people::paginate(&mut conn, &PageRequest::new(page, per_page));
        assert!(
            matches!(result, Err(Error::InvalidPage { .. })),
            "page {page} per_page {per_page}: {result:?}"
        );
    }
}

fn paginate_empty_table_page_1_is_empty_not_an_error(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    let p = people::paginate(&mut conn, &PageRequest::default()).unwrap();
    assert_eq!(
        (p.items().len(), p.total(), p.pages(), p.has_next()),
        (0, 0, 0, false)
    );
    assert!(matches!(p.next(&mut conn), Err(Error::InvalidPage { .. })));
    assert!(matches!(
        people::paginate(&mut conn, &PageRequest::new(2, 20)),
        Err(Error::InvalidPage { .. })
    ));
}

fn paginate_with_search_counts_only_matches(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    seed_250(&mut conn);
    let request = PageRequest {
        per_page: 5,
        search: Some("task 1".into()),
        ..PageRequest::default()
    };
    let p = people::paginate(&mut conn, &request).unwrap();
    // task 1, 10-19, 100-199
    assert_eq!((p.total(), p.pages()), (111, 23));
    assert!(
        p.items()
            .iter()
            .all(|person| person.name.contains("task 1"))
    );
}

fn the_database_refuses_an_81_character_name_written_with_raw_sql(db: &TestDb) {
    use diesel::{ExpressionMethods, RunQueryDsl};
    let mut conn = db.connect().unwrap();
    for (name, should_store) in [
        ("é".repeat(81), false),
        (String::new(), false),
        ("é".repeat(80), true),
    ] {
        let result = diesel::insert_into(people::schema::person::table)
            .values(people::schema::person::name.eq(&name))
            .execute(&mut conn);
        assert_eq!(
            result.is_ok(),
            should_store,
            "{} chars: {result:?}",
            name.chars().count()
        );
    }
    assert_eq!(people::count(&mut conn).unwrap(), 1);
}

/// `paginate_cached` must agree with `paginate` on every page, per_page and
/// search, however the database changes in between: writes on the same
/// connection, writes by another connection, deletes that shift positions.
fn paginate_cached_gives_exactly_the_pages_paginate_gives(db: &TestDb) {
    let mut conn = db.connect().unwrap();
    let mut other = db.connect().unwrap();
    people::create_many(
        &mut conn,
        (1..=137).map(|i| format!("p{i}")),
        OnConflict::Fail,
    )
    .unwrap();
    let mut memo = people::PageMemo::default();
    let check = |conn: &mut people::DbConnection, memo: &mut people::PageMemo, step: &str| {
        for per_page in [1, 7, 20, 50] {
            for search in [None, Some("1".to_owned())] {
                let pages = people::paginate(
                    conn,
                    &PageRequest {
                        search: search.clone(),
                        ..PageRequest::new(1, per_page)
                    },
                )
                .unwrap()
                .pages()
                .max(1);
                // Out of order, and each page twice: the memo is used both ways.
                let order: Vec<i64> = (1..=pages).rev().chain((1..=pages).step_by(3)).collect();
                for page in order {
                    let request = PageRequest {
                        search: search.clone(),
                        ..PageRequest::new(page, per_page)
                    };
                    let plain = people::paginate(conn, &request).unwrap();
                    let cached = people::paginate_cached(conn, &request, memo).unwrap();
                    assert_eq!(
                        cached, plain,
                        "{step}: page {page} of {per_page}, search {search:?}"
                    );
                }
            }
        }
    };
    check(&mut conn, &mut memo, "fresh");
    for id in [1, 2, 50, 51, 99, 137] {
        people::delete(&mut other, id).unwrap();
    }
    check(&mut conn, &mut memo, "after another connection deleted");
    people::create(&mut conn, "p200").unwrap();
    people::delete(&mut conn, 3).unwrap();
    check(&mut conn, &mut memo, "after this connection wrote");
    people::rename(&mut other, 10, "q10").unwrap();
    check(&mut conn, &mut memo, "after a rename elsewhere");
}
