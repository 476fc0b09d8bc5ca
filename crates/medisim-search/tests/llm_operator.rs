//! The LLM operator against a local OpenAI-compatible server started by the test (loopback
//! only): good diff, good rewrite, no valid block, a program that fails checking, 429 then
//! success, a timeout. None of them stops anything; each is recorded. The exceptions are a
//! server that is not there: none at the address before any has answered (a setup mistake), or
//! one that stopped answering mid-run (it crashed); either stops the run at once, keeping its
//! finished work for `--resume`.

use medisim_core::progress::Hidden;
use medisim_search::config::{LlmConfig, OperatorKind, SearchConfig};
use medisim_search::llm::{LlmClient, LlmOutcome};
use medisim_search::store::Store;
use medisim_search::{run_search, SearchOutcome};
use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[path = "common/server.rs"]
mod server;

/// A canned reply: HTTP status, body content (chat message), delay before answering. Status
/// [`HANG_UP`] closes the connection without answering, as a server that crashes mid-request.
#[derive(Clone)]
struct Reply {
    status: u16,
    content: String,
    delay_ms: u64,
    /// A whole response body in place of the canned one (hostile servers).
    payload: Option<String>,
}

fn ok(content: &str) -> Reply {
    Reply {
        status: 200,
        content: content.into(),
        delay_ms: 0,
        payload: None,
    }
}

/// Serve replies in order (repeating the last one); record every request body.
fn server(replies: Vec<Reply>) -> (String, Arc<Mutex<Vec<String>>>) {
    server_at("127.0.0.1:0", replies)
}

/// A loopback address where nothing listens (bound, then released).
fn closed_port() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

fn server_at(addr: &str, replies: Vec<Reply>) -> (String, Arc<Mutex<Vec<String>>>) {
    server_with(addr, move |_, i| replies[i.min(replies.len() - 1)].clone())
}

/// Serve what `pick(request body, request number)` says; record every request body.
fn server_with(
    addr: &str,
    pick: impl Fn(&str, usize) -> Reply + Send + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    server_for(addr, 200, pick)
}

const HANG_UP: u16 = 0;

/// [`server_with`] that stops listening after `connections` connections, as a server that dies.
fn server_for(
    addr: &str,
    connections: usize,
    pick: impl Fn(&str, usize) -> Reply + Send + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind(addr).unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        let mut i = 0;
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { continue };
            let body = server::read_body(&stream);
            let r = pick(&body, i);
            log.lock().unwrap().push(body);
            i += 1;
            std::thread::sleep(Duration::from_millis(r.delay_ms));
            if r.status == HANG_UP {
                continue;
            }
            let payload = if let Some(p) = r.payload {
                p
            } else if r.status == 200 {
                serde_json::json!({"choices": [{"message": {"role": "assistant", "content": r.content}}], "usage": {"prompt_tokens": 120, "completion_tokens": 30}}).to_string()
            } else {
                serde_json::json!({"error": {"message": "slow down"}}).to_string()
            };
            let _ = write!(stream, "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", r.status, payload.len(), payload);
        }
    });
    (format!("http://{addr}/v1"), seen)
}

fn client(base_url: String) -> LlmClient {
    LlmClient {
        config: LlmConfig {
            base_url,
            model: "test-model".into(),
            timeout_s: 0.5,
            retries: 2,
            backoff_ms: 10,
            ..LlmConfig::default()
        },
        api_key: Some("sk-test".into()),
    }
}

fn parent() -> medisim_dsl::Policy {
    medisim_sim::baseline().clone()
}

const DIFF: &str =
    "Lower alpha a little.\n<<<<<<< SEARCH\nalpha = 0.5\n=======\nalpha = 0.42\n>>>>>>> REPLACE\n";

fn propose(
    replies: Vec<Reply>,
    prompt: &str,
) -> (LlmOutcome, Store, tempfile::TempDir, Vec<String>) {
    let (url, seen) = server(replies);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let out = client(url).propose(&store, &parent(), prompt).unwrap();
    let log = seen.lock().unwrap().clone();
    (out, store, dir, log)
}

