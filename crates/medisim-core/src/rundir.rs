//! A run directory: where a long job keeps its results and its plan. Writes are atomic (a kill
//! leaves the old file or the new one, never half of one), and a job that finds an earlier
//! job's plan either resumes it exactly or refuses with the reason.

use crate::model::ModelVersion;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    /// (The I/O error is in the message, not a `source`, so a chain prints it once.)
    #[error("cannot write {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{dir}: a file is there, not a directory; choose another --out")]
    NotADirectory { dir: String },
    #[error("{dir} already holds {kind}; resume it with --resume or choose another --out")]
    AlreadyHolds { dir: String, kind: String },
    #[error("{dir} holds {kind} with different settings; resume it with the same settings")]
    DifferentSettings { dir: String, kind: String },
    #[error("{dir} holds no {kind} to resume")]
    NothingToResume { dir: String, kind: String },
    #[error(
        "{dir} is in use by process {pid} ({lock}); wait for it to finish, or remove the lock \
         file if that process is gone"
    )]
    Locked {
        dir: String,
        pid: String,
        lock: String,
    },
    #[error(
        "{dir} holds {kind} made by model version {held}, and this build is {current}: its \
         cached results belong to the other model; start a new run in another --out"
    )]
    OtherModelVersion {
        dir: String,
        kind: String,
        held: String,
        current: String,
    },
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Write `path` through a temporary file in the same directory and a rename. The temporary name
/// is unique per process and write, so parallel writers of one path never share it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RunDirError> {
    let io = |error| RunDirError::Io {
        path: path.display().to_string(),
        error,
    };
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

