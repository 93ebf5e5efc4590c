//! Benchmark: a fleet of Envoy listeners scanned in one process (issue 13's
//! "Done when"), beside sslscan and testssl.sh `--parallel` on the same
//! fleet, on loopback only.
//!
//! One Envoy serves N listeners (default 200, `TLSPOSTURE_FLEET=N`), each
//! an Istio Gateway server of its own port, cycling through five of the
//! lab's configurations (Envoy defaults from TLS 1.2, TLS 1.2 only, TLS 1.3
//! only, restricted suites, legacy TLS 1.0 with CBC suites). The lab
//! renders them from a generated Gateway through the Istio model, and the
//! same model (`policy::effective`, derived from Istio's and Envoy's
//! source) is the known truth each target is compared with: the versions
//! offered and the suites per version, exactly.
//!
//! Prints, for tlsposture (`scan --targets … --checks protocols,suites
//! --jsonl`, the release binary): wall time, peak resident memory (the
//! process tree's resident memory, sampled from /proc), handshakes per listener (max and mean against the
//! ≤ 16 budget), and exact/N; then the same fleet through sslscan (one
//! process per target, run side by side as `xargs -P` would) and testssl.sh
//! `--parallel --file` (mass testing mode; on the first
//! `TLSPOSTURE_FLEET_TESTSSL` targets, default 20, since testssl.sh needs
//! minutes per target here, and the time is extrapolated and marked so).
//! Last, memory for 1,000 targets (the fleet's listeners repeated with
//! different names, `--checks protocols`), against the 50 MB bound.
//!
//! Run: `cargo bench --bench fleet` (release build). Under `cargo test
//! --all-targets` it only prints a line.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tlsposture::lab::{listeners_from_policy, CertKinds, Lab, PolicyLabOptions};
use tlsposture::policy::effective::{self, CertKeyTypes};
use tlsposture::policy::istiod::{self, IstioVersion};

/// The five configurations the fleet cycles through: (name, Gateway `tls`
/// fields beyond mode and credential).
const KINDS: &[(&str, &str)] = &[
    ("defaults-from-1.2", "minProtocolVersion: TLSV1_2"),
    (
        "tls12-only",
        "minProtocolVersion: TLSV1_2\n      maxProtocolVersion: TLSV1_2",
    ),
    (
        "tls13-only",
        "minProtocolVersion: TLSV1_3\n      maxProtocolVersion: TLSV1_3",
    ),
    (
        "restricted",
        "minProtocolVersion: TLSV1_2\n      cipherSuites:\n      - ECDHE-RSA-AES128-GCM-SHA256\n      - ECDHE-RSA-AES256-GCM-SHA384",
    ),
    (
        "legacy-tls10",
        "minProtocolVersion: TLSV1_0\n      maxProtocolVersion: TLSV1_3\n      cipherSuites:\n      - ECDHE-RSA-AES128-GCM-SHA256\n      - ECDHE-RSA-AES128-SHA\n      - AES128-SHA\n      - AES256-SHA",
    ),
];

