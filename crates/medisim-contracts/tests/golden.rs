//! The golden contracts: every model's closed-form contract at the ICP case study's parameters,
//! pinned bit for bit in `tests/snapshots/`. It fails on any change to the models; when the
//! change is intended, bump `MODEL_VERSION` in `src/lib.rs`, add a `CHANGELOG.md` entry marked
//! **model-breaking** and renew the snapshot (`INSTA_UPDATE=always cargo test -p
//! medisim-contracts --test golden`). The version is part of the snapshot.

use medisim_contracts::{solve, Choice, Model, Params, MODEL_VERSION};
use std::fmt::Write;

#[test]
fn every_model_at_the_icp_parameters() {
    let mut text = format!("model {MODEL_VERSION}; Params::ICP; default choices\n");
    for name in Model::NAMES {
        let s = solve(
            Model::by_name(name, &Choice::default()).unwrap(),
            &Params::ICP,
        )
        .unwrap();
        // `{:?}` prints the shortest text that reads back to the same bits.
        writeln!(
            text,
            "{name}: payments {:?}; expected payment {:?}; survival {:?}; IC slack {:?}; solvers agree {}",
            s.closed_form.payments, s.expected_payment, s.survival, s.ic_slack, s.agree
        )
        .unwrap();
    }
    insta::assert_snapshot!(text);
}
