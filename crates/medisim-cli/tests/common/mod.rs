//! Helpers shared by the command-line tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn medisim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medisim"))
        .args(args)
        .output()
        .expect("runs")
}

/// Run `medisim` and require exit 0, showing its stderr otherwise.
pub fn succeeds(args: &[&str]) -> Output {
    let out = medisim(args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    out
}

/// Run `medisim`, killing it after `limit`: hostile input must end in bounded time. Returns
/// the output and how long it took; panics (naming the command) if it ran past the limit.
pub fn within(limit: Duration, args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_medisim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    // Drain the pipes on threads so a chatty child cannot block on a full pipe.
    let mut so = child.stdout.take().expect("piped");
    let mut se = child.stderr.take().expect("piped");
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut b).ok();
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut b).ok();
        b
    });
    loop {
        if let Some(status) = child.try_wait().expect("waits") {
            let out = Output {
                status,
                stdout: t_out.join().unwrap(),
                stderr: t_err.join().unwrap(),
            };
            return (out, start.elapsed());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("`medisim {}` ran past {limit:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub const GOOD: &str = "kind = \"hospital_policy\"\nversion = \"medisim_dsl_v1\"\nname = \"t\"\n[admin_policy]\nalpha = (0.4)\n";

/// `medisim args` started in the background, its output discarded.
pub fn spawn_quiet(args: &[String]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_medisim"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts")
}

/// Start `medisim args`, let it run for `millis`, try the same command beside it (a second
/// writer into its `--out` must be refused naming the holder, unless the first has finished),
/// then SIGKILL the first: the state a kill mid-run leaves, for a resume test to continue.
pub fn kill_mid_run(args: &[String], millis: u64) {
    let mut child = spawn_quiet(args);
    std::thread::sleep(Duration::from_millis(millis));
    let busy = medisim(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let _ = child.kill();
    let _ = child.wait();
    if busy.status.code() == Some(2) {
        assert!(text(&busy.stderr).contains("in use by process"));
    }
}
