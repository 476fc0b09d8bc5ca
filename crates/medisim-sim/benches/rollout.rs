//! Simulation speed at the paper's settings (T = 200, 5 teams, Poisson 9 arrivals a period).
//! Run: `cargo bench -p medisim-sim --bench rollout`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use medisim_sim::arrivals::kernel;
use medisim_sim::engine::Rollout;
use medisim_sim::schema::HospitalProgram;
use medisim_sim::{baseline, load};
use medisim_sim::{run_seeds, Metric, ObjectiveKind, Scenario};

fn bench(c: &mut Criterion) {
    let s = Scenario::default();
    let k = kernel(&s).unwrap();
    let mut g = c.benchmark_group("rollout_t200");
    g.throughput(Throughput::Elements(1));
    for (name, policy) in [
        ("baseline", baseline().clone()),
        (
            "mixed_k200",
            load(include_str!(
                "../../../policies/discovered/mixed_k200.policy"
            ))
            .unwrap(),
        ),
    ] {
        let compiled = HospitalProgram::new(&policy);
        let r = Rollout {
            scenario: &s,
            policy: &compiled,
            kernel: k.as_ref(),
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                r.run(7, 200, ObjectiveKind::Mixed, false)
                    .metrics
                    .terminal_funds
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("thirty_seeds_t200");
    g.throughput(Throughput::Elements(30));
    g.sample_size(20);
    let config = medisim_sim::RunSpec::default();
    g.bench_function("baseline_all_cores", |b| {
        b.iter(|| {
            run_seeds(&s, baseline(), &config, false)
                .unwrap()
                .mean(Metric::TerminalFunds)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
