//! `medisim serve`: a local dashboard in front of the models. Pages are written by the server
//! (no build step, no script fetched from anywhere: the page's small script is inline), live
//! updates are server-sent events, and every run goes through the experiments' cell cache and
//! the command line's limits ([`runs`]). Nothing a request says becomes a path outside the output
//! directory (a search's run directory is named relative to it, [`searches`]): the only data
//! written are cells under it, named by their content keys (reading a search's store may let
//! SQLite make its shared-memory files beside it). Requests that
//! start work must be JSON, so another site's page cannot start runs through a visitor's
//! browser.

pub mod models;
pub mod page;
pub mod runs;
pub mod searches;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use runs::{Refusal, RunRequest, Runs, Status};
use serde_json::json;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The largest request body (a policy is at most 256 KiB; the rest is a few keys).
pub const MAX_BODY: usize = 1 << 20;

/// Where to listen and where the cells go.
#[derive(Clone, Debug)]
pub struct Options {
    pub host: IpAddr,
    pub port: u16,
    pub out: PathBuf,
}

/// Serve until the process ends; `ready` is told the address once the socket listens (port 0
/// picks a free one).
pub fn serve(o: &Options, ready: impl FnOnce(SocketAddr)) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind((o.host, o.port))
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}:{}: {e}", o.host, o.port))?;
        ready(listener.local_addr()?);
        axum::serve(listener, app(Arc::new(Runs::new(o.out.clone())))).await?;
        Ok(())
    })
}

/// The routes.
pub fn app(runs: Arc<Runs>) -> Router {
    Router::new()
        .route("/", get(|| async { Html(page::medisim()) }))
        .route("/l1", get(|| async { Html(page::l1()) }))
        .route("/compare", get(|| async { Html(page::compare()) }))
        .route("/findings", get(|| async { Html(page::findings()) }))
        .route(
            "/displacement",
            get(|| async { Html(page::displacement()) }),
        )
        .route("/search", get(|| async { Html(page::search()) }))
        .route("/models", get(|| async { Html(page::models()) }))
        .route("/api/models", get(models_list))
        .route("/api/model/run", post(start_model))
        .route("/api/searches", get(searches_list))
        .route("/api/search", post(search_view))
        .route("/api/search/program", post(search_program))
        .route("/api/search/start", post(start_search))
        .route("/api/check", post(check))
        .route("/api/run", post(start))
        .route("/api/l1", post(start_l1))
        .route("/api/findings", post(start_findings))
        .route("/api/displacement", post(start_displacement))
        .route("/api/compare", post(start_compare))
        .route("/api/runs/{id}", get(status))
        .route("/api/runs/{id}/events", get(events))
        .route("/api/runs/{id}/cancel", post(cancel))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(runs)
}

fn refuse(code: StatusCode, message: impl Into<String>) -> Response {
    (code, Json(json!({ "error": message.into() }))).into_response()
}

/// A policy checked as the editor types: `house::check_report`'s JSON.
async fn check(body: Bytes) -> Response {
    match std::str::from_utf8(&body) {
        Ok(src) => Json(medisim_experiments::house::check_report(src, "policy")).into_response(),
        Err(e) => refuse(
            StatusCode::BAD_REQUEST,
            format!("the policy is not UTF-8: {e}"),
        ),
    }
}

/// A JSON request body read as `T`, or why not (line and column). The content type must say
/// JSON: a browser sends that from another site only after asking (a CORS preflight, which
/// this server never grants), so no other page can start runs here.
fn body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
    what: &str,
) -> Result<T, String> {
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(format!(
            "the {what} request must be sent as `content-type: application/json`"
        ));
    }
    serde_json::from_slice(body).map_err(|e| format!("the {what} request: {e}"))
}

/// A work request read as `T` and started by `start`: 202 with the run's id, or why not.
fn start_job<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    bytes: &Bytes,
    what: &str,
    start: impl FnOnce(&T) -> Result<Arc<runs::Job>, Refusal>,
) -> Response {
    match body::<T>(headers, bytes, what) {
        Ok(request) => started(start(&request)),
        Err(e) => refuse(StatusCode::BAD_REQUEST, e),
    }
}

/// 202 with the new run's id, or why it was not started.
fn started(job: Result<Arc<runs::Job>, Refusal>) -> Response {
    match job {
        Ok(job) => (StatusCode::ACCEPTED, Json(json!({ "id": job.id }))).into_response(),
        Err(Refusal::Invalid(m)) => refuse(StatusCode::BAD_REQUEST, m),
        Err(Refusal::Busy) => refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "{} runs are going, the most at once: wait for one to end or cancel it",
                runs::MAX_RUNNING
            ),
        ),
    }
}

async fn start(State(runs): State<Arc<Runs>>, headers: HeaderMap, bytes: Bytes) -> Response {
    start_job::<RunRequest>(&headers, &bytes, "run", |r| runs.start(r))
}

async fn start_compare(
    State(runs): State<Arc<Runs>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    start_job::<runs::CompareRequest>(&headers, &bytes, "comparison", |r| runs.start_compare(r))
}

async fn start_search(State(runs): State<Arc<Runs>>, headers: HeaderMap, bytes: Bytes) -> Response {
    start_job::<searches::StartRequest>(&headers, &bytes, "search", |r| runs.start_search(r))
}

