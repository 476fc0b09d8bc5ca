//! The README's "Your own setting" block, run as written: each `$ medisim …` line in a fresh
//! directory (with the shipped policies beside it), every one must succeed and leave what the
//! README says it leaves.

mod common;

use common::{root, text};
use std::process::Command;

/// The console lines of the README section titled `heading`.
fn commands(heading: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with(heading))
        .unwrap_or_else(|| panic!("README has no section `{heading}`"));
    section
        .lines()
        .filter_map(|l| l.strip_prefix("$ "))
        .map(|l| l.split("  #").next().unwrap_or(l).trim().to_string())
        .collect()
}

#[test]
fn the_readme_examples_of_your_own_setting_run_as_written() {
    let lines = commands("Your own setting");
    assert!(lines.len() >= 5, "{lines:?}");
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root().join("policies"), dir.path().join("policies")).unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_medisim"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for line in &lines {
        assert!(line.starts_with("medisim "), "{line}");
        let out = Command::new("bash")
            .arg("-c")
            .arg(line)
            .current_dir(dir.path())
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`{line}` failed:\n{}",
            text(&out.stderr)
        );
    }
    let d = dir.path();
    let scenario = std::fs::read_to_string(d.join("my.toml")).unwrap();
    assert!(scenario.contains("# mean arrivals per period\nrate = 9.0  # patients / period"));
    assert!(d.join("sweep/sweep.csv").exists() && d.join("sweep/sweep.parquet").exists());
    assert!(d.join("lhs/sweep-replicates.parquet").exists());
    let report = std::fs::read_to_string(d.join("mine/report.html")).unwrap();
    assert!(report.contains("id=\"summary\"") && report.contains("id=\"l3-table\""));
}
