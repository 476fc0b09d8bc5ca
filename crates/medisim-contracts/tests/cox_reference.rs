//! The Cox fit against an established implementation: Python's `lifelines` on one generated
//! cohort's control arm, to 1e-6. (Death times are continuous, so there are no tied events and
//! lifelines' Efron ties coincide with our Breslow ties.) `.ci/run` installs lifelines; outside
//! CI the test is skipped with a note when it is missing.

use medisim_contracts::estimate::{cox_fit, Synthetic};
use std::process::Command;

#[test]
fn the_cox_fit_matches_lifelines_to_1e_6() {
    let have = Command::new("python3")
        .args(["-c", "import lifelines"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install lifelines (.ci/run does)"
        );
        eprintln!("lifelines not installed: skipping the reference comparison");
        return;
    }
    let cohort = Synthetic::default().cohort(3000, 17);
    let arm: Vec<_> = cohort.iter().filter(|p| !p.expenditure).collect();
    let time: Vec<f64> = arm.iter().map(|x| x.death.min(x.los)).collect();
    let event: Vec<bool> = arm.iter().map(|x| !x.survived()).collect();
    let z: Vec<Vec<f64>> = arm.iter().map(|x| x.z.to_vec()).collect();
    let ours = cox_fit(&time, &event, &z).expect("fits");

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("arm.csv");
    let mut text = String::from("T,E,z1,z2,z3\n");
    for i in 0..time.len() {
        text.push_str(&format!(
            "{:?},{},{:?},{:?},{:?}\n",
            time[i],
            u8::from(event[i]),
            z[i][0],
            z[i][1],
            z[i][2]
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let script = format!(
        "import pandas as pd\nfrom lifelines import CoxPHFitter\n\
         df = pd.read_csv(r'{}')\n\
         f = CoxPHFitter().fit(df, 'T', 'E', fit_options={{'precision': 1e-12, 'max_steps': 500}})\n\
         print(' '.join(repr(float(f.params_[c])) for c in ['z1', 'z2', 'z3']))\n\
         print(repr(float(f.log_likelihood_)))\n",
        csv.display()
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    let reference: Vec<f64> = lines
        .next()
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    let ll: f64 = lines.next().unwrap().trim().parse().unwrap();
    for (k, (a, b)) in ours.beta.iter().zip(&reference).enumerate() {
        assert!((a - b).abs() < 1e-6, "β{k}: ours {a}, lifelines {b}");
    }
    assert!(
        (ours.log_likelihood - ll).abs() < 1e-6,
        "log likelihood {} vs {ll}",
        ours.log_likelihood
    );
}
