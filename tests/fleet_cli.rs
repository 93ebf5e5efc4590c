//! Many targets in one run, through the binary, against the lab's real
//! Envoy on loopback (and, for the limits, a counting peer of our own):
//! one report holds every target and the worst exit code; a bad targets
//! file fails before any connection with its file and line; n shards
//! merged are the one-process run; the fleet-wide connection limit holds;
//! `--deadline` reports what it left undone; `--jsonl -` is one report per
//! line; the progress bar shows on a terminal only, never in the JSON.

mod support;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use support::{runtime, start_lab, tlsposture};
use tlsposture::lab::{seed_listeners, Lab};
use tlsposture::wire::ProtocolVersion;

fn lab() -> Lab {
    start_lab(seed_listeners())
}

/// The versions a seed listener accepts, from its spec (Envoy's defaults:
/// TLS 1.2 to TLS 1.3).
fn declared_versions(lab: &Lab, addr: &str) -> Vec<String> {
    let listener = lab
        .listeners()
        .iter()
        .find(|l| l.addr.to_string() == addr)
        .expect("a lab listener");
    let min = listener.spec.min_version.unwrap_or(ProtocolVersion::Tls12);
    let max = listener.spec.max_version.unwrap_or(ProtocolVersion::Tls13);
    ProtocolVersion::ALL
        .iter()
        .filter(|v| **v >= min && **v <= max)
        .map(|v| v.to_string())
        .collect()
}

fn offered(target: &Value) -> Vec<String> {
    target["protocols"]
        .as_array()
        .expect("protocols")
        .iter()
        .filter(|p| p["offered"] == Value::Bool(true))
        .map(|p| p["version"].as_str().unwrap().to_owned())
        .collect()
}

/// A loopback port nothing listens on.
fn closed_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], support::ports::closed_port()))
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn a_fleet_is_one_report_with_every_target_and_the_worst_exit_code() {
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    let addrs: Vec<String> = lab.listeners().iter().map(|l| l.addr.to_string()).collect();
    let sni = lab.listeners()[0].sni.clone().expect("seed SNI");
    // Two targets in a file (with a comment and a name), two as arguments,
    // and one nobody answers.
    let list = dir.path().join("targets.txt");
    std::fs::write(
        &list,
        format!(
            "# the lab\n{} {sni}\n\n{}   # tls12-only\n",
            addrs[0], addrs[1]
        ),
    )
    .unwrap();
    let dead = closed_port().to_string();
    let (code, stdout, stderr) = tlsposture(&[
        "scan",
        &addrs[2],
        &addrs[3],
        &dead,
        "--targets",
        list.to_str().unwrap(),
        "--sni",
        &sni,
        "--checks",
        "protocols",
        "--json",
        "-",
    ]);
    assert_eq!(code, 2, "a target could not be scanned: {stderr}");
    let report = json(&stdout);
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 5, "{stdout}");
    let by_addr: BTreeMap<&str, &Value> = targets
        .iter()
        .map(|t| (t["address"].as_str().unwrap(), t))
        .collect();
    for addr in &addrs {
        let target = by_addr[addr.as_str()];
        assert_eq!(offered(target), declared_versions(&lab, addr), "{addr}");
        assert!(target.get("error").is_none(), "{addr}: {target}");
    }
    assert!(by_addr[dead.as_str()]["error"].is_string());
    assert_eq!(report["summary"]["unscanned"], serde_json::json!([dead]));
    // The run's counts are the sum of its targets'.
    let findings: usize = targets
        .iter()
        .map(|t| t["findings"].as_array().unwrap().len())
        .sum();
    let counted: u64 = report["summary"]["findings"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(findings as u64, counted);
    assert!(stderr.contains("fleet: 5 of 5 target(s)"), "{stderr}");
    drop(lab);
}

#[test]
fn a_bad_targets_file_fails_before_scanning_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("t.txt");
    std::fs::write(&list, "127.0.0.1:1\n# ok\n127.0.0.1:99999\n").unwrap();
    let (code, _, stderr) = tlsposture(&["scan", "--targets", list.to_str().unwrap()]);
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains(&format!("{}:3: invalid port", list.display())),
        "{stderr}"
    );
    std::fs::write(&list, "# nothing\n").unwrap();
    let (code, _, stderr) = tlsposture(&["scan", "--targets", list.to_str().unwrap()]);
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("no targets"), "{stderr}");
    let (code, _, stderr) = tlsposture(&["scan", "127.0.0.1:1", "--shard", "2/2"]);
    assert_eq!(code, 64, "{stderr}");
}

