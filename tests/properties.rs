//! Property tests: any valid name round-trips exactly through create, get,
//! export and import; any invalid one is refused with nothing written.

use crate::support::*;
use people::formats::{Format, PersonWriter, read_names};
use people::{OnConflict, PersonName};
use proptest::prelude::*;

/// Characters that have broken name handling elsewhere: separators, quotes,
/// escapes, LIKE wildcards, combining marks, bidi overrides, emoji parts.
const AWKWARD: &[char] = &[
    ',', '"', '\'', '\\', '%', '_', ' ', ';', '\u{202e}', '\u{301}', 'é', '\u{200d}', '😀',
    '\u{fe0f}', '李', '\u{a0}',
];

fn name_char() -> impl Strategy<Value = char> {
    prop_oneof![3 => any::<char>(), 2 => prop::sample::select(AWKWARD)]
}

fn valid_name() -> impl Strategy<Value = String> {
    prop::collection::vec(name_char(), 1..=80)
        .prop_map(|chars| chars.into_iter().collect::<String>())
        .prop_filter("a valid name", |name| {
            PersonName::new(name.as_str()).is_ok()
        })
}

fn invalid_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        prop::collection::vec(name_char(), 81..=120).prop_map(|c| c.into_iter().collect()),
        (
            valid_name(),
            prop::sample::select(&[' ', '\t', '\u{3000}'][..])
        )
            .prop_map(|(n, s)| format!("{s}{n}")),
        (
            valid_name(),
            prop::sample::select(&[' ', '\u{a0}', '\u{2028}'][..])
        )
            .prop_map(|(n, s)| format!("{n}{s}")),
        (
            valid_name(),
            prop::sample::select(&['\n', '\r', '\0', '\u{1b}', '\u{7f}', '\u{9b}'][..])
        )
            .prop_map(|(n, c)| format!("a{c}{n}")),
    ]
}

fn export(conn: &mut people::DbConnection, format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer = PersonWriter::new(&mut out, format).unwrap();
    for person in people::list(conn, None, i64::MAX).unwrap() {
        writer.write(&person).unwrap();
    }
    writer.finish().unwrap();
    out
}

crate::support::tests! {
    plain {
        valid_names_round_trip_through_create_get_export_and_import,
        invalid_names_are_refused_and_nothing_is_written,
        sqlite_timestamps_are_read_as_diesel_reads_them,
        sqlite_timestamps_are_written_as_diesel_writes_them,
    }
}

/// 200 cases each; no failure-persistence file (proptest looks for it next
/// to lib.rs, which this harness does not have): a failure prints its seed.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn valid_names_round_trip_through_create_get_export_and_import() {
    proptest!(config(), |(names in prop::collection::hash_set(valid_name(), 1..4))| {
        let db = TestDb::sqlite().unwrap();
        let mut conn = db.connect().unwrap();
        for name in &names {
            let stored = people::create(&mut conn, name.as_str()).unwrap();
            prop_assert_eq!(&people::get(&mut conn, stored.id).unwrap().name, name);
        }
        for format in [Format::Lines, Format::Csv, Format::Json] {
            let bytes = export(&mut conn, format);
            let mut copy = people::init(":memory:").unwrap();
            let report = people::create_many(&mut copy, read_names(std::io::Cursor::new(bytes), format), OnConflict::Fail)
                .unwrap();
            prop_assert_eq!(report.inserted as usize, names.len());
            let copied: std::collections::HashSet<String> =
                people::list(&mut copy, None, 100).unwrap().into_iter().map(|p| p.name).collect();
            prop_assert_eq!(&copied, &names, "format {:?}", format);
        }
    });
}

fn invalid_names_are_refused_and_nothing_is_written() {
    proptest!(config(), |(name in invalid_name())| {
        let mut conn = people::init(":memory:").unwrap();
        people::create(&mut conn, "existing").unwrap();
        let refused = matches!(people::create(&mut conn, name.as_str()), Err(people::Error::InvalidName { .. }));
        prop_assert!(refused, "{:?} was not refused", name);
        let batch = matches!(
            people::create_many(&mut conn, ["fine", name.as_str()], OnConflict::Skip),
            Err(people::Error::InvalidName { .. })
        );
        prop_assert!(batch);
        prop_assert_eq!(people::count(&mut conn).unwrap(), 1);
    });
}

/// Text that looks like a timestamp, or almost: digits in and out of range,
/// fractions of 0 to 11 digits, and one character changed, dropped or added
/// where the form is strict.
fn timestamp_like_text() -> impl Strategy<Value = String> {
    let two = || 0_u32..100;
    let stamp = (
        0_u32..10_000,
        two(),
        two(),
        two(),
        two(),
        two(),
        prop::option::of("[0-9]{0,11}"),
    )
        .prop_map(|(y, mo, d, h, mi, s, fraction)| {
            let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}{fraction}")
        });
    let awkward = prop::sample::select(
        &[
            '-', ' ', ':', '.', 'T', 'Z', '+', '0', '9', 'a', '\u{e9}', '\u{660}',
        ][..],
    );
    prop_oneof![
        2 => stamp.clone(),
        1 => (stamp.clone(), any::<prop::sample::Index>(), awkward.clone()).prop_map(|(s, at, c)| {
            let mut chars: Vec<char> = s.chars().collect();
            let at = at.index(chars.len());
            chars[at] = c;
            chars.into_iter().collect()
        }),
        1 => (stamp.clone(), any::<prop::sample::Index>()).prop_map(|(s, at)| {
            let mut chars: Vec<char> = s.chars().collect();
            chars.remove(at.index(chars.len()));
            chars.into_iter().collect()
        }),
        1 => (stamp, any::<prop::sample::Index>(), awkward).prop_map(|(s, at, c)| {
            let mut chars: Vec<char> = s.chars().collect();
            let at = at.index(chars.len() + 1);
            chars.insert(at, c);
            chars.into_iter().collect()
        }),
    ]
}