/// Where the fleet's ports start; each server declares its own port and
/// the lab binds it as declared, so target port = declared port.
const PORT_BASE: u16 = 41000;
const BUDGET_PER_LISTENER: u32 = 16;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("fleet: benchmark; run it with `cargo bench --bench fleet`");
        return;
    }
    let n: usize = env_number("TLSPOSTURE_FLEET", 200);
    let testssl_n: usize = env_number("TLSPOSTURE_FLEET_TESTSSL", 20).min(n);
    // Envoy watches each listener's SDS files with an inotify instance of
    // its own: 200 listeners need more than Linux's default 128.
    let instances: usize = std::fs::read_to_string("/proc/sys/fs/inotify/max_user_instances")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    assert!(
        instances >= 2 * n + 64,
        "fs.inotify.max_user_instances is {instances}: Envoy needs about one per listener's \
         secret; raise it (sysctl -w fs.inotify.max_user_instances={}) or set TLSPOSTURE_FLEET lower",
        4 * n + 256
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let policy_path = dir.path().join("fleet.yaml");
    std::fs::write(&policy_path, fleet_policy(n)).expect("write the fleet policy");
    let policy = tlsposture::policy::load_files(std::slice::from_ref(&policy_path))
        .unwrap_or_else(|e| panic!("the generated policy: {e}"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (lab, truth) = start_fleet(&runtime, &policy, n, CertKinds::Rsa);
    let targets = dir.path().join("targets.txt");
    let mut list = String::new();
    for i in 0..n {
        list.push_str(&format!("127.0.0.1:{} {}\n", port(i), host(i)));
    }
    std::fs::write(&targets, &list).expect("targets file");

    let binary = common::release_binary();
    let envoy = lab.pid();
    let mut fleet = Fleet {
        binary: &binary,
        targets: &targets,
        policy: &policy_path,
        dir: dir.path(),
        envoy,
        n,
    };
    scan_fleet(&fleet, "RSA", &truth);

    // sslscan: one process per target, 8 at a time (its own fleet mode is a
    // shell loop); protocols and suites are part of its default run.
    if which("sslscan") {
        // Which targets sslscan failed on, and the line it said why (xargs
        // says only that some did).
        let failures = dir.path().join("sslscan-failures.txt");
        let one = dir.path().join("sslscan-one.sh");
        std::fs::write(
            &one,
            "out=$(sslscan --no-colour --sni-name=\"$2\" \"$1\" 2>&1) && exit 0\n\
             rc=$?\n\
             why=$(printf '%s\\n' \"$out\" | grep -i -m1 -E 'error|fail|unable|could not|timed out')\n\
             echo \"$1 $2 exit $rc: $why\" >> \"$FAILURES\"\n\
             exit $rc\n",
        )
        .expect("write the sslscan wrapper");
        let sslscan = run_measured(
            Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "xargs -P 8 -L 1 sh {} < {}",
                    one.display(),
                    targets.display()
                ))
                .env("FAILURES", &failures),
            envoy,
        );
        println!(
            "sslscan     default run       {n} targets  wall {:>7.3} s  CPU {:>6.3} s (Envoy {:>6.3} s)  peak RSS {:>6.1} MB (all its processes; one per target, 8 at once)  exit {}",
            sslscan.wall.as_secs_f64(),
            sslscan.cpu.as_secs_f64(),
            sslscan.server_cpu.as_secs_f64(),
            sslscan.max_rss_kb as f64 / 1024.0,
            sslscan.exit,
        );
        let failed = std::fs::read_to_string(&failures).unwrap_or_default();
        if !failed.is_empty() {
            let lines: Vec<&str> = failed.lines().collect();
            println!(
                "  sslscan failed on {} of {n} targets, e.g. {}",
                lines.len(),
                lines.iter().take(3).copied().collect::<Vec<_>>().join("; ")
            );
        }
    } else {
        println!("sslscan: not installed (scripts/setup.sh installs it)");
    }
    // testssl.sh mass testing: `--file` with one command line per target,
    // `--parallel`. It has no SNI option: the name in the URI is the SNI,
    // and `--ip` says where to connect instead of resolving it.
    if which("testssl") {
        let cmds = dir.path().join("testssl.txt");
        let mut text = String::new();
        for i in 0..testssl_n {
            text.push_str(&format!(
                "-p -e --sneaky --warnings off --color 0 --ip 127.0.0.1 {}:{}\n",
                host(i),
                port(i)
            ));
        }
        std::fs::write(&cmds, text).expect("testssl file");
        let testssl = run_measured(
            Command::new("testssl")
                .args(["--parallel", "--warnings", "off", "--file"])
                .arg(&cmds)
                .current_dir(dir.path()),
            envoy,
        );
        let per = testssl.wall.as_secs_f64() / testssl_n.max(1) as f64;
        println!(
            "testssl.sh  -p -e --parallel  {testssl_n} targets  wall {:>7.3} s  CPU {:>6.3} s (Envoy {:>6.3} s)  peak RSS {:>6.1} MB  ({:.1} s per target; {n} targets ≈ {:.0} s extrapolated{})  exit {}",
            testssl.wall.as_secs_f64(),
            testssl.cpu.as_secs_f64(),
            testssl.server_cpu.as_secs_f64(),
            testssl.max_rss_kb as f64 / 1024.0,
            per,
            per * n as f64,
            if testssl_n == n { ", measured" } else { "" },
            testssl.exit,
        );
    } else {
        println!("testssl.sh: not installed (scripts/setup.sh installs it)");
    }

    // Memory for 1,000 targets: the fleet's listeners again and again,
    // each time under another name (a distinct target to the scanner).
    let many = dir.path().join("many.txt");
    let mut text = String::new();
    for j in 0..1000 {
        let i = j % n;
        text.push_str(&format!("127.0.0.1:{} r{}.{}\n", port(i), j, host(i)));
    }
    std::fs::write(&many, text).expect("targets file");
    let thousand = run_measured(
        Command::new(&binary)
            .args(["scan", "--targets"])
            .arg(&many)
            .args([
                "--checks",
                "protocols",
                "--no-progress",
                "--jsonl",
                "/dev/null",
                "--json",
                "/dev/null",
            ]),
        envoy,
    );
    println!(
        "tlsposture  protocols         1000 targets  wall {:>7.3} s  peak RSS {:>6.1} MB (bound ≤ 50 MB: {})",
        thousand.wall.as_secs_f64(),
        thousand.max_rss_kb as f64 / 1024.0,
        if thousand.max_rss_kb <= 50 * 1024 { "met" } else { "NOT met" }
    );
    let _ = runtime.block_on(lab.stop());

    // The same fleet with ECDSA P-256 certificates: the server's signatures
    // cost a fraction of RSA-2048's, so what is left is mostly the
    // scanner's own time. The suites listed for RSA servers (restricted,
    // legacy) leave such a server TLS 1.3 only, as the model says.
    let (lab, truth) = start_fleet(&runtime, &policy, n, CertKinds::Ecdsa);
    fleet.envoy = lab.pid();
    scan_fleet(&fleet, "ECDSA", &truth);
    let _ = std::io::stdout().flush();
    let _ = runtime.block_on(lab.stop());
}

