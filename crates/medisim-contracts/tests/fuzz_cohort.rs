//! Bounded fuzz harness over the cohort CSV reader (docs/reliability.md): byte edits of a real
//! generated cohort, with hostile numbers in its cells. Whatever the text: reading never
//! panics, and what reads is estimated or refused with a named reason.

use medisim_contracts::estimate::{estimate, read_cohort, write_cohort, Synthetic};
use medisim_core::fuzz::{mutate, HOSTILE_NUMBERS};
use proptest::prelude::*;

proptest! {
    #[test]
    fn any_cohort_text_is_read_and_estimated_or_refused(
        hostile in proptest::sample::select(HOSTILE_NUMBERS),
        at in any::<usize>(),
        edits in proptest::collection::vec((any::<usize>(), 0u8..4, any::<u8>()), 0..6),
    ) {
        let text = write_cohort(&Synthetic::default().cohort(400, 9));
        // Put a hostile number in place of one cell.
        let cells: Vec<usize> = text.match_indices(',').map(|(i, _)| i + 1).collect();
        let start = cells[at % cells.len()];
        let end = text[start..].find([',', '\n']).map_or(text.len(), |e| start + e);
        let text = format!("{}{}{}", &text[..start], hostile, &text[end..]);
        let bytes = mutate(text.as_bytes(), &edits);
        let text = String::from_utf8_lossy(&bytes);
        match read_cohort(&text, "fuzz.csv") {
            Ok(cohort) => {
                if let Err(e) = estimate(&cohort) {
                    prop_assert!(!e.to_string().is_empty());
                }
            }
            Err(e) => prop_assert!(e.to_string().contains("fuzz.csv"), "{e}"),
        }
    }
}