/// `Person`'s timestamps are read on SQLite by people's own one-pass parser
/// where the text has the form Diesel writes; whatever the text, the result
/// (time or error) is the one Diesel's own `NaiveDateTime` parser gives.
fn sqlite_timestamps_are_read_as_diesel_reads_them() {
    use diesel::dsl::sql;
    use diesel::prelude::*;
    use diesel::sql_types::{Text, Timestamp};
    use people::models::UtcTimestamp;
    // A RefCell: proptest's body is a `Fn`.
    let conn = std::cell::RefCell::new(diesel::SqliteConnection::establish(":memory:").unwrap());
    let read = |text: &str| {
        let conn = &mut *conn.borrow_mut();
        let value = || {
            sql::<Timestamp>("CAST(")
                .bind::<Text, _>(text.to_owned())
                .sql(" AS TEXT)")
        };
        let ours = diesel::select(value()).get_result::<UtcTimestamp>(conn);
        let diesels = diesel::select(value()).get_result::<chrono::NaiveDateTime>(conn);
        (
            ours.ok().map(chrono::DateTime::<chrono::Utc>::from),
            diesels.ok().map(|t| t.and_utc()),
        )
    };
    for text in [
        "2026-11-27 09:30:00",
        "2026-11-27 09:30:00.5",
        "2026-11-27 09:30:00.123456789",
    ] {
        let (ours, diesels) = read(text);
        assert!(ours.is_some(), "{text:?} was not read");
        assert_eq!(ours, diesels, "{text:?}");
    }
    proptest!(ProptestConfig { cases: 2000, ..config() }, |(text in timestamp_like_text())| {
        let (ours, diesels) = read(&text);
        prop_assert_eq!(ours, diesels, "{:?}", text);
    });
}

/// Any time chrono holds, weighted towards the fractions people stores:
/// none, whole milliseconds, whole microseconds, any nanosecond, and leap
/// seconds; years from before 0 to after 9999.
fn any_time() -> impl Strategy<Value = chrono::NaiveDateTime> {
    let fraction = prop_oneof![
        Just(0_u32),
        (0_u32..1_000).prop_map(|ms| ms * 1_000_000),
        (0_u32..1_000_000).prop_map(|us| us * 1_000),
        0_u32..1_000_000_000,
        1_000_000_000_u32..2_000_000_000,
    ];
    (-500_i32..10_500, 1_u32..=366, 0_u32..86_400, fraction).prop_filter_map(
        "a real date and time",
        |(year, day, second, nano)| {
            let date = chrono::NaiveDate::from_yo_opt(year, day)?;
            let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(second, nano)?;
            Some(date.and_time(time))
        },
    )
}

/// New times are written on SQLite by people's own formatter; whatever the
/// time, the text stored is the text Diesel's `NaiveDateTime` writes.
fn sqlite_timestamps_are_written_as_diesel_writes_them() {
    use diesel::dsl::sql;
    use diesel::prelude::*;
    use diesel::sql_types::{Text, Timestamp};
    use people::models::{UtcTimestamp, format_sqlite_timestamp};
    let conn = std::cell::RefCell::new(diesel::SqliteConnection::establish(":memory:").unwrap());
    let stored = |at: chrono::NaiveDateTime| {
        let conn = &mut *conn.borrow_mut();
        let ours = diesel::select(
            sql::<Text>("CAST(")
                .bind::<Timestamp, _>(UtcTimestamp::from(at.and_utc()))
                .sql(" AS TEXT)"),
        )
        .get_result::<String>(conn)
        .unwrap();
        let diesels = diesel::select(
            sql::<Text>("CAST(")
                .bind::<Timestamp, _>(at)
                .sql(" AS TEXT)"),
        )
        .get_result::<String>(conn)
        .unwrap();
        (ours, diesels)
    };
    for text in [
        "2026-11-27 09:30:00",
        "2026-11-27 09:30:00.250",
        "0001-01-01 00:00:00.000000001",
    ] {
        let at = people::models::parse_sqlite_timestamp(text.as_bytes()).unwrap();
        assert_eq!(format_sqlite_timestamp(at), text);
        let (ours, diesels) = stored(at);
        assert_eq!((ours.as_str(), diesels.as_str()), (text, text));
    }
    proptest!(ProptestConfig { cases: 2000, ..config() }, |(at in any_time())| {
        let (ours, diesels) = stored(at);
        prop_assert_eq!(ours, diesels, "{:?}", at);
    });
}
