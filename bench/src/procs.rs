//! The processes of a run: NATS, the MongoDB-compatible server and the three
//! services, each a child of this process on free loopback ports, killed when
//! the run ends (or when this process dies: `PR_SET_PDEATHSIG`).
#![allow(unsafe_code)]

use std::{
    fs::File,
    net::TcpListener,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};

/// A port that was free a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A child process, killed when dropped.
pub struct Proc {
    pub name: String,
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    /// Starts `command` with its output in `<logs>/<name>.log`.
    pub fn spawn(name: &str, mut command: Command, logs: &Path) -> anyhow::Result<Self> {
        let log = logs.join(format!("{name}.log"));
        let out = File::create(&log)?;
        command
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        // SAFETY: prctl is async-signal-safe and touches only this child.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails with the end of its log if the process has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!(
                "{} exited ({status}); the end of {}:\n{}",
                self.name,
                self.log.display(),
                tail.join("\n")
            );
        }
        Ok(())
    }

    /// Sends `signal` (`libc::SIGSTOP`, `libc::SIGCONT`, ...) to the process.
    pub fn signal(&self, signal: i32) {
        if let Ok(pid) = i32::try_from(self.pid()) {
            // SAFETY: kill(2) with the pid of our own child.
            unsafe {
                libc::kill(pid, signal);
            }
        }
    }

    /// Peak and current resident memory in KiB (`VmHWM`, `VmRSS`).
    pub fn memory_kib(&self) -> Option<(u64, u64)> {
        memory_kib(self.pid())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// User and system CPU time of a process so far, in seconds.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    cpu_of_stat(&stat)
}

/// `utime + stime` of a `/proc/<pid>/stat` line, in seconds (USER_HZ = 100).
pub fn cpu_of_stat(stat: &str) -> Option<f64> {
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// `VmHWM` and `VmRSS` of a process, in KiB.
pub fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some((
        status_field(&status, "VmHWM")?,
        status_field(&status, "VmRSS")?,
    ))
}

/// A `Name:   1234 kB` line of `/proc/<pid>/status`.
pub fn status_field(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Polls `ready` every 20 ms until it holds, `bound` passes, or `proc` exits.
pub async fn wait_ready<F, Fut>(
    what: &str,
    bound: Duration,
    proc: &mut Proc,
    mut ready: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + bound;
    loop {
        if ready().await {
            return Ok(());
        }
        proc.check_alive()?;
        if Instant::now() > deadline {
            bail!(
                "{what} was not ready within {bound:?} (log: {})",
                proc.log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn http_ok(http: &reqwest::Client, url: String) -> bool {
    matches!(http.get(url).timeout(Duration::from_secs(1)).send().await, Ok(r) if r.status().is_success())
}

/// NATS with JetStream, data under `dir`.
pub async fn start_nats(
    tools: &Path,
    dir: &Path,
    logs: &Path,
    http: &reqwest::Client,
) -> anyhow::Result<(Proc, u16, u16)> {
    std::fs::create_dir_all(dir)?;
    let (port, monitor) = (free_port()?, free_port()?);
    let mut command = Command::new(tools.join("nats-server"));
    command.args(["-js", "-sd"]).arg(dir).args([
        "-a",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-m",
        &monitor.to_string(),
    ]);
    let mut proc = Proc::spawn("nats-server", command, logs)?;
    let url = format!("http://127.0.0.1:{monitor}/healthz?js-enabled-only=true");
    wait_ready("nats-server", Duration::from_secs(20), &mut proc, || {
        http_ok(http, url.clone())
    })
    .await?;
    Ok((proc, port, monitor))
}

/// The MongoDB-compatible server, data under `dir`.
pub async fn start_mongo(tools: &Path, dir: &Path, logs: &Path) -> anyhow::Result<(Proc, u16)> {
    std::fs::create_dir_all(dir)?;
    let port = free_port()?;
    let mut command = Command::new(tools.join("nx-27017"));
    command
        .arg("--data-dir")
        .arg(dir)
        .args(["--host", "127.0.0.1", "-p", &port.to_string()])
        .arg("--log-file")
        .arg(logs.join("nx-27017-server.log"))
        .arg("--pid-file")
        .arg(dir.join("server.pid"));
    let mut proc = Proc::spawn("nx-27017", command, logs)?;
    wait_ready(
        "nx-27017",
        Duration::from_secs(30),
        &mut proc,
        || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        },
    )
    .await?;
    Ok((proc, port))
}

/// The first line a command prints, or `unknown`.
pub fn version_of(program: &Path, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_are_read_in_kib() {
        let status =
            "Name:\tprojector\nVmPeak:\t  900 kB\nVmHWM:\t   41236 kB\nVmRSS:\t   39000 kB\n";
        assert_eq!(status_field(status, "VmHWM"), Some(41_236));
        assert_eq!(status_field(status, "VmRSS"), Some(39_000));
        assert_eq!(status_field(status, "VmSwap"), None);
    }

    #[test]
    fn cpu_time_is_read_after_the_command_name() {
        let stat = "4242 (tokio (worker)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 0 0";
        assert_eq!(cpu_of_stat(stat), Some(3.0));
        assert!(cpu_seconds(std::process::id()).is_some());
    }

    #[test]
    fn our_own_memory_is_readable() {
        let (peak, now) = memory_kib(std::process::id()).expect("readable");
        assert!(peak >= now && now > 0);
    }
}
