//! Every unsupported construct gives a compile error spanned on the user's code; these cases
//! pin each message. Regenerate the .stderr files with `TRYBUILD=overwrite cargo test -p grad-tests --test ui`
//! and review the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
