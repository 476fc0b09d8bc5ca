//! Compiled policy evaluation against the same expressions written by hand in Rust.
//!
//! Each benchmark evaluates one block for 256 different feature vectors (patients or periods),
//! so neither side can constant-fold its inputs. Run: `cargo bench -p medisim-sim --bench policy_eval`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use medisim_sim::load;
use medisim_sim::schema::{AdminFeature as A, DoctorFeature as D, HospitalProgram};
use rand::{Rng, SeedableRng};

const N: usize = 256;
const ND: usize = D::ALL.len();
const NA: usize = A::ALL.len();

fn doctor_inputs() -> Vec<[f64; ND]> {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
    (0..N)
        .map(|_| {
            let mut f = [0.0; ND];
            for v in f.iter_mut() {
                *v = rng.gen_range(-1.0..1.0);
            }
            f[D::BedAvailable as usize] = f64::from(u8::from(rng.gen_bool(0.7)));
            f
        })
        .collect()
}

fn admin_inputs() -> Vec<[f64; NA]> {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(8);
    (0..N)
        .map(|_| {
            let mut f = [0.0; NA];
            f[A::QueueTotal as usize] = rng.gen_range(0.0..30.0);
            f[A::QueueMax as usize] = rng.gen_range(0.0..8.0);
            f[A::Wbar as usize] = rng.gen_range(0.0..6.0);
            f[A::Rbar as usize] = rng.gen_range(0.0..0.3);
            f[A::Utilization as usize] = rng.gen_range(0.4..1.0);
            f[A::Funds as usize] = rng.gen_range(-50.0..5000.0);
            f[A::ProfitLast as usize] = rng.gen_range(-20.0..60.0);
            f[A::CurrentTotalCapacity as usize] = rng.gen_range(8..14) as f64;
            f[A::CurrentFlexPool as usize] = rng.gen_range(0..3) as f64;
            f
        })
        .collect()
}

/// The baseline care rules (effort, triage_accept, triage_defer, request_bed), by hand.
#[inline(never)]
fn care_by_hand(f: &[f64; ND]) -> (f64, bool, bool, bool) {
    let g = |d: D| f[d as usize];
    let effort = g(D::BaseEffort) + g(D::EffortQualityPressure);
    let score = g(D::ClinicalTriageScore)
        + g(D::MarginPressure)
        + g(D::QualityPressure)
        + g(D::BedAvailabilitySignal)
        - g(D::TriageFatiguePressure)
        + g(D::KpiGamingPressure);
    let accept = score >= g(D::AcceptThreshold);
    let defer = !accept && score + g(D::DeferPressure) >= g(D::DeferThreshold);
    let bed = g(D::BedAvailable) != 0.0
        && g(D::ClinicalBedScore) + g(D::BedQualityPressure) - g(D::BedCostPressure)
            + g(D::BedAvailabilitySignal)
            - g(D::BedFatiguePressure)
            >= g(D::BedThreshold);
    (effort, accept, defer, bed)
}

/// Listing 3's coding rule, by hand.
#[inline(never)]
fn coding_by_hand(f: &[f64; ND]) -> f64 {
    let g = |d: D| f[d as usize];
    0.85 * g(D::UpcodePressure) + 0.08 * g(D::UpcodeGain)
        - 1.00 * g(D::AuditPenalty)
        - 0.85 * g(D::EthicsPressure)
        - 0.15 * g(D::CodingGap)
        - 100.0 * f64::from(u8::from(g(D::CodingGap) > 0.20))
}

fn ind(b: bool) -> f64 {
    f64::from(u8::from(b))
}

/// Listing 2's admin rules (all eleven levers), by hand.
#[inline(never)]
fn admin_by_hand(f: &[f64; NA]) -> [f64; 11] {
    let g = |a: A| f[a as usize];
    let (wbar, rbar, qt, qm, util) = (
        g(A::Wbar),
        g(A::Rbar),
        g(A::QueueTotal),
        g(A::QueueMax),
        g(A::Utilization),
    );
    let (funds, profit, cap, flex) = (
        g(A::Funds),
        g(A::ProfitLast),
        g(A::CurrentTotalCapacity),
        g(A::CurrentFlexPool),
    );
    let stress = ind(wbar > 4.0 || rbar > 0.15);
    let alpha = (0.95 - 0.15 * stress).clamp(0.0, 1.0);
    let beta = (0.05 + 0.20 * stress).clamp(0.0, 1.0);
    let total = 10f64.max(12f64.min(
        cap + ind(((wbar > 5.0 || rbar > 0.18 || qt > 24.0) && util > 0.92)
            && funds > 70.0
            && profit > 0.0)
            - ind(util < 0.62 && wbar < 0.5 && cap > 10.0),
    ));
    let bonus = (1.20 + 0.032 * 0f64.max(profit) - 0.70 * ind(profit < 0.0 || rbar > 0.14))
        .clamp(0.25, 4.1);
    let q = (qt > 9.0 || qm > 4.0) && rbar > 0.05;
    let flex_pool = 2f64.min(
        1f64.max(cap)
            .min(0f64.max(flex + ind(q) - ind(!q && flex > 0.0))),
    );
    [
        alpha, beta, total, bonus, flex_pool, 1.5, 0.15, 0.05, 0.15, 1.70, 3.5,
    ]
}

