//! Bounded fuzz harness over the LLM reply reader: byte edits of real chat-completions bodies,
//! with hostile numbers in the usage counts. Whatever the body, `parse_reply` returns the text
//! and counts within range, or the reason it cannot; it never panics.

use medisim_core::fuzz::{mutate, HOSTILE_NUMBERS};
use medisim_search::llm::{parse_reply, MAX_USAGE_TOKENS};
use proptest::prelude::*;

fn bodies(n: &str) -> Vec<String> {
    vec![
        format!(
            r#"{{"choices":[{{"message":{{"role":"assistant","content":"<<<<<<< SEARCH\nalpha = 0.5\n=======\nalpha = 0.4\n>>>>>>> REPLACE"}}}}],"usage":{{"prompt_tokens":{n},"completion_tokens":30}}}}"#
        ),
        format!(r#"{{"choices":[],"usage":{{"prompt_tokens":1,"completion_tokens":{n}}}}}"#),
        r#"{"error":{"message":"slow down"}}"#.to_string(),
        format!(r#"{{"choices":[{{"message":{{"content":{n}}}}}]}}"#),
    ]
}

proptest! {
    #[test]
    fn any_reply_body_parses_within_range_or_is_a_failure(
        which in 0usize..4,
        hostile in proptest::sample::select(HOSTILE_NUMBERS),
        edits in proptest::collection::vec((any::<usize>(), 0u8..4, any::<u8>()), 0..6),
    ) {
        let body = mutate(bodies(hostile)[which].as_bytes(), &edits);
        match parse_reply(&body) {
            Ok(r) => {
                prop_assert!(r.prompt_tokens <= MAX_USAGE_TOKENS);
                prop_assert!(r.completion_tokens <= MAX_USAGE_TOKENS);
            }
            Err(reason) => prop_assert!(!reason.is_empty()),
        }
    }
}
