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