/// The facts a merge must keep of each target: its offered versions and
/// its finding ids.
fn digest(report: &Value) -> BTreeMap<String, (Vec<String>, Vec<String>)> {
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let key = format!("{} {}", t["address"], t["sni"]);
            let mut ids: Vec<String> = t["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            (key, (offered(t), ids))
        })
        .collect()
}

#[test]
fn shards_merged_are_the_one_process_run() {
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    let sni = lab.listeners()[0].sni.clone().expect("seed SNI");
    // Each listener with its name and without one: 8 targets.
    let mut text = String::new();
    for l in lab.listeners() {
        text.push_str(&format!("{} {sni}\n{}\n", l.addr, l.addr));
    }
    let list = dir.path().join("targets.txt");
    std::fs::write(&list, text).unwrap();
    let list = list.to_str().unwrap();
    let (whole_code, whole, stderr) = tlsposture(&[
        "scan",
        "--targets",
        list,
        "--checks",
        "protocols,suites",
        "--json",
        "-",
    ]);
    assert!(whole_code == 0 || whole_code == 1, "{stderr}");
    let whole = json(&whole);
    let n = 3;
    let mut shard_files = Vec::new();
    let mut seen = 0;
    for i in 0..n {
        let out = dir.path().join(format!("shard-{i}.jsonl"));
        let (code, _, stderr) = tlsposture(&[
            "scan",
            "--targets",
            list,
            "--checks",
            "protocols,suites",
            "--shard",
            &format!("{i}/{n}"),
            "--jsonl",
            out.to_str().unwrap(),
        ]);
        assert!(code == 0 || code == 1, "shard {i}: {stderr}");
        seen += std::fs::read_to_string(&out).unwrap().lines().count();
        shard_files.push(out.to_str().unwrap().to_owned());
    }
    assert_eq!(seen, 8, "every target in exactly one shard");
    // A shard the list gave no target writes an empty file (with ephemeral
    // ports, one of the three above sometimes is one): it adds nothing.
    let empty = dir.path().join("shard-empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    shard_files.push(empty.to_str().unwrap().to_owned());
    let mut args = vec!["merge"];
    args.extend(shard_files.iter().map(String::as_str));
    args.extend(["--json", "-"]);
    let (code, merged, stderr) = tlsposture(&args);
    assert_eq!(code, whole_code, "{stderr}");
    let merged = json(&merged);
    assert_eq!(digest(&merged), digest(&whole));
    assert_eq!(merged["summary"]["findings"], whole["summary"]["findings"]);
    assert_eq!(
        merged["summary"]["exit_code"],
        whole["summary"]["exit_code"]
    );
    // A merge of something that is not a report names the file and line.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"schema_version\": 1}\n").unwrap();
    let (code, _, stderr) = tlsposture(&["merge", bad.to_str().unwrap()]);
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains(&format!("{}:1:", bad.display())),
        "{stderr}"
    );
    drop(lab);
}

/// Loopback listeners that count the connections open at once over all
/// of them: each connection reads the hello, waits a little (so
/// connections overlap) and answers with a handshake_failure alert.
struct CountingPeers {
    addrs: Vec<SocketAddr>,
    peak: Arc<AtomicUsize>,
}

fn counting_peers(n: usize) -> CountingPeers {
    let open = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut addrs = Vec::new();
    for _ in 0..n {
        let listener = runtime()
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        addrs.push(listener.local_addr().unwrap());
        let (open, peak) = (open.clone(), peak.clone());
        runtime().spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let (open, peak) = (open.clone(), peak.clone());
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf).await;
                    tokio::time::sleep(Duration::from_millis(40)).await;
                    // Counted down before the answer: the client holds its
                    // slot until the answer arrives, so this count never
                    // runs ahead of the slots the scanner holds.
                    open.fetch_sub(1, Ordering::SeqCst);
                    let _ = stream
                        .write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])
                        .await;
                });
            }
        });
    }
    CountingPeers { addrs, peak }
}

