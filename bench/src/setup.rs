//! Before the run: the tools and binaries it needs (built first unless told
//! otherwise), where its results, data and logs go, and the versions it runs.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::{cli::Options, procs};

/// Where a run finds what it runs and puts what it writes.
pub struct Setup {
    /// The workspace root.
    pub root: PathBuf,
    /// Where `nats-server`, `nx-27017` and `pip` are (`./dev setup` installs them).
    pub tools: PathBuf,
    /// Where the service binaries are.
    pub bin_dir: PathBuf,
    /// Where the results are written.
    pub out: PathBuf,
    /// A full run into the default place, whose table replaces the one in BENCHMARKS.md.
    pub default_out: bool,
    /// The servers' data and the services' logs, removed at the end unless `--keep`.
    pub tmp: PathBuf,
    pub logs: PathBuf,
}

impl Setup {
    /// Checks the tools, builds the services (unless `--no-build`), checks
    /// their binaries and makes the output and temporary directories.
    pub fn prepare(options: &Options) -> anyhow::Result<Self> {
        let root = root();
        let tools = tools_bin();
        for tool in ["nats-server", "nx-27017"] {
            if !tools.join(tool).exists() {
                bail!(
                    "{} is missing: run `./dev setup` first",
                    tools.join(tool).display()
                );
            }
        }
        if options.build {
            build_services(&root)?;
        }
        let bin_dir = options
            .bin_dir
            .clone()
            .unwrap_or_else(|| target_dir().join("release"));
        for bin in ["command-api", "projector", "query-api"] {
            if !bin_dir.join(bin).exists() {
                bail!(
                    "{} is missing: build with `cargo build --release --bins` or pass --bin-dir",
                    bin_dir.join(bin).display()
                );
            }
        }
        let default_out = !options.quick && !options.growth && options.out.is_none();
        let out = options.out.clone().unwrap_or_else(|| {
            root.join(match (options.growth, options.quick) {
                (false, false) => "bench/results",
                (false, true) => "bench/results/quick",
                (true, false) => "bench/results/growth",
                (true, true) => "bench/results/growth/quick",
            })
        });
        std::fs::create_dir_all(&out)?;
        let tmp = std::env::temp_dir().join(format!("flow-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let logs = tmp.join("logs");
        std::fs::create_dir_all(&logs)?;
        say!("data and logs in {}", tmp.display());
        Ok(Self {
            root,
            tools,
            bin_dir,
            out,
            default_out,
            tmp,
            logs,
        })
    }

    /// The same set-up with its servers' data and logs in `<tmp>/<name>`:
    /// for a second system in the same run, started from empty servers.
    pub fn part(&self, name: &str) -> anyhow::Result<Self> {
        let tmp = self.tmp.join(name);
        let logs = tmp.join("logs");
        std::fs::create_dir_all(&logs)?;
        Ok(Self {
            root: self.root.clone(),
            tools: self.tools.clone(),
            bin_dir: self.bin_dir.clone(),
            out: self.out.clone(),
            default_out: self.default_out,
            tmp,
            logs,
        })
    }

    /// The versions of what runs: ours, the compiler, the servers and the clients.
    pub fn versions(&self) -> Value {
        json!({
            "flow": env!("CARGO_PKG_VERSION"),
            "git": git_describe(&self.root),
            "rustc": procs::version_of(Path::new("rustc"), &["--version"]),
            "nats_server": procs::version_of(&self.tools.join("nats-server"), &["--version"]),
            "nx_27017": pip_version(&self.tools, "nx-27017"),
            "async_nats": "0.51",
            "mongodb_driver": "3.9",
        })
    }
}

/// The workspace root: the current directory when run from it (as `./dev
/// bench` does), else where this crate was built.
fn root() -> PathBuf {
    if let Ok(cwd) = std::env::current_dir()
        && cwd.join("bench/Cargo.toml").is_file()
    {
        return cwd;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn tools_bin() -> PathBuf {
    std::env::var_os("FLOW_TOOLS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".tools/bin"))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// `cargo build --release` of the three services.
fn build_services(root: &Path) -> anyhow::Result<()> {
    say!("building the services (release)");
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "build",
            "--release",
            "--locked",
            "--bins",
            "-p",
            "command-api",
            "-p",
            "projector",
            "-p",
            "query-api",
        ])
        .current_dir(root)
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!("cargo build --release failed");
    }
    Ok(())
}

fn git_describe(root: &Path) -> String {
    let run = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let head = run(&["rev-parse", "--short", "HEAD"]);
    let dirty = !run(&["status", "--porcelain", "--untracked-files=no"]).is_empty();
    if dirty {
        format!("{head} (with uncommitted changes)")
    } else {
        head
    }
}

fn pip_version(tools: &Path, package: &str) -> String {
    let out = Command::new(tools.join("pip"))
        .args(["show", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    out.lines()
        .find_map(|l| l.strip_prefix("Version: "))
        .unwrap_or("unknown")
        .trim()
        .to_owned()
}