#[test]
fn a_good_diff_becomes_a_checked_child_and_usage_is_recorded() {
    let (out, store, _d, log) = propose(vec![ok(DIFF)], "p1");
    match out {
        LlmOutcome::Child { policy, .. } => {
            assert_eq!(policy.expr(medisim_sim::Field::Alpha).to_string(), "0.42")
        }
        LlmOutcome::Failed { reason, .. } => panic!("{reason}"),
    }
    assert_eq!(store.llm_usage().unwrap(), (1, 0, 120, 30));
    let req: serde_json::Value = serde_json::from_str(&log[0]).unwrap();
    assert_eq!(req["model"], "test-model");
    assert_eq!(req["temperature"], 0.4);
    assert!(req["messages"][1]["content"]
        .as_str()
        .unwrap()
        .contains("p1"));
}

#[test]
fn a_full_rewrite_is_accepted() {
    let rewrite = "```policy\nkind = \"hospital_policy\"\nversion = \"medisim_dsl_v1\"\nname = \"r\"\n[admin_policy]\nkappa = 3\n```";
    let (out, _s, _d, _) = propose(vec![ok(rewrite)], "p2");
    assert!(
        matches!(out, LlmOutcome::Child { ref policy, .. } if policy.expr(medisim_sim::Field::Kappa).to_string() == "3")
    );
}

#[test]
fn a_reply_without_an_edit_is_a_recorded_failure() {
    let (out, store, _d, _) = propose(vec![ok("I would lower alpha.")], "p3");
    assert!(
        matches!(out, LlmOutcome::Failed { ref reason, .. } if reason.contains("neither SEARCH/REPLACE"))
    );
    assert_eq!(store.llm_usage().unwrap().0, 1);
    assert_eq!(
        store.llm_usage().unwrap().1,
        1,
        "a response that is no edit counts as a failure"
    );
}

#[test]
fn a_program_that_fails_checking_is_a_recorded_failure_with_its_diagnostic() {
    let bad = "<<<<<<< SEARCH\nalpha = 0.5\n=======\nalpha = 0.5 + urgency\n>>>>>>> REPLACE\n";
    let (out, _s, _d, _) = propose(vec![ok(bad)], "p4");
    assert!(
        matches!(out, LlmOutcome::Failed { ref reason, .. } if reason.contains("wrong-scope")),
        "{}",
        match out {
            LlmOutcome::Failed { reason, .. } => reason,
            _ => String::new(),
        }
    );
}

#[test]
fn a_429_is_retried_and_then_succeeds() {
    let (out, store, _d, log) = propose(
        vec![
            Reply {
                status: 429,
                content: String::new(),
                delay_ms: 0,
                payload: None,
            },
            ok(DIFF),
        ],
        "p5",
    );
    assert!(matches!(out, LlmOutcome::Child { .. }));
    assert_eq!(log.len(), 2);
    let (calls, failures, _, _) = store.llm_usage().unwrap();
    assert_eq!((calls, failures), (1, 0));
}

#[test]
fn a_timeout_is_a_recorded_failure_after_the_retries() {
    let (out, store, _d, log) = propose(
        vec![Reply {
            status: 200,
            content: DIFF.into(),
            delay_ms: 1500,
            payload: None,
        }],
        "p6",
    );
    let LlmOutcome::Failed { key, reason } = out else {
        panic!("a timeout cannot produce a child")
    };
    assert!(reason.contains("transport"), "{reason}");
    assert_eq!(
        store.llm(&key).unwrap().unwrap().attempts,
        3,
        "one try and two retries"
    );
    assert!(!log.is_empty());
    assert_eq!(store.llm_usage().unwrap().1, 1);
    assert_eq!(store.llm_outcome(&key).unwrap().unwrap(), reason);
}