fn scan_counting(peers: &CountingPeers, total: &str) -> usize {
    peers.peak.store(0, Ordering::SeqCst);
    let mut args = vec!["scan".to_owned()];
    args.extend(peers.addrs.iter().map(|a| a.to_string()));
    args.extend(
        [
            "--checks",
            "protocols",
            "--max-connections",
            "8",
            "--max-connections-total",
            total,
            "--timeout",
            "2s",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, stderr) = tlsposture(&args);
    // Every hello refused: no TLS spoken, nothing to report as clean.
    assert_eq!(code, 2, "{stderr}");
    peers.peak.load(Ordering::SeqCst)
}

#[test]
fn the_fleet_connection_limit_holds_over_all_targets() {
    let peers = counting_peers(4);
    let limited = scan_counting(&peers, "3");
    assert!(
        (1..=3).contains(&limited),
        "at most 3 at once over 4 targets, saw {limited}"
    );
    // Without the fleet limit the same run overlaps more: the count above
    // is the limit's doing.
    let free = scan_counting(&peers, "64");
    assert!(free > 3, "unlimited run peaked at {free}");
}

#[test]
fn the_run_deadline_reports_the_targets_it_left_as_not_scanned() {
    // Peers that accept and never answer, one target at a time: the first
    // uses up the run's second, the others never get their turn.
    let mut silent = Vec::new();
    let mut addrs = Vec::new();
    for _ in 0..3 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        addrs.push(l.local_addr().unwrap().to_string());
        silent.push(l);
    }
    let mut args = vec!["scan"];
    args.extend(addrs.iter().map(String::as_str));
    args.extend([
        "--checks",
        "protocols",
        "--timeout",
        "5s",
        "--deadline",
        "1s",
        "--max-targets",
        "1",
        "--json",
        "-",
    ]);
    let (code, stdout, stderr) = tlsposture(&args);
    assert_eq!(code, 2, "{stderr}");
    let report = json(&stdout);
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 3, "every target is in the report: {stdout}");
    let left: Vec<&Value> = targets
        .iter()
        .filter(|t| {
            t["error"]
                .as_str()
                .is_some_and(|e| e.contains("--deadline"))
        })
        .collect();
    assert!(left.len() >= 2, "{stdout}");
    assert_eq!(
        report["summary"]["unscanned"].as_array().unwrap().len(),
        3,
        "{stdout}"
    );
    drop(silent);
}

#[test]
fn jsonl_on_stdout_is_one_single_target_report_per_line() {
    let lab = lab();
    let addrs: Vec<String> = lab.listeners().iter().map(|l| l.addr.to_string()).collect();
    let mut args = vec!["scan"];
    args.extend(addrs.iter().map(String::as_str));
    args.extend(["--checks", "protocols", "--jsonl", "-"]);
    let (code, stdout, stderr) = tlsposture(&args);
    assert!(code == 0 || code == 1, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), addrs.len(), "{stdout}");
    let mut seen: Vec<String> = lines
        .iter()
        .map(|line| {
            let r = json(line);
            assert_eq!(r["targets"].as_array().unwrap().len(), 1);
            assert!(r["summary"]["exit_code"].is_i64());
            r["targets"][0]["address"].as_str().unwrap().to_owned()
        })
        .collect();
    seen.sort();
    let mut want = addrs.clone();
    want.sort();
    assert_eq!(seen, want);
    // The tables went to stderr, the closing line with them.
    assert!(stderr.contains("target(s)"), "{stderr}");
    let (code, _, stderr) = tlsposture(&["scan", &addrs[0], "--jsonl", "-", "--json", "-"]);
    assert_eq!(code, 64, "{stderr}");
    drop(lab);
}

