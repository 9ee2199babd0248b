//! Mistakes in typed commands do not compile: a missing required argument, a wrong
//! argument type, a misspelled argument, expecting the wrong reply type.
//! Refresh the expected messages with `TRYBUILD=overwrite cargo test --test compile_fail`.

#[test]
fn typed_mistakes_do_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
