//! Any set of valid names, exported in any format and imported again, comes
//! back exactly, in order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use people::formats::{Format, PersonWriter};
use people::{Person, PersonName};

fuzz_target!(|input: (u8, Vec<String>)| {
    let (selector, names) = input;
    let format = match selector % 3 {
        0 => Format::Lines,
        1 => Format::Csv,
        _ => Format::Json,
    };
    let names: Vec<String> = names.into_iter().filter(|n| PersonName::new(n.as_str()).is_ok()).collect();
    let mut out = Vec::new();
    let mut writer = PersonWriter::new(&mut out, format).unwrap();
    for (id, name) in names.iter().enumerate() {
        writer.write(&Person { id: id as i32, name: name.clone() }).unwrap();
    }
    writer.finish().unwrap();
    let back: Vec<String> = people::formats::read_names(std::io::Cursor::new(out), format)
        .map(|name| name.unwrap().into_string())
        .collect();
    assert_eq!(back, names);
});