async fn start_l1(State(runs): State<Arc<Runs>>, headers: HeaderMap, bytes: Bytes) -> Response {
    start_job::<runs::GridRequest>(&headers, &bytes, "L1", |r| runs.start_l1(r))
}

async fn start_findings(
    State(runs): State<Arc<Runs>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    start_job::<runs::GridRequest>(&headers, &bytes, "findings", |r| runs.start_findings(r))
}

async fn start_displacement(
    State(runs): State<Arc<Runs>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    start_job::<runs::DisplacementRequest>(&headers, &bytes, "displacement", |r| {
        runs.start_displacement(r)
    })
}

async fn start_model(State(runs): State<Arc<Runs>>, headers: HeaderMap, bytes: Bytes) -> Response {
    let request = match body::<models::ModelRunRequest>(&headers, &bytes, "model run") {
        Ok(r) => r,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e),
    };
    // The check builds the model's setting (a contract solves for each key set): off the
    // runtime's two workers.
    let checked = match tokio::task::spawn_blocking(move || request.run()).await {
        Ok(checked) => checked,
        Err(_) => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the check stopped (a defect)",
            )
        }
    };
    started(
        checked
            .map_err(Refusal::Invalid)
            .and_then(|run| runs.spawn(move |job, out| models::run(&run, out, job))),
    )
}

async fn models_list() -> Response {
    blocking(|| Ok(json!({ "models": models::catalogue()? }))).await
}

/// File and database reads off the runtime's two workers.
async fn blocking(
    work: impl FnOnce() -> Result<serde_json::Value, String> + Send + 'static,
) -> Response {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) => refuse(StatusCode::BAD_REQUEST, e),
        Err(_) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the read stopped (a defect)",
        ),
    }
}

async fn searches_list(State(runs): State<Arc<Runs>>) -> Response {
    blocking(move || Ok(json!({ "runs": searches::list(runs.out()) }))).await
}

/// What the search pages ask: a run directory (relative to `--out`) and, for a program, its hash.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchAsk {
    dir: String,
    #[serde(default)]
    hash: Option<String>,
}

async fn search_view(State(runs): State<Arc<Runs>>, headers: HeaderMap, bytes: Bytes) -> Response {
    match body::<SearchAsk>(&headers, &bytes, "search") {
        Ok(a) => blocking(move || searches::view(runs.out(), &a.dir)).await,
        Err(e) => refuse(StatusCode::BAD_REQUEST, e),
    }
}

async fn search_program(
    State(runs): State<Arc<Runs>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    match body::<SearchAsk>(&headers, &bytes, "program") {
        Ok(a) => {
            blocking(move || {
                let hash = a.hash.ok_or("the program request names a `hash`")?;
                searches::program(runs.out(), &a.dir, &hash)
            })
            .await
        }
        Err(e) => refuse(StatusCode::BAD_REQUEST, e),
    }
}

/// A run's state as JSON: `state` running / done / failed / cancelled, the cells done and in
/// all, what it found so far while it runs (`partial`: a comparison's differences), and the
/// result or the error.
fn state_json(job: &runs::Job) -> serde_json::Value {
    let (done, total) = job.progress();
    let mut v = json!({ "id": job.id, "done": done, "total": total });
    let (state, extra) = match job.status() {
        Status::Running => ("running", job.partial().map(|p| ("partial", (*p).clone()))),
        Status::Done(result) => ("done", Some(("result", (*result).clone()))),
        Status::Failed(e) => ("failed", Some(("error", json!(e)))),
        Status::Cancelled => ("cancelled", None),
    };
    v["state"] = json!(state);
    if let Some((k, x)) = extra {
        v[k] = x;
    }
    v
}

async fn status(State(runs): State<Arc<Runs>>, Path(id): Path<u64>) -> Response {
    match runs.get(id) {
        Some(job) => Json(state_json(&job)).into_response(),
        None => refuse(StatusCode::NOT_FOUND, format!("no run {id}")),
    }
}

/// 202 when the run was going (it stops at its next chunk), 409 when it had already ended.
async fn cancel(State(runs): State<Arc<Runs>>, Path(id): Path<u64>) -> Response {
    match runs.get(id) {
        Some(job) => {
            let going = matches!(job.status(), Status::Running);
            job.cancel();
            let code = if going {
                StatusCode::ACCEPTED
            } else {
                StatusCode::CONFLICT
            };
            (code, Json(state_json(&job))).into_response()
        }
        None => refuse(StatusCode::NOT_FOUND, format!("no run {id}")),
    }
}

/// The run's state every 100 ms as a `progress` event while it runs, then one `end` event with
/// its final state, and the stream closes.
async fn events(State(runs): State<Arc<Runs>>, Path(id): Path<u64>) -> Response {
    let Some(job) = runs.get(id) else {
        return refuse(StatusCode::NOT_FOUND, format!("no run {id}"));
    };
    let stream = futures_util::stream::unfold(Some(job), |job| async move {
        let job = job?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let state = state_json(&job);
        let running = state["state"] == "running";
        let event = Event::default()
            .event(if running { "progress" } else { "end" })
            .data(state.to_string());
        Some((Ok::<_, Infallible>(event), running.then_some(job)))
    });
    Sse::new(stream).into_response()
}
