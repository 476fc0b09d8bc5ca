//! A bounded fuzz harness over check → format → reparse, run by CI on every commit (the
//! machine's stable toolchain cannot build cargo-fuzz targets, so this is proptest over the
//! same path). Seeds are every policy the project ships and every corpus case; each case
//! applies a few byte edits (delete, insert, replace, cut a run). Whatever the bytes:
//!
//! - decoding, checking and rendering never panic, and every diagnostic points inside the source;
//! - a source that checks formats to a fixed point of the formatter that is the same program
//!   (same canonical hash), and compiles and evaluates to finite outputs.
//!
//! It runs proptest's default 256 cases per commit;
//! `PROPTEST_CASES=100000 cargo test -p medisim-dsl --test fuzz_check_format` runs it longer.

mod common;

use common::check_source;
use medisim_dsl::check::decode;
use medisim_dsl::fmt::format_source;
use proptest::prelude::*;

fn seeds() -> Vec<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let mut out = Vec::new();
    for dir in [
        "policies",
        "policies/library",
        "policies/discovered",
        "crates/medisim-dsl/tests/data/diagnostics",
        "crates/medisim-dsl/tests/data/fmt",
    ] {
        let mut paths: Vec<_> = std::fs::read_dir(format!("{root}/{dir}"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "policy"))
            .collect();
        paths.sort();
        out.extend(paths.iter().map(|p| std::fs::read_to_string(p).unwrap()));
    }
    assert!(out.len() > 30, "the harness has its seeds");
    out
}

fn hospital_scopes() -> Vec<medisim_dsl::ScopeId> {
    common::hospital().scope_ids().collect()
}

proptest! {
    #[test]
    fn check_format_reparse_holds_for_any_bytes(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<usize>(), 0u8..4, any::<u8>()), 0..6),
    ) {
        let seeds = seeds();
        let bytes = medisim_core::fuzz::mutate(seeds[which.index(seeds.len())].as_bytes(), &edits);
        let src = match decode(&bytes) {
            Ok(src) => src,
            Err((lossy, d)) => {
                prop_assert!(d.span.end <= lossy.len());
                let _ = d.render("fuzz.policy", &lossy);
                return Ok(());
            }
        };
        let out = check_source(src);
        for d in out.errors() {
            prop_assert!(d.span.start <= d.span.end && d.span.end <= src.len());
            let _ = d.render("fuzz.policy", src);
        }
        if let Some(policy) = out.policy {
            let formatted = format_source(src).expect("a policy that checks formats");
            prop_assert_eq!(format_source(&formatted).unwrap(), formatted.clone());
            let again = common::load(&formatted).expect("formatted text checks");
            prop_assert_eq!(again.canonical_hash(), policy.canonical_hash());
            let compiled = medisim_dsl::CompiledPolicy::new(&policy);
            for scope in hospital_scopes() {
                let block = compiled.block(scope);
                let mut frame = block.frame();
                block.eval(&mut frame);
                for i in 0..block.fields().len() {
                    prop_assert!(block.output(&frame, i).is_finite());
                }
            }
        }
    }
}