#[test]
fn a_recorded_response_is_reused_instead_of_asking_again() {
    let (url, seen) = server(vec![ok(DIFF)]);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let c = client(url);
    c.propose(&store, &parent(), "same prompt").unwrap();
    c.propose(&store, &parent(), "same prompt").unwrap();
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn a_search_with_a_misbehaving_llm_completes_and_records_every_call() {
    let bad = "<<<<<<< SEARCH\nno such line\n=======\nx\n>>>>>>> REPLACE\n";
    let replies = vec![
        ok(DIFF),
        ok("no edit here"),
        Reply {
            status: 503,
            content: String::new(),
            delay_ms: 0,
            payload: None,
        },
        ok(bad),
        ok(DIFF),
    ];
    let (url, _seen) = server(replies);
    let dir = tempfile::tempdir().unwrap();
    let config = SearchConfig {
        iterations: 8,
        horizon: 60,
        screen_horizon: 20,
        ..small_llm_search(url)
    };
    let o = fresh_search(&config, dir.path());
    assert_eq!(o.trace.len(), 9, "warm start plus every iteration");
    let store = Store::open(dir.path()).unwrap();
    let (calls, failures, _, _) = store.llm_usage().unwrap();
    assert!(
        calls >= 1 && failures >= 1,
        "calls {calls}, failures {failures}"
    );
    let events = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert!(events.contains("\"llm_failure\""));
    assert!(dir.path().join("best.policy").exists() && dir.path().join("result.json").exists());
}

/// A new search in `dir` over the built-in scenario, expected to finish.
fn fresh_search(config: &SearchConfig, dir: &std::path::Path) -> SearchOutcome {
    run_search(
        config,
        &medisim_sim::Scenario::default(),
        dir,
        false,
        None,
        &Hidden,
    )
    .unwrap()
}

fn small_llm_search(base_url: String) -> SearchConfig {
    SearchConfig {
        operator: OperatorKind::Llm,
        iterations: 3,
        horizon: 40,
        screen_horizon: 10,
        evolution_seeds: vec![1],
        validation_seeds: vec![2],
        test_seeds: vec![3],
        llm: LlmConfig {
            base_url,
            timeout_s: 2.0,
            retries: 1,
            backoff_ms: 5,
            ..LlmConfig::default()
        },
        ..SearchConfig::default()
    }
}

#[test]
fn nothing_listening_stops_the_search_at_once_and_resume_continues_once_a_server_is_up() {
    let addr = closed_port();
    let config = small_llm_search(format!("http://{addr}/v1"));
    let dir = tempfile::tempdir().unwrap();
    let hidden = Hidden;
    let s = medisim_sim::Scenario::default();
    let err = run_search(&config, &s, dir.path(), false, None, &hidden)
        .err()
        .expect("a setup mistake stops the run");
    let text = err.to_string();
    assert!(
        text.contains(&addr) && text.contains("--operator offline"),
        "{text}"
    );
    // The failed attempt is not recorded, so the resumed run asks again.
    assert_eq!(Store::open(dir.path()).unwrap().llm_usage().unwrap().0, 0);
    let (_url, seen) = server_at(&addr, vec![ok(DIFF)]);
    let o = run_search(&config, &s, dir.path(), true, None, &hidden).unwrap();
    assert_eq!(o.trace.len(), 4, "warm start plus every iteration");
    assert!(!seen.lock().unwrap().is_empty());
}

#[test]
fn a_server_that_stops_answering_mid_run_stops_the_search_and_resume_follows_the_same_path() {
    let config = small_llm_search(String::new());
    let hidden = Hidden;
    let s = medisim_sim::Scenario::default();
    let replies = || {
        move |_: &str, i: usize| {
            ok(if i % 2 == 0 {
                DIFF
            } else {
                "no edit this time"
            })
        }
    };
    // The uninterrupted run.
    let (url, _) = server_with("127.0.0.1:0", replies());
    let straight = tempfile::tempdir().unwrap();
    let whole = fresh_search(
        &SearchConfig {
            llm: LlmConfig {
                base_url: url,
                ..config.llm.clone()
            },
            ..config.clone()
        },
        straight.path(),
    );
    // The same run whose server dies after its first call. (Iteration 2's prompt repeats
    // iteration 1's, so its recorded reply is reused; iteration 3 finds the server gone.)
    let addr = closed_port();
    let config = SearchConfig {
        llm: LlmConfig {
            base_url: format!("http://{addr}/v1"),
            ..config.llm
        },
        ..config
    };
    server_for(&addr, 1, replies());
    let dir = tempfile::tempdir().unwrap();
    let err = run_search(&config, &s, dir.path(), false, None, &hidden)
        .err()
        .expect("a server that went away stops the run");
    let text = err.to_string();
    for needle in [
        "stopped answering",
        "answered 1 call(s)",
        "2 of 3 iterations are finished",
        &format!("--resume {}", dir.path().display()),
    ] {
        assert!(text.contains(needle), "missing {needle:?} in {text}");
    }
    assert!(!text.contains("cannot reach"), "{text}");
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.llm_usage().unwrap().0,
        1,
        "the refused call is not recorded"
    );
    drop(store);
    // The server is back, answering as it would have: the resumed run asks only what is left
    // and ends where the uninterrupted one did.
    let (_, seen) = server_with(&addr, move |b, i| replies()(b, i + 1));
    let resumed = run_search(&config, &s, dir.path(), true, None, &hidden).unwrap();
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(resumed.best.hash, whole.best.hash);
    let outcomes = |o: &SearchOutcome| {
        o.trace
            .iter()
            .map(|t| t.outcome.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(outcomes(&resumed), outcomes(&whole));
}

#[test]
fn a_connection_lost_mid_request_then_refused_is_a_server_that_stopped_not_one_never_there() {
    let addr = closed_port();
    server_for(&addr, 1, |_, _| Reply {
        status: HANG_UP,
        ..ok("")
    });
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let err = client(format!("http://{addr}/v1"))
        .propose(&store, &parent(), "first")
        .err()
        .expect("the server is gone");
    let text = err.to_string();
    assert!(
        text.contains("stopped answering") && text.contains("the connection was lost after"),
        "{text}"
    );
    assert_eq!(store.llm_usage().unwrap().0, 0);
}

#[test]
fn the_prompt_carries_the_objective_the_language_reference_and_the_parent_with_its_diagnostics() {
    let (url, seen) = server(vec![ok("no edit")]);
    let dir = tempfile::tempdir().unwrap();
    fresh_search(&small_llm_search(url), dir.path());
    let body: serde_json::Value = serde_json::from_str(&seen.lock().unwrap()[0]).unwrap();
    assert_eq!(body["temperature"], 0.4);
    let prompt = body["messages"][1]["content"].as_str().unwrap();
    for needle in [
        "mixed objective",
        "0.5 * ln(max(funds, 1)) / 10 + 0.5 * reputation",
        "Fitness over the evaluation seeds = mean G - 0.06 * mean V - 0.25 * variance",
        "8 * up-coding rate",
        "## Language reference",
        "| `alpha` | admin_policy | Admin | number | real in [0, 1] |",
        "| `coding_gap` | coding |",
        "## Parent program",
        "up-coding ",
        "```policy\nkind = \"hospital_policy\"",
        "<<<<<<< SEARCH",
    ] {
        assert!(prompt.contains(needle), "missing {needle:?} in\n{prompt}");
    }
    // The second request feeds the first one's failure back.
    let second: serde_json::Value = serde_json::from_str(&seen.lock().unwrap()[1]).unwrap();
    assert!(second["messages"][1]["content"]
        .as_str()
        .unwrap()
        .contains("Recent edits that were rejected"));
}

fn raw(payload: String) -> Reply {
    Reply {
        payload: Some(payload),
        ..ok("")
    }
}

#[test]
fn an_out_of_range_usage_count_is_a_recorded_failure_not_a_fatal_error() {
    let body = serde_json::json!({"choices": [{"message": {"content": DIFF}}], "usage": {"prompt_tokens": u64::MAX, "completion_tokens": 1}}).to_string();
    let (out, store, _d, _) = propose(vec![raw(body)], "usage");
    let LlmOutcome::Failed { reason, .. } = out else {
        panic!("an impossible usage count cannot pass")
    };
    assert!(
        reason.contains("usage.prompt_tokens") && reason.contains("4294967296"),
        "{reason}"
    );
    // Recorded, and the store still adds up.
    assert_eq!(store.llm_usage().unwrap(), (1, 1, 0, 0));
}

#[test]
fn a_reply_larger_than_the_cap_is_refused_and_not_stored() {
    let huge = "x".repeat(3 << 20);
    let body = serde_json::json!({"choices": [{"message": {"content": huge}}]}).to_string();
    let (url, _) = server(vec![raw(body)]);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let out = client(url).propose(&store, &parent(), "big").unwrap();
    let LlmOutcome::Failed { key, reason } = out else {
        panic!("a 3 MB reply cannot pass")
    };
    assert!(reason.contains("larger than 1048576 bytes"), "{reason}");
    assert!(store.llm(&key).unwrap().unwrap().response.is_empty());
    assert!(
        std::fs::metadata(dir.path().join("search.sqlite"))
            .unwrap()
            .len()
            < 1 << 20
    );
}

/// Two models on one server: `bad` never answers with an edit, `good` always rewrites the
/// program with a new α (a new checked child each time).
fn two_model_server() -> String {
    let good_calls = Arc::new(Mutex::new(0usize));
    server_with("127.0.0.1:0", move |body, _| {
        let model = serde_json::from_str::<serde_json::Value>(body).unwrap()["model"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if model == "good" {
            let mut n = good_calls.lock().unwrap();
            *n += 1;
            let text = medisim_dsl::fmt::policy_to_string(medisim_sim::baseline())
                .replace("alpha = 0.5", &format!("alpha = 0.{}", 30 + *n));
            ok(&format!("```policy\n{text}```"))
        } else {
            ok("I would rather not.")
        }
    })
    .0
}

fn models_in_order(dir: &std::path::Path) -> Vec<String> {
    let db = rusqlite::Connection::open(dir.join("search.sqlite")).unwrap();
    let mut q = db
        .prepare("SELECT model FROM llm_calls ORDER BY rowid")
        .unwrap();
    let rows = q.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

fn bandit_search(url: String, iterations: u32) -> SearchConfig {
    let mut c = small_llm_search(url);
    c.iterations = iterations;
    c.llm.models = vec![
        medisim_search::config::ModelChoice {
            name: "bad".into(),
            ..Default::default()
        },
        medisim_search::config::ModelChoice {
            name: "good".into(),
            price_in: 1.0,
            price_out: 2.0,
            ..Default::default()
        },
    ];
    c
}

/// The bandit moves to the model whose replies become children; every call records its model
/// and its cost at the configured prices; a resumed run replays the same choices.
#[test]
fn a_bandit_prefers_the_model_that_gives_children_and_a_resumed_run_replays_its_choices() {
    let dir = tempfile::tempdir().unwrap();
    let config = bandit_search(two_model_server(), 12);
    let o = fresh_search(&config, dir.path());
    // One row per distinct request: a prompt asked of the same model again reads the
    // recorded reply (the store's cache), so there may be fewer rows than iterations.
    let models = models_in_order(dir.path());
    assert!((10..=12).contains(&models.len()), "{models:?}");
    let good = models.iter().filter(|m| *m == "good").count();
    assert!(good >= 2 * (models.len() - good), "{models:?}");
    let usage = |name: &str| {
        o.llm_usage
            .iter()
            .find(|u| u.model == name)
            .unwrap()
            .clone()
    };
    let g = usage("good");
    assert_eq!(g.calls as usize, good);
    assert_eq!(g.children, g.calls, "every good reply is a checked child");
    // The scripted server reports 120 prompt and 30 completion tokens a call.
    assert!(
        (g.cost - g.calls as f64 * (120.0 + 60.0) / 1e6).abs() < 1e-12,
        "{g:?}"
    );
    assert_eq!(usage("bad").cost, 0.0);
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("result.json")).unwrap()).unwrap();
    assert_eq!(result["llm_usage"].as_array().unwrap().len(), 2);
    // The dashboard's view of the directory: the same calls and cost, and the time waited.
    let watched = medisim_search::monitor::view(dir.path()).unwrap();
    let w = watched.models.iter().find(|m| m.model == "good").unwrap();
    assert_eq!((w.calls, w.children), (g.calls, g.children));
    assert_eq!(w.cost, Some(g.cost));
    let waited: i64 = rusqlite::Connection::open(dir.path().join("search.sqlite"))
        .unwrap()
        .query_row(
            "SELECT SUM(latency_ms) FROM llm_calls WHERE model = 'good'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(w.latency_ms, waited as u64);

    // Interrupted after 5 iterations, then resumed: the same models in the same order.
    let dir2 = tempfile::tempdir().unwrap();
    let config2 = bandit_search(two_model_server(), 12);
    let pb = Hidden;
    let scenario = medisim_sim::Scenario::default();
    run_search(&config2, &scenario, dir2.path(), false, Some(5), &pb).unwrap();
    run_search(&config2, &scenario, dir2.path(), true, None, &pb).unwrap();
    assert_eq!(models_in_order(dir2.path()), models);
}

/// A budget in money stops the calls once the recorded ones have cost that much.
#[test]
fn a_money_budget_stops_the_calls() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = bandit_search(two_model_server(), 10);
    config.llm.models.remove(0);
    config.llm.max_cost = Some(0.0004);
    let o = fresh_search(&config, dir.path());
    let g = &o.llm_usage[0];
    // 0.00018 a call: the third call starts below the budget and ends above it.
    assert_eq!(g.children, 3, "{g:?}");
    let db = rusqlite::Connection::open(dir.path().join("search.sqlite")).unwrap();
    let budget: u64 = db
        .query_row(
            "SELECT COUNT(*) FROM llm_calls WHERE status = 'budget'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(budget, 7);
}

/// [`server::concurrent`] serving a [`Reply`]'s content after its delay.
fn concurrent_server(
    addr: &str,
    answers: usize,
    pick: impl Fn(&str) -> Reply + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<usize>>>) {
    server::concurrent(addr, answers, move |body| {
        let r = pick(body);
        (r.content, r.delay_ms)
    })
}

/// A reply that depends on the prompt alone (as a seeded model's would): a new α for most
/// prompts, no edit for some; `slow` sets how long it takes, so that replies overtake.
fn by_prompt(slow: fn(u64) -> u64) -> impl Fn(&str) -> Reply + Send + Sync + 'static {
    move |body: &str| {
        let h = server::body_hash(body);
        let content = if h % 4 == 0 {
            "no edit this time".to_string()
        } else {
            DIFF.replace("0.42", &format!("0.{}", 30 + h % 40))
        };
        Reply {
            delay_ms: slow(h),
            ..ok(&content)
        }
    }
}

fn concurrent_search(url: String) -> SearchConfig {
    let mut c = small_llm_search(url);
    c.iterations = 12;
    c.llm.concurrency = 4;
    c
}

/// What a run did, for comparing runs: each iteration's outcome, the incumbent, the stored
/// calls in key order.
fn path(o: &SearchOutcome, dir: &std::path::Path) -> (Vec<String>, String, Vec<String>) {
    let db = rusqlite::Connection::open(dir.join("search.sqlite")).unwrap();
    let mut q = db
        .prepare("SELECT key || ' ' || status || ' ' || response FROM llm_calls ORDER BY key")
        .unwrap();
    let calls = q.query_map([], |r| r.get::<_, String>(0)).unwrap();
    (
        o.trace
            .iter()
            .map(|t| format!("{} {}", t.iteration, t.outcome))
            .collect(),
        o.best.hash.clone(),
        calls.map(Result::unwrap).collect(),
    )
}

/// Four requests in flight: the replies are applied in iteration order whatever order they
/// arrive in, so two servers whose replies race differently give the same run.
#[test]
fn concurrent_calls_are_applied_in_iteration_order_whatever_order_they_arrive_in() {
    let (fast_first, order_a) =
        concurrent_server("127.0.0.1:0", usize::MAX, by_prompt(|h| h % 7 * 15));
    let (slow_first, order_b) =
        concurrent_server("127.0.0.1:0", usize::MAX, by_prompt(|h| 90 - h % 7 * 15));
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let one = fresh_search(&concurrent_search(fast_first), a.path());
    let two = fresh_search(&concurrent_search(slow_first), b.path());
    assert_eq!(path(&one, a.path()), path(&two, b.path()));
    // The race was real: some reply overtook an earlier request.
    let overtaken = |o: &Arc<Mutex<Vec<usize>>>| o.lock().unwrap().windows(2).any(|w| w[1] < w[0]);
    assert!(overtaken(&order_a) || overtaken(&order_b));
    // And the blocks changed the path: one call at a time prompts from every earlier child.
    let (serial, _) = concurrent_server("127.0.0.1:0", usize::MAX, by_prompt(|_| 0));
    let c = tempfile::tempdir().unwrap();
    let mut config = concurrent_search(serial);
    config.llm.concurrency = 1;
    let three = fresh_search(&config, c.path());
    assert_ne!(path(&three, c.path()).2, path(&one, a.path()).2);
}

/// The server dies with calls in flight — after its 1st, 3rd, 6th and 9th answer — and the run
/// stops; resumed against a server that answers as the first would have, it ends where the
/// uninterrupted run did.
#[test]
fn a_run_killed_with_calls_in_flight_resumes_to_the_uninterrupted_result() {
    let slow = |h: u64| h % 5 * 20;
    let (url, _) = concurrent_server("127.0.0.1:0", usize::MAX, by_prompt(slow));
    let whole_dir = tempfile::tempdir().unwrap();
    let whole = fresh_search(&concurrent_search(url), whole_dir.path());
    let scenario = medisim_sim::Scenario::default();
    for answers in [1, 3, 6, 9] {
        let addr = closed_port();
        let (dying, _) = concurrent_server(&addr, answers, by_prompt(slow));
        let dir = tempfile::tempdir().unwrap();
        let err = run_search(
            &concurrent_search(dying),
            &scenario,
            dir.path(),
            false,
            None,
            &Hidden,
        )
        .err()
        .expect("a server that died stops the run");
        assert!(err.to_string().contains("--resume"), "{err}");
        let kept = Store::open(dir.path()).unwrap().llm_usage().unwrap().0;
        assert!(
            kept <= answers as u64,
            "{kept} calls kept of {answers} answered"
        );
        let (back, _) = concurrent_server(&addr, usize::MAX, by_prompt(slow));
        let resumed = run_search(
            &concurrent_search(back),
            &scenario,
            dir.path(),
            true,
            None,
            &Hidden,
        )
        .unwrap();
        assert_eq!(
            path(&resumed, dir.path()),
            path(&whole, whole_dir.path()),
            "died after {answers}"
        );
    }
}

/// The user message of each recorded request.
fn prompts(seen: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|b| {
            let v: serde_json::Value = serde_json::from_str(b).unwrap();
            v["messages"][1]["content"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The scratchpad appears once its first N iterations are done and reports what they did;
/// the compact prompt is a fraction of the full one and keeps the parent and the task.
#[test]
fn the_scratchpad_summarises_earlier_edits_and_the_compact_prompt_is_short() {
    let run = |every: u32, compact: bool| {
        let (url, seen) = server_with("127.0.0.1:0", |body, _| {
            ok(if server::body_hash(body) % 3 == 0 {
                "no edit this time"
            } else {
                DIFF
            })
        });
        let mut c = small_llm_search(url);
        c.iterations = 12;
        c.llm.scratchpad_every = every;
        c.llm.compact_prompt = compact;
        fresh_search(&c, tempfile::tempdir().unwrap().path());
        prompts(&seen)
    };
    let heading = "## What earlier edits did";
    let full = run(4, false);
    // One request per distinct prompt: the first four iterations have no summary, later
    // ones do, and it counts the rejected replies.
    assert!(!full[0].contains(heading));
    let with: Vec<&String> = full.iter().filter(|p| p.contains(heading)).collect();
    assert!(!with.is_empty(), "no prompt carries the scratchpad");
    assert!(
        with.iter().all(|p| p.contains("Iterations 1-")),
        "{}",
        with[0]
    );
    assert!(with.iter().any(|p| p.contains("replies rejected")));
    // Off: no summary anywhere.
    assert!(run(0, false).iter().all(|p| !p.contains(heading)));
    let compact = run(4, true);
    let (long, short) = (full[0].len(), compact[0].len());
    assert!(short * 2 < long, "compact {short} bytes against {long}");
    assert!(compact[0].contains("## Parent program") && compact[0].contains("## Task"));
    assert!(compact.iter().any(|p| p.contains(heading)));
}

/// A token budget that runs out inside a block: the server dies after the 5th reply (the
/// second block's first), and the resumed block decides on its budget as it first did, from
/// the usage at its start, not from the replies it had stored before the kill.
#[test]
fn a_block_resumed_after_some_replies_keeps_the_budget_it_first_saw() {
    let slow = |h: u64| h % 5 * 20;
    let config = |url: String| {
        let mut c = concurrent_search(url);
        // 150 tokens a reply: the budget runs out during the second block.
        c.llm.max_tokens_total = 750;
        c
    };
    let (url, _) = concurrent_server("127.0.0.1:0", usize::MAX, by_prompt(slow));
    let whole_dir = tempfile::tempdir().unwrap();
    let whole = fresh_search(&config(url), whole_dir.path());
    let addr = closed_port();
    let (dying, _) = concurrent_server(&addr, 5, by_prompt(slow));
    let dir = tempfile::tempdir().unwrap();
    let scenario = medisim_sim::Scenario::default();
    assert!(run_search(&config(dying), &scenario, dir.path(), false, None, &Hidden).is_err());
    let (back, _) = concurrent_server(&addr, usize::MAX, by_prompt(slow));
    let resumed = run_search(&config(back), &scenario, dir.path(), true, None, &Hidden).unwrap();
    assert_eq!(path(&resumed, dir.path()), path(&whole, whole_dir.path()));
}
