//! RELIABILITY.md names the test behind every scenario; this keeps it true.

#[test]
fn every_test_named_in_the_reliability_report_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let report = std::fs::read_to_string(root.join("RELIABILITY.md")).unwrap();
    let mut named = 0;
    let mut missing = Vec::new();
    for span in report.split('`').skip(1).step_by(2) {
        // `module::test_name`, where module is a file in tests/.
        let Some((module, test)) = span.split_once("::") else {
            continue;
        };
        let file = root.join("tests").join(format!("{module}.rs"));
        if test.contains(':') || !file.exists() {
            continue;
        }
        named += 1;
        let source = std::fs::read_to_string(&file).unwrap();
        if !source.contains(&format!("fn {test}(")) {
            missing.push(span.to_owned());
        }
    }
    assert!(named >= 60, "only {named} tests named in RELIABILITY.md");
    assert!(
        missing.is_empty(),
        "RELIABILITY.md names tests that do not exist: {missing:?}"
    );
}
