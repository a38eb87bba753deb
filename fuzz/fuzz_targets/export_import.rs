//! Any set of valid names, exported in any format with any timestamps and
//! imported again, comes back exactly, in order.
#![no_main]

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use people::formats::{Format, PersonWriter};
use people::{Person, PersonName};

/// Microseconds from 1970 to the end of year 9999: what RFC 3339 can write.
const TIMESTAMP_RANGE: u64 = 253_402_300_800_000_000;

fuzz_target!(|input: (u8, u64, Vec<String>)| {
    let (selector, micros, names) = input;
    let Some(time) = DateTime::from_timestamp_micros((micros % TIMESTAMP_RANGE) as i64) else {
        return;
    };
    let format = match selector % 3 {
        0 => Format::Lines,
        1 => Format::Csv,
        _ => Format::Json,
    };
    let names: Vec<String> = names
        .into_iter()
        .filter(|n| PersonName::new(n.as_str()).is_ok())
        .collect();
    let mut out = Vec::new();
    let mut writer = PersonWriter::new(&mut out, format).unwrap();
    for (id, name) in names.iter().enumerate() {
        writer
            .write(&Person {
                id: id as i32,
                name: name.clone(),
                created_at: time,
                updated_at: time,
            })
            .unwrap();
    }
    writer.finish().unwrap();
    let back: Vec<String> = people::formats::read_names(std::io::Cursor::new(out), format)
        .map(|name| name.unwrap().into_string())
        .collect();
    assert_eq!(back, names);
});
