//! Any string: `PersonName::new` accepts exactly the names the rules allow,
//! unchanged, and refuses the rest with a one-line reason.
#![no_main]

use libfuzzer_sys::fuzz_target;
use people::{Error, PersonName};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let chars = text.chars().count();
    let valid = (1..=80).contains(&chars)
        && !text.chars().any(char::is_control)
        && !text.starts_with(char::is_whitespace)
        && !text.ends_with(char::is_whitespace);
    match PersonName::new(text) {
        Ok(name) => {
            assert!(valid, "accepted {text:?}");
            assert_eq!(name.as_str(), text);
        }
        Err(Error::InvalidName { reason }) => {
            assert!(!valid, "refused {text:?}: {reason}");
            assert!(
                !reason.contains('\n') && reason.chars().count() < 200,
                "{reason:?}"
            );
        }
        Err(other) => panic!("unexpected error {other:?}"),
    }
});