#[test]
fn targets_from_kubectl_yaml_scans_each_programmed_listener_and_pairs_it_with_its_gateway() {
    let lab = lab();
    let listener = &lab.listeners()[0];
    let sni = listener.sni.clone().expect("seed SNI");
    let dir = tempfile::tempdir().unwrap();
    // What `kubectl get gateways.gateway.networking.k8s.io -A -o yaml`
    // says of a programmed Gateway API Gateway whose address is the lab's
    // loopback listener, plus one not programmed yet.
    let cluster = dir.path().join("cluster.yaml");
    std::fs::write(
        &cluster,
        format!(
            r#"apiVersion: v1
kind: List
items:
- apiVersion: gateway.networking.k8s.io/v1
  kind: Gateway
  metadata:
    name: edge
    namespace: lab
  spec:
    gatewayClassName: istio
    listeners:
    - name: https
      hostname: {sni}
      port: {port}
      protocol: HTTPS
      tls:
        mode: Terminate
        certificateRefs:
        - name: edge-cert
    - name: http
      port: 80
      protocol: HTTP
  status:
    addresses:
    - type: IPAddress
      value: 127.0.0.1
- apiVersion: gateway.networking.k8s.io/v1
  kind: Gateway
  metadata:
    name: pending
    namespace: lab
  spec:
    gatewayClassName: istio
    listeners:
    - name: https
      hostname: pending.lab.test
      port: 443
      protocol: HTTPS
"#,
            port = listener.addr.port()
        ),
    )
    .unwrap();
    let cluster = cluster.to_str().unwrap();
    let (code, stdout, stderr) = tlsposture(&[
        "scan",
        "--targets-from",
        cluster,
        "--checks",
        "protocols",
        "--json",
        "-",
    ]);
    assert!(code == 0 || code == 1, "{stderr}");
    let report = json(&stdout);
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(
        targets.len(),
        1,
        "only the programmed HTTPS listener: {stdout}"
    );
    assert_eq!(targets[0]["address"], listener.addr.to_string());
    assert_eq!(targets[0]["sni"], sni.as_str());
    assert_eq!(
        offered(&targets[0]),
        declared_versions(&lab, &listener.addr.to_string())
    );
    assert!(
        stderr.contains("pending"),
        "the skipped Gateway is named: {stderr}"
    );
    // The same file as the declared policy: the address is judged against
    // the Gateway that serves it.
    let (_, stdout, stderr) = tlsposture(&[
        "scan",
        "--targets-from",
        cluster,
        "--policy",
        cluster,
        "--checks",
        "protocols",
        "--json",
        "-",
    ]);
    let report = json(&stdout);
    let servers = report["policy"]["servers"]
        .as_array()
        .unwrap_or_else(|| panic!("{stdout}\n{stderr}"));
    assert!(
        servers
            .iter()
            .any(|s| s.as_str().unwrap().contains("lab/edge")),
        "{servers:?}"
    );
    assert!(report["summary"]["policy"].is_string(), "{stdout}");
    drop(lab);
}

/// Runs `shell` (a command line) under a pseudo-terminal with util-linux
/// `script`, so stderr is a TTY, and returns what the terminal showed.
fn on_a_terminal(shell: &str, dir: &std::path::Path) -> (i32, String) {
    let log = dir.join("terminal.log");
    let status = std::process::Command::new("script")
        .args(["-q", "-e", "-f", "-c", shell])
        .arg(&log)
        .stdin(std::process::Stdio::null())
        .status()
        .unwrap_or_else(|e| {
            panic!("util-linux `script` is needed for the TTY test ({e}): apt-get install bsdutils")
        });
    let shown = std::fs::read(&log).unwrap_or_default();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&shown).into_owned(),
    )
}

#[test]
fn the_progress_bar_is_drawn_on_a_terminal_and_never_in_json_on_stdout() {
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    let addrs: Vec<String> = lab.listeners().iter().map(|l| l.addr.to_string()).collect();
    assert!(addrs.len() > 1, "the bar needs more than one target");
    let bin = assert_cmd::cargo::cargo_bin("tlsposture");
    let out = dir.path().join("report.json");
    let scan = |extra: &str| {
        format!(
            "{} scan {} --checks protocols --json - {extra} > {}",
            bin.display(),
            addrs.join(" "),
            out.display()
        )
    };
    let bar = format!("/{} targets", addrs.len());

    let (code, shown) = on_a_terminal(&scan(""), dir.path());
    assert!(code == 0 || code == 1, "exit {code}: {shown}");
    assert!(
        shown.contains(&bar),
        "no progress bar on the terminal: {shown:?}"
    );
    let json_text = std::fs::read_to_string(&out).unwrap();
    assert!(
        !json_text.contains('\u{1b}') && !json_text.contains(&bar),
        "terminal output in the JSON: {json_text}"
    );
    let report = json(&json_text);
    assert_eq!(report["targets"].as_array().unwrap().len(), addrs.len());

    let (code, shown) = on_a_terminal(&scan("--no-progress"), dir.path());
    assert!(code == 0 || code == 1, "exit {code}: {shown}");
    assert!(!shown.contains(&bar), "--no-progress drew a bar: {shown:?}");
    drop(lab);
}