/// A job's directory.
#[derive(Clone, Debug)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// Open (creating it if needed) the directory `root`.
    pub fn create(root: &Path) -> Result<RunDir, RunDirError> {
        if root.exists() && !root.is_dir() {
            return Err(RunDirError::NotADirectory {
                dir: root.display().to_string(),
            });
        }
        std::fs::create_dir_all(root).map_err(|error| RunDirError::Io {
            path: root.display().to_string(),
            error,
        })?;
        Ok(RunDir {
            root: root.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Write `name` in the directory atomically.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), RunDirError> {
        write_atomic(&self.join(name), bytes)
    }

    /// Take the directory for this process: one writer at a time. The lock file holds the
    /// holder's pid and, where `/proc` tells it, the process's start time and the boot's id; a
    /// lock left by a process that no longer runs (a kill) is taken over — also when its pid
    /// has since been given to another process, or the machine rebooted, which a pid alone
    /// cannot tell. Released when the returned guard drops.
    pub fn lock(&self) -> Result<RunLock, RunDirError> {
        let path = self.join(LOCK_FILE);
        let io = |error| RunDirError::Io {
            path: path.display().to_string(),
            error,
        };
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    let me = std::process::id();
                    match identity(me) {
                        Some(id) => write!(f, "{me} {id}"),
                        None => write!(f, "{me}"),
                    }
                    .map_err(io)?;
                    return Ok(RunLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid = holder.split_whitespace().next().unwrap_or("").to_string();
                    if holder_is_running(&holder) {
                        return Err(RunDirError::Locked {
                            dir: self.root.display().to_string(),
                            pid,
                            lock: path.display().to_string(),
                        });
                    }
                    // Stale: its holder is gone.
                    let _ = std::fs::remove_file(&path);
                }
                Err(e) => return Err(io(e)),
            }
        }
        Err(RunDirError::Locked {
            dir: self.root.display().to_string(),
            pid: "another process".into(),
            lock: path.display().to_string(),
        })
    }

    /// The resume guard. `held` is the plan an earlier job left here (its settings as text),
    /// `wanted` this job's; `kind` names the job for messages ("a search"). A fresh job may not
    /// overwrite one that is there; a resumed one must repeat its settings exactly.
    pub fn claim(
        &self,
        kind: &str,
        held: Option<&str>,
        wanted: &str,
        resume: bool,
    ) -> Result<(), RunDirError> {
        let (dir, kind_s) = (self.root.display().to_string(), kind.to_string());
        match held {
            Some(_) if !resume => Err(RunDirError::AlreadyHolds { dir, kind: kind_s }),
            Some(prev) if prev != wanted => {
                Err(RunDirError::DifferentSettings { dir, kind: kind_s })
            }
            None if resume => Err(RunDirError::NothingToResume {
                dir,
                // "a search" -> "search"
                kind: kind
                    .strip_prefix("an ")
                    .or_else(|| kind.strip_prefix("a "))
                    .unwrap_or(kind)
                    .to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// Refuse to resume a job made by another model version. `held` is the version the job
    /// recorded (`None`: a job from before versions were recorded).
    pub fn check_version(
        &self,
        kind: &str,
        held: Option<&str>,
        current: ModelVersion,
    ) -> Result<(), RunDirError> {
        let current_s = current.to_string();
        match held {
            Some(v) if v == current_s => Ok(()),
            other => Err(RunDirError::OtherModelVersion {
                dir: self.root.display().to_string(),
                kind: kind.to_string(),
                held: other.unwrap_or("(none recorded)").to_string(),
                current: current_s,
            }),
        }
    }
}

/// The lock file of a run directory.
pub const LOCK_FILE: &str = ".lock";

/// Holds a run directory for this process; removes the lock file when dropped.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether the lock text `holder` (`PID [START BOOT]`) names a process that runs now. An
/// unreadable pid (a kill mid-write) names nobody. With a start time and boot id recorded, the
/// process at that pid must have the same ones (a reused pid, or a reboot, is another
/// process). Where the platform cannot tell (no `/proc`), a lock is assumed live: refusing is
/// safer than two writers.
fn holder_is_running(holder: &str) -> bool {
    let mut words = holder.split_whitespace();
    let Some(Ok(pid)) = words.next().map(str::parse::<u32>) else {
        return false;
    };
    let recorded: Vec<&str> = words.collect();
    if !Path::new("/proc").is_dir() {
        return true;
    }
    if recorded.is_empty() {
        // A lock from before identities were recorded: the pid is all there is.
        return pid == std::process::id() || identity(pid).is_some();
    }
    identity(pid).is_some_and(|now| now == recorded.join(" "))
}

/// A process's identity beyond its pid: its start time (clock ticks after boot, field 22 of
/// `/proc/PID/stat`) and the boot's id. `None` when the process does not exist, is a zombie,
/// or the platform has no `/proc`.
fn identity(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count fields after its last `)`.
    let after: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    // A zombie (killed, not yet reaped) or dead process holds nothing.
    if matches!(after.first(), Some(&"Z") | Some(&"X") | None) {
        return None;
    }
    let start = after.get(19)?;
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    Some(format!("{start} {}", boot.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: ModelVersion = ModelVersion {
        model: "m",
        number: 3,
    };

    #[test]
    fn atomic_writes_replace_and_leave_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        let rd = RunDir::create(&d.path().join("run")).unwrap();
        rd.write("a.txt", b"one").unwrap();
        rd.write("a.txt", b"two").unwrap();
        assert_eq!(std::fs::read(rd.join("a.txt")).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(rd.path()).unwrap().count(), 1);
        let e = write_atomic(&d.path().join("missing/x"), b"").unwrap_err();
        assert!(e.to_string().contains("missing/x"), "{e}");
    }

    #[test]
    fn the_guard_resumes_only_the_same_job() {
        let d = tempfile::tempdir().unwrap();
        let rd = RunDir::create(d.path()).unwrap();
        assert!(rd.claim("a search", None, "x", false).is_ok());
        assert!(rd.claim("a search", Some("x"), "x", true).is_ok());
        let e = rd.claim("a search", Some("x"), "x", false).unwrap_err();
        assert!(e.to_string().contains("already holds a search"), "{e}");
        let e = rd.claim("a search", Some("x"), "y", true).unwrap_err();
        assert!(e.to_string().contains("different settings"), "{e}");
        let e = rd.claim("a search", None, "x", true).unwrap_err();
        assert!(e.to_string().contains("holds no search to resume"), "{e}");
    }

    #[test]
    fn one_writer_holds_a_directory_and_a_dead_holder_is_taken_over() {
        let d = tempfile::tempdir().unwrap();
        let rd = RunDir::create(d.path()).unwrap();
        let held = rd.lock().unwrap();
        let e = rd.lock().unwrap_err().to_string();
        assert!(
            e.contains("in use by process") && e.contains(".lock"),
            "{e}"
        );
        drop(held);
        assert!(!rd.join(LOCK_FILE).exists());
        // A lock left by a process that is gone (pid beyond any real one).
        std::fs::write(rd.join(LOCK_FILE), "4294967295").unwrap();
        drop(rd.lock().unwrap());
    }

    /// A killed holder's pid given to another process since: the lock names the pid with the
    /// start time of the process that held it, so the newcomer at that pid does not hold it.
    #[test]
    fn a_stale_lock_whose_pid_was_reused_is_taken_over() {
        if identity(std::process::id()).is_none() {
            return; // no /proc: a lock is assumed live, tested above
        }
        let d = tempfile::tempdir().unwrap();
        let rd = RunDir::create(d.path()).unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let live = format!("{} {}", child.id(), identity(child.id()).unwrap());
        std::fs::write(rd.join(LOCK_FILE), &live).unwrap();
        let e = rd.lock().unwrap_err().to_string();
        assert!(e.contains(&format!("process {}", child.id())), "{e}");
        // The same pid, but started at another time: the holder that wrote this is gone.
        let reused = format!("{} 1 {}", child.id(), live.rsplit(' ').next().unwrap());
        std::fs::write(rd.join(LOCK_FILE), reused).unwrap();
        let held = rd.lock().unwrap();
        let text = std::fs::read_to_string(rd.join(LOCK_FILE)).unwrap();
        assert!(
            text.starts_with(&format!("{} ", std::process::id())),
            "{text}"
        );
        drop(held);
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn another_model_version_is_refused_naming_both() {
        let d = tempfile::tempdir().unwrap();
        let rd = RunDir::create(d.path()).unwrap();
        assert!(rd.check_version("a search", Some("m/3"), V).is_ok());
        let e = rd
            .check_version("a search", Some("m/2"), V)
            .unwrap_err()
            .to_string();
        assert!(e.contains("m/2") && e.contains("m/3"), "{e}");
        let e = rd
            .check_version("a search", None, V)
            .unwrap_err()
            .to_string();
        assert!(e.contains("none recorded") && e.contains("m/3"), "{e}");
    }
}