fn policy(rel: &str) -> HospitalProgram {
    let path = format!("{}/../../policies/{rel}", env!("CARGO_MANIFEST_DIR"));
    HospitalProgram::new(&load(&std::fs::read_to_string(path).unwrap()).unwrap())
}

fn bench(c: &mut Criterion) {
    let doctors = doctor_inputs();
    let admins = admin_inputs();

    // Sanity: both sides compute the same thing before we time them.
    let base = policy("baseline.policy");
    let mut frame = base.care().frame();
    for f in &doctors {
        for (i, v) in f.iter().enumerate() {
            frame.set(i, *v);
        }
        base.care().eval(&mut frame);
        let (e, a, d, b) = care_by_hand(f);
        assert_eq!(
            (
                base.care().output(&frame, 0),
                base.care().output(&frame, 1) != 0.0,
                base.care().output(&frame, 2) != 0.0,
                base.care().output(&frame, 3) != 0.0
            ),
            (e, a, d, b)
        );
    }
    let profit = policy("discovered/profit_k200.policy");
    let mut aframe = profit.admin().frame();
    for f in &admins {
        for (i, v) in f.iter().enumerate() {
            aframe.set(i, *v);
        }
        profit.admin().eval(&mut aframe);
        let want = admin_by_hand(f);
        for (k, w) in want.iter().enumerate() {
            assert!(
                (profit.admin().output(&aframe, k) - w).abs() < 1e-12,
                "lever {k}"
            );
        }
    }
    let mixed = policy("discovered/mixed_k200.policy");

    // The host writes features straight into a frame, so frames are filled before timing.
    let fill =
        |block: &medisim_dsl::compile::Block, inputs: &[[f64; ND]]| -> Vec<medisim_dsl::Frame> {
            inputs
                .iter()
                .map(|f| {
                    let mut fr = block.frame();
                    for (i, v) in f.iter().enumerate() {
                        fr.set(i, *v);
                    }
                    fr
                })
                .collect()
        };
    let mut care_frames = fill(base.care(), &doctors);
    let mut coding_frames = fill(mixed.coding(), &doctors);
    let mut admin_frames: Vec<medisim_dsl::Frame> = admins
        .iter()
        .map(|f| {
            let mut fr = profit.admin().frame();
            for (i, v) in f.iter().enumerate() {
                fr.set(i, *v);
            }
            fr
        })
        .collect();

    let fill_batch = |block: &medisim_dsl::compile::Block, inputs: &[[f64; ND]]| {
        let mut b = block.batch(inputs.len());
        for (lane, f) in inputs.iter().enumerate() {
            for (i, v) in f.iter().enumerate() {
                b.set(i, lane, *v);
            }
        }
        b
    };
    let mut care_batch = fill_batch(base.care(), &doctors);
    let mut coding_batch = fill_batch(mixed.coding(), &doctors);

    let mut g = c.benchmark_group("care_block_baseline");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("compiled_batch", |b| {
        b.iter(|| {
            base.care().eval_batch(black_box(&mut care_batch));
            let mut acc = 0.0;
            for k in 0..4 {
                acc += base.care().batch_output(&care_batch, k).iter().sum::<f64>();
            }
            black_box(acc)
        })
    });
    g.bench_function("compiled", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for frame in care_frames.iter_mut() {
                base.care().eval(black_box(frame));
                acc += base.care().output(frame, 0)
                    + base.care().output(frame, 1)
                    + base.care().output(frame, 2)
                    + base.care().output(frame, 3);
            }
            black_box(acc)
        })
    });
    g.bench_function("by_hand", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for f in &doctors {
                let (e, a, d, r) = care_by_hand(black_box(f));
                acc += e + ind(a) + ind(d) + ind(r);
            }
            black_box(acc)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("coding_block_listing3");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("compiled_batch", |b| {
        b.iter(|| {
            mixed.coding().eval_batch(black_box(&mut coding_batch));
            black_box(
                mixed
                    .coding()
                    .batch_output(&coding_batch, 0)
                    .iter()
                    .sum::<f64>(),
            )
        })
    });
    g.bench_function("compiled", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for frame in coding_frames.iter_mut() {
                mixed.coding().eval(black_box(frame));
                acc += mixed.coding().output(frame, 0);
            }
            black_box(acc)
        })
    });
    g.bench_function("by_hand", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for f in &doctors {
                acc += coding_by_hand(black_box(f));
            }
            black_box(acc)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("admin_block_listing2");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("compiled", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for frame in admin_frames.iter_mut() {
                profit.admin().eval(black_box(frame));
                for k in 0..11 {
                    acc += profit.admin().output(frame, k);
                }
            }
            black_box(acc)
        })
    });
    g.bench_function("by_hand", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for f in &admins {
                acc += admin_by_hand(black_box(f)).iter().sum::<f64>();
            }
            black_box(acc)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
