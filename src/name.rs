//! [`PersonName`]: a string that is guaranteed to be a valid person name,
//! and how a user-supplied name is shown in messages.

use std::fmt::{self, Write as _};

use crate::error::{Error, Result};

/// See [`PersonName::MAX_CHARS`].
pub(crate) const MAX_NAME_CHARS: usize = 80;

/// A valid person name: 1 to 80 characters, no control characters, no
/// leading or trailing whitespace.
///
/// Names are never trimmed or otherwise changed: what you give is what is
/// stored, compared exactly and case-sensitively. Once a `PersonName` exists,
/// no other code needs to check it again.
///
/// # Example
/// ```
/// use people::PersonName;
///
/// let name = PersonName::new("Zoë")?;
/// assert_eq!(name.as_str(), "Zoë");
/// assert!(PersonName::new(" Zoë").is_err());
/// assert!(PersonName::new("x".repeat(81)).is_err());
/// # Ok::<(), people::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(transparent))]
pub struct PersonName(String);

impl PersonName {
    /// The most characters (Unicode scalar values, not bytes) a name may
    /// have, matching the `VARCHAR(80)` column and its CHECK constraint.
    pub const MAX_CHARS: usize = MAX_NAME_CHARS;

    /// Validates `name`.
    ///
    /// # Errors
    /// [`Error::InvalidName`] saying which rule the name breaks.
    pub fn new<S: AsRef<str> + Into<String>>(name: S) -> Result<Self> {
        // Check before copying: a 10 MB string is refused without a 10 MB allocation.
        check(name.as_ref()).map_err(|reason| Error::InvalidName { reason })?;
        Ok(PersonName(name.into()))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as an owned `String`.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Checks every rule. Most names are short and ASCII, and an import checks
/// millions of them: one pass over the bytes accepts those, and the rules
/// one by one decide the rest (and say what is wrong).
fn check(name: &str) -> std::result::Result<(), String> {
    if is_valid_ascii(name) {
        return Ok(());
    }
    check_each_rule(name)
}

/// The rules for an all-ASCII name, on its bytes: ASCII's control characters
/// are 0x00–0x1F and 0x7F, and the space is its one whitespace character
/// that is not also a control character.
fn is_valid_ascii(name: &str) -> bool {
    let bytes = name.as_bytes();
    let printable = |b: &u8| (b' '..=b'~').contains(b);
    matches!(
        (bytes.first(), bytes.last()),
        (Some(&first), Some(&last)) if first != b' ' && last != b' '
    ) && bytes.len() <= MAX_NAME_CHARS
        && bytes.iter().all(printable)
}

/// Checks every rule, reading at most `MAX_NAME_CHARS + 1` characters, so a
/// huge input costs no more than a long name.
fn check_each_rule(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        return Err("a name cannot be empty".to_owned());
    }
    for (index, c) in name.chars().enumerate() {
        let position = index + 1;
        if position > MAX_NAME_CHARS {
            return Err(format!(
                "{} is longer than {MAX_NAME_CHARS} characters",
                preview(name)
            ));
        }
        if c.is_control() {
            return Err(format!(
                "{} contains the control character {:?} at position {position}",
                preview(name),
                c
            ));
        }
    }
    let first_is_space = name.chars().next().is_some_and(char::is_whitespace);
    let last_is_space = name.chars().next_back().is_some_and(char::is_whitespace);
    if first_is_space || last_is_space {
        return Err(format!(
            "{} has leading or trailing whitespace",
            preview(name)
        ));
    }
    Ok(())
}

/// `text` as `people` shows it in a message: in double quotes, escaped as a
/// Rust string literal is (quotes, backslashes, and what cannot be seen:
/// controls, bidi and zero-width characters), but with apostrophes and
/// combining marks as typed, so `O'Brien` and a decomposed `José` (as macOS
/// writes it) read as they were written. `{:?}` would escape every
/// combining mark: `"Jose\u{301}"`.
pub(crate) fn quoted(text: &str) -> impl fmt::Display + '_ {
    Quoted(text)
}

struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        // `str::escape_debug` escapes `'` too, and a combining mark only at
        // the start, where it would combine with the quote (or apostrophe)
        // before it.
        for (index, piece) in self.0.split('\'').enumerate() {
            if index > 0 {
                f.write_char('\'')?;
            }
            fmt::Display::fmt(&piece.escape_debug(), f)?;
        }
        f.write_char('"')
    }
}

/// The start of a name for error messages: quoted, escaped, and short.
pub(crate) fn preview(name: &str) -> String {
    preview_at_most(name, 24)
}

