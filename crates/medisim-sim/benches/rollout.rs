//! Simulation speed at the paper's settings (T = 200, 5 teams, Poisson 9 arrivals a period):
//! the baseline and a discovered policy, the L1 grid's cell mix (issue 29), and the default
//! 30-seed run. Run: `cargo bench -p medisim-sim --bench rollout`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use medisim_sim::arrivals::kernel;
use medisim_sim::engine::Rollout;
use medisim_sim::schema::HospitalProgram;
use medisim_sim::{baseline, load};
use medisim_sim::{run_seeds, Field, Metric, ObjectiveKind, Scenario};

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

    // The L1 grid's cell mix: the baseline with (α, β) fixed at each of the 11 × 11 grid's
    // cells (paper §5.1), one rollout per cell, on one core — what `medisim l1 --grid 11` runs
    // per seed, without the cache and the table.
    let axis: Vec<f64> = (0..=10).map(|i| f64::from(i) / 10.0).collect();
    let cells: Vec<HospitalProgram> = axis
        .iter()
        .flat_map(|a| axis.iter().map(move |b| (*a, *b)))
        .map(|(a, b)| {
            let mut p = baseline().clone();
            p.fix(Field::Alpha, a);
            p.fix(Field::Beta, b);
            HospitalProgram::new(&p)
        })
        .collect();
    let mut g = c.benchmark_group("l1_cell_mix_t200");
    g.throughput(Throughput::Elements(cells.len() as u64));
    g.sample_size(20);
    g.bench_function("grid_11_one_seed", |b| {
        b.iter(|| {
            cells
                .iter()
                .map(|policy| {
                    let r = Rollout {
                        scenario: &s,
                        policy,
                        kernel: k.as_ref(),
                    };
                    r.run(7, 200, ObjectiveKind::Mixed, false)
                        .metrics
                        .terminal_funds
                })
                .sum::<f64>()
        })
    });
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
