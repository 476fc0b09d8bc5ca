//! Bounded fuzz harness over the edit-reply reader (a model's reply is the most untrusted
//! input there is): byte edits of real replies — SEARCH/REPLACE blocks, full rewrites, prose,
//! fenced code — applied to a shipped policy. Whatever the reply, `edit_and_check` returns a
//! child that checks or a failure whose report is bounded; it never panics.

mod common;

use common::hospital;
use medisim_dsl::patch::{edit_and_check, EditFailure, MAX_REPORTED};
use proptest::prelude::*;

const PARENT: &str = include_str!("../../../policies/library/neutral.policy");

fn replies() -> Vec<String> {
    vec![
        "Lower alpha.\n<<<<<<< SEARCH\nalpha = 0.5\n=======\nalpha = 0.42\n>>>>>>> REPLACE\n".into(),
        "<<<<<<< SEARCH\nbeta = 0.5\n=======\nbeta = clip(0.5 + 0.1 * I(wbar > 2), 0, 1)\n>>>>>>> REPLACE\n<<<<<<< SEARCH\nkappa = 2\n=======\nkappa = 3\n>>>>>>> REPLACE\n".into(),
        format!("Here is the whole policy:\n```policy\n{PARENT}```\n"),
        "I would lower alpha and raise the audit rate.".into(),
        "```python\ndef f(x):\n    return x\n```".into(),
        "<<<<<<< SEARCH\nno such line\n=======\nalpha = 1\n>>>>>>> REPLACE\n".into(),
        format!("<<<<<<< SEARCH\nalpha = 0.5\n=======\nalpha = {}\n>>>>>>> REPLACE\n", "$ ".repeat(2000)),
    ]
}

proptest! {
    #[test]
    fn any_reply_gives_a_checked_child_or_a_bounded_failure(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<usize>(), 0u8..4, any::<u8>()), 0..8),
    ) {
        let seeds = replies();
        let bytes = medisim_core::fuzz::mutate(seeds[which.index(seeds.len())].as_bytes(), &edits);
        let reply = String::from_utf8_lossy(&bytes);
        match edit_and_check(hospital(), PARENT, &reply) {
            Ok((text, policy)) => {
                prop_assert!(common::load(&text).is_ok());
                prop_assert_eq!(common::load(&text).unwrap().canonical_hash(), policy.canonical_hash());
            }
            Err(e @ EditFailure::Check { .. }) => {
                let report = e.to_string();
                prop_assert!(report.lines().count() <= MAX_REPORTED + 2, "{report}");
            }
            Err(EditFailure::Patch(_)) => {}
        }
    }
}