/// Starts one Envoy serving the fleet with `certs` and works out the known
/// truth per port from the Istio model.
fn start_fleet(
    runtime: &tokio::runtime::Runtime,
    policy: &tlsposture::policy::DeclaredPolicy,
    n: usize,
    certs: CertKinds,
) -> (Lab, BTreeMap<u16, Truth>) {
    let started = Instant::now();
    let plab = listeners_from_policy(
        policy,
        &PolicyLabOptions {
            port_base: Some(PORT_BASE),
            cert_type: certs,
            ..PolicyLabOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("rendering the fleet: {e}"));
    // Two hundred listeners, each with its own certificate: Envoy needs
    // longer than the lab's default start-up allowance on a loaded machine.
    let options = tlsposture::lab::LabOptions {
        startup_timeout: Duration::from_secs(300),
        ..plab.lab_options(None)
    };
    let lab: Lab = runtime
        .block_on(Lab::start(options))
        .unwrap_or_else(|e| panic!("cannot start the fleet's Envoy: {e}"));
    println!(
        "fleet: {n} listeners ({certs:?} certificates) on one Envoy {} up in {:.1} s",
        lab.envoy_version(),
        started.elapsed().as_secs_f64()
    );
    let keys = CertKeyTypes {
        rsa: certs != CertKinds::Ecdsa,
        ecdsa: certs != CertKinds::Rsa,
    };
    let resolved = istiod::resolve(policy, IstioVersion::DEFAULT);
    let truth = effective::expectations_of(policy, &resolved)
        .iter()
        .map(|e| {
            let versions = e.versions(keys);
            let suites = versions
                .iter()
                .map(|v| (v.to_string(), e.suites_at(*v, keys).into_iter().collect()))
                .collect();
            (
                e.port,
                Truth {
                    versions: versions.iter().map(ToString::to_string).collect(),
                    suites,
                },
            )
        })
        .collect();
    (lab, truth)
}

/// What a scan of the fleet needs.
struct Fleet<'a> {
    binary: &'a Path,
    targets: &'a Path,
    policy: &'a Path,
    dir: &'a Path,
    envoy: Option<u32>,
    n: usize,
}

/// One run of `tlsposture scan` over the fleet, protocols and suites,
/// writing its JSONL to `jsonl`.
fn scan_once(fleet: &Fleet, jsonl: &Path) -> Measured {
    run_measured(
        Command::new(fleet.binary)
            .args(["scan", "--targets"])
            .arg(fleet.targets)
            .args(["--policy"])
            .arg(fleet.policy)
            .args([
                "--checks",
                "protocols,suites",
                "--max-targets",
                "200",
                "--max-connections-total",
                "512",
                "--timeout",
                "2s",
                "--no-progress",
                "--jsonl",
            ])
            .arg(jsonl),
        fleet.envoy,
    )
}

