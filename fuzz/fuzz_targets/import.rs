//! Any bytes in any import format: the reader never panics, yields only
//! valid names, and its errors are one line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use people::PersonName;
use people::formats::Format;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let format = match selector % 3 {
        0 => Format::Lines,
        1 => Format::Csv,
        _ => Format::Json,
    };
    for item in
        people::formats::read_names(std::io::Cursor::new(input.to_vec()), format).take(100_000)
    {
        match item {
            Ok(name) => assert!(PersonName::new(name.as_str()).is_ok()),
            Err(error) => {
                let message = error.to_string();
                assert!(!message.contains('\n'), "{message:?}");
            }
        }
    }
});
