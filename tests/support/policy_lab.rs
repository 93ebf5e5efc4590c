//! `tlsposture lab --policy F` as a user runs it, from a test: the process,
//! the (declared port, address) of each TLS listener it printed, its CA.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;

/// A `tlsposture lab --policy` process and the addresses it printed.
pub struct PolicyLab {
    child: Child,
    /// (declared port, bound address) of every TLS listener.
    pub tls: Vec<(u16, SocketAddr)>,
    /// (declared port, bound address) of every plain-HTTP listener.
    pub http: Vec<(u16, SocketAddr)>,
    pub ca: PathBuf,
    pub output: String,
}

impl PolicyLab {
    pub fn start(policy: &str) -> PolicyLab {
        PolicyLab::start_with(policy, &[])
    }

    /// With more `lab` flags, e.g. `--cert-type ecdsa`.
    pub fn start_with(policy: &str, extra: &[&str]) -> PolicyLab {
        let mut child = Command::cargo_bin("tlsposture")
            .expect("the tlsposture binary is built")
            .args(["lab", "--policy", policy, "--port-base", "0"])
            .args(extra)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn tlsposture lab");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut output = String::new();
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let line = line.expect("read lab output");
            output.push_str(&line);
            output.push('\n');
            if line.contains("Press Ctrl-C") {
                break;
            }
        }
        assert!(
            output.contains("Press Ctrl-C"),
            "tlsposture lab --policy {policy} did not come up (is Envoy installed? scripts/setup.sh):\n{output}"
        );
        // Keep draining stdout so the lab never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let mut tls = Vec::new();
        let mut http = Vec::new();
        let mut ca = None;
        for line in output.lines() {
            if let Some((_, rest)) = line.split_once(": port ") {
                let (port, rest) = rest.split_once(' ').expect("port then address");
                let url = rest.split_whitespace().nth(1).unwrap_or_default();
                let (list, addr) = match url.strip_prefix("https://") {
                    Some(addr) => (&mut tls, Some(addr)),
                    None => (&mut http, url.strip_prefix("http://")),
                };
                if let Some(addr) = addr {
                    list.push((
                        port.parse().expect("declared port"),
                        addr.parse().expect("bound address"),
                    ));
                }
            }
            if let Some(path) = line.split_whitespace().find(|w| w.ends_with("/ca.pem")) {
                ca = Some(PathBuf::from(path));
            }
        }
        assert!(!tls.is_empty(), "no TLS listener in:\n{output}");
        PolicyLab {
            child,
            tls,
            http,
            ca: ca.unwrap_or_else(|| panic!("no CA path in:\n{output}")),
            output,
        }
    }
}

impl Drop for PolicyLab {
    fn drop(&mut self) {
        // SIGTERM: the lab stops Envoy and removes its files.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}
