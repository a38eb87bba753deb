//! RELIABILITY.md names the test behind every scenario; this keeps it true.

crate::support::tests! {
    plain {
        every_test_named_in_the_reliability_report_is_registered,
    }
}

fn every_test_named_in_the_reliability_report_is_registered() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let report = std::fs::read_to_string(root.join("RELIABILITY.md")).unwrap();
    let registered: Vec<String> = crate::all_tests()
        .iter()
        .map(|test| test.name().to_owned())
        .collect();
    let mut named = 0;
    let mut missing = Vec::new();
    for span in report.split('`').skip(1).step_by(2) {
        // `module::test_name`, where module is a module of this test binary;
        // it may stand for the sqlite::/postgres:: variants of a test.
        let Some((module, test)) = span.split_once("::") else {
            continue;
        };
        let tests = root.join("tests");
        let is_module = tests.join(format!("{module}.rs")).exists()
            || tests.join(module).join("mod.rs").exists();
        if test.contains(':') || !is_module {
            continue;
        }
        named += 1;
        let found = registered.iter().any(|name| {
            name.starts_with(&format!("{module}::")) && name.ends_with(&format!("::{test}"))
        });
        if !found {
            missing.push(span.to_owned());
        }
    }
    assert!(named >= 60, "only {named} tests named in RELIABILITY.md");
    assert!(
        missing.is_empty(),
        "RELIABILITY.md names tests that are not registered: {missing:?}"
    );
}
