//! Diagnostics that a corpus file cannot hold (bytes that are not UTF-8). The wording and
//! placement of every other diagnostic is pinned by the data-driven corpus, `tests/corpus.rs`.

use medisim_dsl::check::decode;

const HEAD: &str = "kind = \"hospital_policy\"\nversion = \"medisim_dsl_v1\"\nname = \"t\"\n";

#[test]
fn non_utf8_bytes_are_located() {
    let mut bytes = format!("{HEAD}[admin_policy]\nalpha = 0.5 # caf").into_bytes();
    bytes.extend_from_slice(&[0xe9, b'\n']);
    let (lossy, d) = decode(&bytes).unwrap_err();
    insta::assert_snapshot!(d.render("latin1.policy", &lossy));
}