/// Scans the fleet (protocols and suites) and prints the figures: wall,
/// CPU, memory, exactness, handshakes overall and per configuration.
fn scan_fleet(fleet: &Fleet, certs: &str, truth: &BTreeMap<u16, Truth>) {
    let Fleet { dir, n, .. } = *fleet;
    let jsonl = dir.join(format!("fleet-{certs}.jsonl"));
    // The machine's noise moves one run by a third; the median of several
    // (each judged for exactness) is the figure, the fastest beside it.
    let runs = env_number("TLSPOSTURE_FLEET_RUNS", 5).max(1);
    let mut measured: Vec<(Measured, Judged)> = (0..runs)
        .map(|_| {
            let m = scan_once(fleet, &jsonl);
            (m, judge(&jsonl, truth))
        })
        .collect();
    measured.sort_by_key(|(m, _)| m.wall);
    let fastest = measured[0].0.wall;
    // Exact in every run, and every mismatch any run had.
    let exact = measured.iter().map(|(_, j)| j.0).min().unwrap_or(0);
    let mut mismatches: Vec<String> = measured.iter().flat_map(|(_, j)| j.2.clone()).collect();
    mismatches.sort_unstable();
    mismatches.dedup();
    let (ours, (_, handshakes, _)) = measured.swap_remove(runs / 2);
    let counts: Vec<u32> = handshakes.values().copied().collect();
    let max = counts.iter().max().copied().unwrap_or(0);
    let mean = counts.iter().sum::<u32>() as f64 / counts.len().max(1) as f64;
    println!(
        "tlsposture  protocols+suites  {n} targets ({certs})  wall {:>7.3} s (median of {runs}, fastest {:.3} s)  CPU {:>6.3} s (Envoy {:>6.3} s)  peak RSS {:>6.1} MB  exact {exact}/{n} (every run)  handshakes/listener max {max} mean {mean:.1} (budget ≤ {BUDGET_PER_LISTENER}: mean {}, max {})  exit {}",
        ours.wall.as_secs_f64(),
        fastest.as_secs_f64(),
        ours.cpu.as_secs_f64(),
        ours.server_cpu.as_secs_f64(),
        ours.max_rss_kb as f64 / 1024.0,
        met(mean <= f64::from(BUDGET_PER_LISTENER)),
        met(max <= BUDGET_PER_LISTENER),
        ours.exit,
    );
    // Per configuration: what each needs, against what it offers. Every
    // accepted suite needs a ServerHello of its own (one pick per hello),
    // each version a refusal to end its pass, and the preference order one
    // reversed hello per suite but the last; the protocol hellos (six)
    // give each version's first pick.
    for (k, (kind, _)) in KINDS.iter().enumerate() {
        let ports: Vec<u16> = (0..n).filter(|i| i % KINDS.len() == k).map(port).collect();
        let Some(first) = ports.first().and_then(|p| truth.get(p)) else {
            continue;
        };
        let per: Vec<u32> = ports
            .iter()
            .filter_map(|p| handshakes.get(p))
            .copied()
            .collect();
        let suites: Vec<String> = first
            .suites
            .iter()
            .map(|(v, s)| format!("{v}: {}", s.len()))
            .collect();
        let floor: usize = 6 + first
            .suites
            .values()
            .map(|s| 2 * s.len().saturating_sub(1) + 1)
            .sum::<usize>();
        // Any exact enumeration, order aside: one accepted hello per
        // (version, suite), the protocol hello being the first, and one
        // refusal per version to show nothing else is accepted there.
        let exact_floor: usize = 6 + first.suites.values().map(BTreeSet::len).sum::<usize>();
        println!(
            "  {kind:<18} {:>3} listeners  handshakes max {:>2} mean {:>4.1}  suites [{}]  fewest by this method {floor}, by any exact scan {exact_floor}",
            per.len(),
            per.iter().max().copied().unwrap_or(0),
            per.iter().sum::<u32>() as f64 / per.len().max(1) as f64,
            suites.join(", "),
        );
    }
    for m in mismatches.iter().take(5) {
        println!("  mismatch: {m}");
    }
    println!(
        "  target for protocols+suites of 200 ({certs}): ≤ 0.5 s — {}; Envoy alone used {:.3} s of CPU, {:.3} s on each of {} cores",
        met(ours.wall <= Duration::from_millis(500)),
        ours.server_cpu.as_secs_f64(),
        ours.server_cpu.as_secs_f64() / cores() as f64,
        cores(),
    );
}

struct Truth {
    versions: BTreeSet<String>,
    suites: BTreeMap<String, BTreeSet<u16>>,
}

fn port(i: usize) -> u16 {
    PORT_BASE + u16::try_from(i).expect("fleet fits in the port range")
}

fn host(i: usize) -> String {
    format!("gw-{i}.fleet.test")
}

/// One Gateway with a server per listener, cycling through [`KINDS`].
fn fleet_policy(n: usize) -> String {
    let mut out = String::from(
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: fleet\n  namespace: default\nspec:\n  selector:\n    istio: ingressgateway\n  servers:\n",
    );
    for i in 0..n {
        let (kind, tls) = KINDS[i % KINDS.len()];
        out.push_str(&format!(
            "  - port:\n      number: {}\n      name: https-{i}-{kind}\n      protocol: HTTPS\n    hosts:\n    - {}\n    tls:\n      mode: SIMPLE\n      credentialName: fleet-{i}\n      {tls}\n",
            port(i),
            host(i)
        ));
    }
    out
}

