//! # medisim-search: policy-as-code search (layer L3)
//!
//! Owns the search for policy programs that maximise the safety-penalised fitness of Eq. 8
//! (paper §4, §5.3, Algorithm A.2, Appendices J–K): islands with ring migration and elitism, a
//! MAP-Elites archive over channel diagnostics, a short-rollout screen, selection on validation
//! seeds and one final evaluation on held-out seeds. Edit operators are offline (constant,
//! indicator, clip and crossover edits that always produce valid programs) or an LLM over any
//! OpenAI-compatible endpoint ([`llm`]); every candidate is checked by the language before it
//! runs.
//!
//! Generic over the model and its schema through [`domain::Domain`]; Medi-Sim's domain is
//! [`hospital::Hospital`]. Imports `medisim-dsl` (programs, hashes, patches) and, in the
//! hospital domain only, `medisim-sim`. Every run
//! lives in a directory with an SQLite store ([`store`]) of programs, evaluations and LLM calls
//! and a JSONL event log. The loop is a deterministic function of (config, iteration): iteration
//! k draws from its own PCG64 stream, and every evaluation and LLM response is read back from
//! the store when present, so a resumed run follows the same path and loses no finished work.

pub mod ablation;
pub mod benchmark;
pub mod config;
pub mod domain;
pub mod evaluate;
pub mod hospital;
pub mod llm;
pub mod monitor;
pub mod offline;
pub mod panel;
pub mod pareto;
pub mod reward_hacking;
pub mod scratchpad;
pub mod search;
pub mod store;

pub use config::SearchConfig;
pub use hospital::{run_search, run_search_with, table_text};
pub use search::SearchOutcome;
