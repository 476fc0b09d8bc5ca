//! Cached cells belong to the model version that made them: a changed model recomputes them
//! against the same output directory, and labels belong to the experiment, not the cache.

use medisim_core::progress::Hidden;
use medisim_core::{Model, ModelVersion, Summaries};
use medisim_dsl::Policy;
use medisim_experiments::cells::{run_model_cells, CellSpec};
use medisim_experiments::l1;
use medisim_sim::{MediSim, Metric, RolloutSettings, RunSpec, Scenario};

/// Medi-Sim under another version number, as a build with a changed engine would be.
struct Renumbered(u32);

impl Model for Renumbered {
    type Scenario = Scenario;
    type Policy = Policy;
    type Settings = RolloutSettings;
    type Metric = Metric;
    fn version(&self) -> ModelVersion {
        ModelVersion {
            number: self.0,
            ..MediSim.version()
        }
    }
    fn scenario_key(&self, s: &Scenario) -> String {
        MediSim.scenario_key(s)
    }
    fn policy_key(&self, p: &Policy) -> String {
        MediSim.policy_key(p)
    }
    fn set(
        &self,
        s: &Scenario,
        p: &Policy,
        key: &str,
        value: f64,
    ) -> Result<(Scenario, Policy), String> {
        MediSim.set(s, p, key, value)
    }
    fn value(&self, s: &Scenario, p: &Policy, key: &str) -> Result<f64, String> {
        MediSim.value(s, p, key)
    }
    fn run(&self, s: &Scenario, p: &Policy, spec: &RunSpec) -> Result<Summaries, String> {
        MediSim.run(s, p, spec)
    }
}

fn specs() -> Vec<CellSpec<Renumbered>> {
    l1::specs(
        &Scenario::default(),
        medisim_sim::baseline(),
        &l1::grid(2),
        &[1, 2],
        20,
    )
    .into_iter()
    .map(|c| CellSpec {
        labels: c.labels,
        scenario: c.scenario,
        policy: c.policy,
        spec: c.spec,
    })
    .collect()
}

#[test]
fn a_new_model_version_recomputes_every_cell_in_the_same_out() {
    let out = tempfile::tempdir().unwrap();
    let pb = Hidden;
    let specs = specs();
    let n = specs.len();
    let (first, s1) = run_model_cells(&Renumbered(1), &specs, Some(out.path()), &pb).unwrap();
    assert_eq!((s1.computed, s1.reused), (n, 0));
    let (_, s2) = run_model_cells(&Renumbered(1), &specs, Some(out.path()), &pb).unwrap();
    assert_eq!(
        (s2.computed, s2.reused),
        (0, n),
        "same version: every cell reused"
    );
    let (bumped, s3) = run_model_cells(&Renumbered(2), &specs, Some(out.path()), &pb).unwrap();
    assert_eq!(
        (s3.computed, s3.reused),
        (n, 0),
        "new version: every cell recomputed"
    );
    assert!(first.iter().zip(&bumped).all(|(a, b)| a.key != b.key));
    // Each cell file records the version that made it.
    let files: Vec<String> = std::fs::read_dir(out.path().join("cells"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(files.len(), 2 * n);
    assert_eq!(
        files
            .iter()
            .filter(|f| f.contains("\"medisim-sim/2\""))
            .count(),
        n
    );
}

#[test]
fn labels_belong_to_the_experiment_not_the_cache() {
    let out = tempfile::tempdir().unwrap();
    let pb = Hidden;
    let base = || {
        CellSpec::new(
            Scenario::default(),
            medisim_sim::baseline().clone(),
            vec![1],
            10,
        )
    };
    let specs = vec![base().label("id", "first"), base().label("id", "second")];
    let (cells, _) = medisim_experiments::cells::run_cells(&specs, Some(out.path()), &pb).unwrap();
    assert_eq!(cells[0].key, cells[1].key, "one run, shared");
    assert_eq!(
        (cells[0].label("id"), cells[1].label("id")),
        ("first", "second")
    );
    let file = std::fs::read_to_string(
        out.path()
            .join("cells")
            .join(format!("{}.json", cells[0].key)),
    )
    .unwrap();
    assert!(
        !file.contains("labels") && !file.contains("first"),
        "{file}"
    );
    assert!(cells[0].mean(Metric::ArrivalRate) > 0.0);
}
