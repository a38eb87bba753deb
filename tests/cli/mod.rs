//! The `people` binary end to end: every command, its exact output, its
//! errors (one `error: …` line, exit 1) and usage errors (exit 2), the
//! import/export round trip, and where the database URL comes from. One
//! module per group of commands; each run gets an empty current directory
//! and no inherited DATABASE_URL (`support::Runner`).

mod add;
mod arguments;
mod export;
mod import;
mod modify;
mod read;
#[cfg(feature = "serve")]
mod serve;
mod urls;

/// Every CLI test, for the harness.
pub(crate) fn tests() -> Vec<crate::support::harness::Test> {
    let mut tests: Vec<_> = [
        arguments::tests(),
        add::tests(),
        read::tests(),
        modify::tests(),
        import::tests(),
        export::tests(),
        urls::tests(),
    ]
    .into_iter()
    .flatten()
    .collect();
    #[cfg(feature = "serve")]
    tests.extend(serve::tests());
    tests
}

/// `ID<TAB>NAME` lines for names stored with ids 1, 2, 3…
pub(crate) fn rows<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| format!("{}\t{}\n", i + 1, name.as_ref()))
        .collect()
}

/// The names in a JSON export, in order.
pub(crate) fn json_names(export: &str) -> Vec<String> {
    let people: Vec<serde_json::Value> = serde_json::from_str(export).expect("export is JSON");
    people
        .iter()
        .map(|p| p["name"].as_str().expect("name is a string").to_owned())
        .collect()
}

/// Names that are hard to store, quote, escape and compare, all valid.
pub(crate) fn awkward_names() -> Vec<String> {
    [
        // First, so that it is the first line of a `lines` file.
        "\u{feff}starts with a byte order mark",
        "Doe, John",
        "\"Quoted\" O'Brien",
        "\"",
        "ends with a backslash\\",
        r#"\"escaped\" \n not a newline"#,
        "50% _off_",
        "%",
        "_",
        "\u{1f469}\u{200d}\u{1f469}\u{200d}\u{1f467}\u{200d}\u{1f466} family",
        "\u{1f1fa}\u{1f1e6}\u{1f3f3}\u{fe0f}\u{200d}\u{1f308}",
        "\u{1f44d}\u{1f3fd}",
        "Zo\u{eb}",
        "Zoe\u{308}",
        "a\u{301}\u{302}\u{303}\u{304} stacked accents",
        "\u{202e}evil\u{202c}.txt",
        "Robert'); DROP TABLE person;--",
        "' OR '1'='1",
        "\"; DELETE FROM person; --",
        "x' || (SELECT string_agg(name, ',') FROM person) || '",
        "-starts with a dash",
        "--database-url",
        "id,name",
        "name",
        "null",
        "[{\"id\":1,\"name\":\"x\"}]",
        "=HYPERLINK(\"http://example.com\")",
        "a\u{2028}b\u{2029}c",
        "ideographic\u{3000}space",
        "Mary  Ann",
        "\u{200b}zero width space",
        "李小龍",
        "مرحبا بالعالم",
        "alice",
        "Alice",
        "ALICE",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(["é".repeat(80), "𝄞".repeat(80), "x".repeat(80)])
    .collect()
}
