//! Panel simulation speed: the E1 sweep (11 reward rates × 40 runs of 10 patients over 15
//! years, the myopic MILP provider) and one run of the Q-learning provider's training.
//! Run: `cargo bench -p medisim-panel --bench sweep`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use medisim_panel::disease::Retinopathy;
use medisim_panel::experiments::experiment;
use medisim_panel::PanelConfig;

fn bench(c: &mut Criterion) {
    let d = Retinopathy::default();
    let base = PanelConfig::default();
    let mut g = c.benchmark_group("panel");
    g.sample_size(10);
    // 11 points × 40 runs: throughput counts runs.
    g.throughput(Throughput::Elements(11 * 40));
    g.bench_function("e1_sweep", |b| {
        b.iter(|| experiment(&d, &base, "E1").unwrap())
    });
    g.throughput(Throughput::Elements(2));
    g.bench_function("e6_table_1", |b| {
        b.iter(|| experiment(&d, &base, "E6").unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
