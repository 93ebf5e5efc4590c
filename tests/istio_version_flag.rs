//! `--istio-version X.Y` through the binary: every command that resolves a
//! policy takes it, an unknown release is a usage error (64) naming the
//! supported range, and a scan report records the release it applied.

mod support;

use support::tlsposture;
use tlsposture::lab::{listeners_from_policy, Lab, PolicyLabOptions};

const FIXTURE: &str = "fixtures/policy/asm-min-tls12.yaml";

fn fixture() -> String {
    format!("{}/{FIXTURE}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn an_unknown_release_is_refused_by_every_command() {
    let f = fixture();
    for args in [
        vec!["policy", "explain", &f, "--istio-version", "1.26"],
        vec!["policy", "lint", &f, "--istio-version", "1.26"],
        vec!["simulate", "--policy", &f, "--istio-version", "1.26"],
        vec!["lab", "--policy", &f, "--istio-version", "1.26"],
        vec![
            "scan",
            "127.0.0.1:1",
            "--policy",
            &f,
            "--istio-version",
            "1.26",
        ],
        vec!["policy", "explain", &f, "--istio-version", "one"],
    ] {
        let (code, _, stderr) = tlsposture(&args);
        assert_eq!(code, 64, "{args:?}: {stderr}");
        assert!(stderr.contains("--istio-version"), "{args:?}: {stderr}");
    }
    let (_, _, stderr) = tlsposture(&["policy", "lint", &f, "--istio-version", "1.26"]);
    assert!(stderr.contains("supported: 1.27–1.32"), "{stderr}");
    for (args, code) in [
        (vec!["policy", "lint", &f, "--istio-version", "1.27"], 0),
        (
            vec!["simulate", "--policy", &f, "--istio-version", "1.31"],
            0,
        ),
    ] {
        let (got, stdout, stderr) = tlsposture(&args);
        assert_eq!(got, code, "{args:?}: {stdout}{stderr}");
    }
}

#[test]
fn the_scan_report_records_the_release() {
    let policy =
        tlsposture::policy::load_files(&[std::path::PathBuf::from(fixture())]).expect("fixture");
    let plab = listeners_from_policy(&policy, &PolicyLabOptions::default()).expect("listeners");
    let rt = support::runtime();
    let lab: Lab = rt
        .block_on(rt.spawn(Lab::start(plab.lab_options(None))))
        .expect("start-up task")
        .expect("the lab starts");
    let addr = plab.addr(&lab, 443).expect("port 443").to_string();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    for (flag, want) in [(Some("1.28"), "1.28"), (None, "1.30")] {
        let mut args = vec![
            "scan",
            addr.as_str(),
            "--policy",
            FIXTURE,
            "--declared-port",
            "443",
            "--checks",
            "protocols",
            "--json",
            json.to_str().unwrap(),
        ];
        if let Some(v) = flag {
            args.extend(["--istio-version", v]);
        }
        let out = assert_cmd::Command::cargo_bin("tlsposture")
            .unwrap()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(&args)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let code = out.status.code().expect("exit code");
        assert!(
            code == 0 || code == 1,
            "{args:?}: exit {code} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(report["policy"]["istio_version"], want, "{args:?}");
    }
}
