//! Search throughput at the paper's settings (3 evolution seeds, T = 200, 3 islands): evaluations
//! per second, and the search's own overhead beside the simulation time.
//! Run: `cargo bench -p medisim-search --bench search`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use medisim_core::progress::Hidden;
use medisim_search::{run_search, SearchConfig};
use medisim_sim::Scenario;

fn bench(c: &mut Criterion) {
    let config = SearchConfig {
        iterations: 60,
        ..SearchConfig::default()
    };
    let mut g = c.benchmark_group("search");
    g.sample_size(10);
    g.throughput(Throughput::Elements(u64::from(config.iterations)));
    let mut last = None;
    g.bench_function("offline_60_iterations_from_scratch", |b| {
        b.iter(|| {
            let dir = tempfile::tempdir().unwrap();
            let o = run_search(
                &config,
                &Scenario::default(),
                dir.path(),
                false,
                None,
                &Hidden,
            )
            .unwrap();
            last = Some((o.rollouts, o.sim_seconds, o.total_seconds));
        })
    });
    g.finish();
    if let Some((rollouts, sim, total)) = last {
        eprintln!(
            "last run: {rollouts} rollouts simulated in {sim:.3} s of {total:.3} s total: {:.0} rollouts/s of simulation, search overhead {:.0}% (store, checking, printing, operators)",
            rollouts as f64 / sim,
            100.0 * (total - sim) / total
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
