//! Assertions on a finished `people` process: success, one-line errors,
//! usage errors, and never a panic.

use std::process::Output;

/// Fails if the output shows any sign of a Rust panic.
#[track_caller]
pub(crate) fn assert_no_panic(output: &Output) {
    for stream in [&output.stderr, &output.stdout] {
        let text = String::from_utf8_lossy(stream);
        for sign in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
            assert!(!text.contains(sign), "a panic: {text}");
        }
    }
    // A panic in main exits 101; an abort or a signal has no code at all.
    assert!(
        output.status.code().is_some_and(|code| code != 101),
        "died: {:?}; stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Asserts success and an empty stderr; returns stdout.
#[track_caller]
pub(crate) fn succeeded(output: &Output) -> String {
    assert_no_panic(output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "expected success, got {:?}; stderr: {stderr}",
        output.status
    );
    assert!(
        stderr.is_empty(),
        "expected an empty stderr, got {stderr:?}"
    );
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

/// Asserts exit code 1, an empty stdout, no panic, and exactly one stderr
/// line that starts with `error: `; returns that line without its newline.
#[track_caller]
pub(crate) fn one_line_error(output: &Output) -> String {
    assert_no_panic(output);
    let stderr = String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8");
    assert_eq!(output.status.code(), Some(1), "exit code; stderr: {stderr}");
    assert!(
        output.stdout.is_empty(),
        "expected an empty stdout, got {:?}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        stderr.starts_with("error: ") && stderr.ends_with('\n') && stderr.lines().count() == 1,
        "expected one `error: ` line, got {stderr:?}"
    );
    stderr.trim_end_matches('\n').to_owned()
}

/// Like [`one_line_error`], but stdout may hold what a streaming command
/// printed before it failed.
#[track_caller]
pub(crate) fn one_line_error_after_output(output: &Output) -> String {
    let mut without_stdout = output.clone();
    without_stdout.stdout.clear();
    one_line_error(&without_stdout)
}

/// Asserts a usage error: exit code 2, an empty stdout, no panic, stderr
/// starting with `error: `; returns the first line.
#[track_caller]
pub(crate) fn usage_error(output: &Output) -> String {
    assert_no_panic(output);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "exit code; stderr: {stderr}");
    assert!(output.stdout.is_empty(), "expected an empty stdout");
    assert!(stderr.starts_with("error: "), "{stderr:?}");
    stderr.lines().next().unwrap_or_default().to_owned()
}

/// Either a success with an empty stderr (`Ok(stdout)`) or a one-line error
/// with exit code 1 (`Err(line)`); anything else fails the test.
#[track_caller]
pub(crate) fn clean_outcome(output: &Output) -> Result<String, String> {
    if output.status.success() {
        Ok(succeeded(output))
    } else {
        Err(one_line_error(output))
    }
}