/// Targets exact, handshakes per port, and what differed.
type Judged = (usize, BTreeMap<u16, u32>, Vec<String>);

/// Each target of the JSONL against the truth for its port: exact when
/// the offered versions and the suites per version are the model's.
fn judge(jsonl: &Path, truth: &BTreeMap<u16, Truth>) -> Judged {
    let text = std::fs::read_to_string(jsonl).expect("the fleet's JSONL");
    let mut exact = 0;
    let mut handshakes = BTreeMap::new();
    let mut mismatches = Vec::new();
    for line in text.lines() {
        let report: serde_json::Value = serde_json::from_str(line).expect("a JSONL report");
        let t = &report["targets"][0];
        let port = t["port"].as_u64().unwrap_or(0) as u16;
        handshakes.insert(port, t["stats"]["handshakes"].as_u64().unwrap_or(0) as u32);
        let Some(want) = truth.get(&port) else {
            mismatches.push(format!("port {port}: no declared server"));
            continue;
        };
        let versions: BTreeSet<String> = t["protocols"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["offered"] == serde_json::Value::Bool(true))
            .filter_map(|p| p["version"].as_str().map(str::to_owned))
            .collect();
        let mut suites: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
        for s in t["cipher_suites"].as_array().into_iter().flatten() {
            if let (Some(v), Some(code)) = (s["protocol"].as_str(), s["code"].as_str()) {
                if let Ok(code) = u16::from_str_radix(code.trim_start_matches("0x"), 16) {
                    suites.entry(v.to_owned()).or_default().insert(code);
                }
            }
        }
        let suites_want = &want.suites;
        if versions == want.versions && suites == *suites_want {
            exact += 1;
        } else {
            mismatches.push(format!(
                "port {port}: versions {versions:?} (want {:?}), suites {suites:?} (want {suites_want:?})",
                want.versions
            ));
        }
    }
    (exact, handshakes, mismatches)
}

struct Measured {
    wall: Duration,
    max_rss_kb: i64,
    exit: i32,
    /// CPU time (user + system) of the command and everything it waited
    /// for, from this process's `RUSAGE_CHILDREN` before and after.
    cpu: Duration,
    /// CPU time the fleet's Envoy spent meanwhile (/proc/PID/stat): the
    /// server's share of the handshakes, which on this machine's two cores
    /// bounds the wall time from below whatever the scanner does.
    server_cpu: Duration,
}

/// User + system CPU of every child this process has waited for.
fn children_cpu() -> Duration {
    // SAFETY: getrusage writes one rusage struct, which is plain data.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_CHILDREN with a valid pointer.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// User + system CPU of a running process (0 if it is gone).
fn process_cpu(pid: Option<u32>) -> Duration {
    let Some(pid) = pid else {
        return Duration::ZERO;
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at ")".
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13
    // after the name; in clock ticks.
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let ticks: u64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|t| t.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    Duration::from_millis(ticks * 1000 / hz)
}

/// Runs a command to its end and measures its wall time and its peak
/// resident memory: the largest sum of `VmRSS` over the process and its
/// descendants, sampled every 5 ms from /proc, and the root's own `VmHWM`.
/// (`wait4`'s `ru_maxrss` cannot be used: a forked child keeps the high
/// water mark of the parent's memory across `exec`, so every child would
/// read at least this benchmark's own size.)
fn run_measured(cmd: &mut Command, server: Option<u32>) -> Measured {
    let cpu_before = children_cpu();
    let server_before = process_cpu(server);
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let pid = child.id();
    let mut peak_kb = 0;
    let status = loop {
        peak_kb = peak_kb.max(tree_rss_kb(pid)).max(status_kb(pid, "VmHWM:"));
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("waiting for {cmd:?}: {e}"),
        }
    };
    Measured {
        wall: started.elapsed(),
        max_rss_kb: peak_kb,
        exit: status.code().unwrap_or(-1),
        cpu: children_cpu().saturating_sub(cpu_before),
        server_cpu: process_cpu(server).saturating_sub(server_before),
    }
}

/// `VmRSS` of `pid` and every descendant, in kB.
fn tree_rss_kb(pid: u32) -> i64 {
    let mut total = status_kb(pid, "VmRSS:");
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
        total += tree_rss_kb(child);
    }
    total
}

/// One `kB` field of /proc/PID/status (0 once the process is gone).
fn status_kb(pid: u32, field: &str) -> i64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn which(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool} >/dev/null"))
        .status()
        .is_ok_and(|s| s.success())
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