/// A user-supplied text as `people` shows it in a message: in double
/// quotes, escaped like a Rust string literal except for apostrophes and
/// combining marks (which read as typed), at most `max_chars` characters of
/// it, and at most `2 * max_chars` once escaped (so a text full of escapes, such
/// as `\u{1c}`, cannot blow up a message), with `…` where it was cut.
///
/// ```
/// assert_eq!(people::name::preview_at_most("Zoë \"Z\"", 80), r#""Zoë \"Z\"""#);
/// assert_eq!(people::name::preview_at_most(&"x".repeat(100), 3), r#""xxx…""#);
/// ```
pub fn preview_at_most(name: &str, max_chars: usize) -> String {
    let mut shown: String = name.chars().take(max_chars).collect();
    let mut cut = shown.len() < name.len();
    loop {
        // Escapes can make it longer; drop characters until it fits.
        let mut quoted = quoted(&shown).to_string();
        if quoted.chars().count() <= 2 * max_chars + 2 || shown.is_empty() {
            if cut {
                quoted.insert(quoted.len() - 1, '…');
            }
            return quoted;
        }
        shown.pop();
        cut = true;
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PersonName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for PersonName {
    type Error = Error;
    fn try_from(name: &str) -> Result<Self> {
        PersonName::new(name)
    }
}

impl TryFrom<&String> for PersonName {
    type Error = Error;
    fn try_from(name: &String) -> Result<Self> {
        PersonName::new(name.as_str())
    }
}

impl TryFrom<String> for PersonName {
    type Error = Error;
    fn try_from(name: String) -> Result<Self> {
        PersonName::new(name)
    }
}

/// Lets a fallible stream of names, such as `formats::read_names` returns,
/// be passed straight to [`create_many`](crate::create_many): the first error
/// aborts the whole batch.
impl TryFrom<Result<PersonName>> for PersonName {
    type Error = Error;
    fn try_from(name: Result<PersonName>) -> Result<Self> {
        name
    }
}

impl From<PersonName> for String {
    fn from(name: PersonName) -> Self {
        name.0
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for PersonName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        PersonName::new(name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(name: &str) -> String {
        match PersonName::new(name) {
            Err(Error::InvalidName { reason }) => reason,
            other => panic!("{name:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn accepts_ordinary_and_unicode_names() {
        for name in [
            "Alice",
            "a",
            "Zoë Ångström",
            "李小龍",
            "O'Brien; DROP TABLE person;--",
            "50% _off_ \\",
        ] {
            assert_eq!(PersonName::new(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn eighty_multibyte_characters_are_accepted_and_eighty_one_refused() {
        let eighty = "é".repeat(80);
        assert_eq!(eighty.len(), 160);
        assert!(PersonName::new(eighty.as_str()).is_ok());
        assert!(reason(&"é".repeat(81)).contains("longer than 80 characters"));
    }

    #[test]
    fn empty_is_refused() {
        assert_eq!(reason(""), "a name cannot be empty");
    }

    #[test]
    fn whitespace_at_either_end_is_refused_never_trimmed() {
        for name in [" Alice", "Alice ", "\u{3000}Alice", "Alice\u{a0}", " "] {
            assert!(reason(name).contains("whitespace"), "{name:?}");
        }
        assert!(PersonName::new("Mary Ann").is_ok());
    }

    #[test]
    fn control_characters_are_refused() {
        for name in [
            "a\nb",
            "a\rb",
            "a\tb",
            "a\0b",
            "a\u{7f}b",
            "a\u{85}b",
            "\u{1b}[31mred",
        ] {
            assert!(reason(name).contains("control character"), "{name:?}");
        }
    }

    /// The byte-wise fast path says yes to exactly the ASCII names the
    /// rules accept: every ASCII byte alone, first, inside and last, and
    /// the lengths around the limit.
    #[test]
    fn the_ascii_fast_path_agrees_with_the_rules() {
        let mut names = vec![String::new(), "x".repeat(80), "x".repeat(81)];
        for byte in 0..=0x7f_u8 {
            let c = char::from(byte);
            names.extend([
                format!("{c}"),
                format!("{c}a"),
                format!("a{c}b"),
                format!("ab{c}"),
            ]);
            names.push(format!("{}{c}", "x".repeat(79)));
            names.push(format!("{}{c}", "x".repeat(80)));
        }
        let mut accepted = 0;
        for name in &names {
            let by_rules = check_each_rule(name).is_ok();
            assert_eq!(is_valid_ascii(name), by_rules, "{name:?}");
            accepted += usize::from(by_rules);
        }
        // Both answers occur: 95 printable bytes, each in most of the shapes.
        assert!(
            accepted > 400 && accepted < names.len(),
            "{accepted} of {}",
            names.len()
        );
        assert!(!is_valid_ascii("Zoë"), "not ASCII: the rules decide");
        assert!(check("Zoë").is_ok());
    }

    #[test]
    fn escapes_do_not_blow_up_the_message() {
        // Found by `cargo fuzz run name`: 24 control characters escape to 144 bytes.
        let reason = reason(&"\u{1}".repeat(100));
        assert!(reason.chars().count() < 120, "{reason}");
        assert_eq!(preview("a\"b"), r#""a\"b""#);
    }

    #[test]
    fn long_input_is_previewed_not_echoed() {
        let huge = "x".repeat(10_000_000);
        let reason = reason(&huge);
        assert!(reason.len() < 100, "{reason}");
    }

    #[test]
    fn names_are_quoted_as_typed_but_what_cannot_be_seen_is_escaped() {
        for (text, shown) in [
            ("Jose\u{301}", "\"Jose\u{301}\""),
            ("O'Brien", r#""O'Brien""#),
            (
                "\u{1f468}\u{200d}\u{1f469}",
                "\"\u{1f468}\\u{200d}\u{1f469}\"",
            ),
            ("Zoë \"Z\" C:\\", r#""Zoë \"Z\" C:\\""#),
            ("\u{202e}gnp.exe", r#""\u{202e}gnp.exe""#),
            ("a\u{a0}b\u{2028}c", r#""a\u{a0}b\u{2028}c""#),
            // A mark at the start would combine with the quote before it.
            ("\u{301}x", r#""\u{301}x""#),
            ("d'\u{301}x", r#""d'\u{301}x""#),
        ] {
            assert_eq!(quoted(text).to_string(), shown, "{text:?}");
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<PersonName>("\"Bob\"").is_ok());
        assert!(serde_json::from_str::<PersonName>("\" Bob\"").is_err());
    }
}
