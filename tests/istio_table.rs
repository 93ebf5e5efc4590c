//! Istio's own unit tests and golden files, restated as a table the
//! `tlsposture` binary must reproduce (issue 11).
//!
//! Each case in `tests/istio_table/cases/<area>.yaml` is a small Kubernetes
//! YAML input, the command that asks our model about it (`policy explain`,
//! `policy authz` or `policy lint`, all offline) and the outcome Istio's test
//! or golden file states, translated into what our JSON exposes. Every case
//! names the Istio file, test (or golden section) and commit it comes from,
//! and the Envoy rule too when Envoy, not istiod, decides the outcome. The
//! expected values are Istio's, not ours: a case never records what our code
//! happens to print.
//!
//! The runner writes each input to a temporary directory, runs the built
//! binary, and checks the case's `expect` as a subset of the JSON it prints
//! (`istio_table/subset.rs`). All failures of an area are printed as one
//! table before the test fails, so one run shows the whole gap.

#[path = "istio_table/subset.rs"]
mod subset;

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

/// The istio/istio snapshot every case was read from.
const ISTIO_COMMIT: &str = "86c9f01fd735fb01d8192f5bcaf0d424afb7f14c";
/// The release our model calls that snapshot (master past the 1.31 cut,
/// `policy::istiod::version`): the model runs at it unless a case names
/// its own `istio_version`.
const ISTIO_COMMIT_RELEASE: &str = "1.32";
/// Areas, their case file and the id prefixes a case in it may carry.
const AREAS: &[(&str, &[&str])] = &[
    ("tls", &["T"]),
    ("merge", &["M"]),
    ("authz", &["A"]),
    ("jwt", &["J"]),
    ("gateway_api", &["G"]),
];
const MIN_CASES: usize = 80;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// The row of docs/istio-rules.md "Candidate table-test cases" it
    /// comes from (a suffix when one row gives several cases).
    id: String,
    source: Source,
    /// The Envoy rule, when Envoy rather than istiod decides the outcome.
    #[serde(default)]
    envoy: Option<EnvoySource>,
    /// How Istio's generated-config fact maps onto our output.
    #[serde(default)]
    note: Option<String>,
    interface: Interface,
    /// The `--istio-version` to run the model at (default
    /// [`ISTIO_COMMIT_RELEASE`], the release the cited commit is).
    #[serde(default)]
    istio_version: Option<String>,
    /// The Kubernetes YAML documents.
    input: String,
    /// Further files next to the input (client certificates); `{dir}` in
    /// `request` and `args` is replaced by their directory.
    #[serde(default)]
    files: BTreeMap<String, String>,
    /// `policy authz` flags: peer, method, host, path, port,
    /// listener_port, gateway, token, token_in, request_principal.
    #[serde(default)]
    request: BTreeMap<String, Value>,
    /// Extra command-line arguments.
    #[serde(default)]
    args: Vec<String>,
    /// Expected exit code, or the codes allowed (default 0; lint cases say
    /// 1, or `[0, 1]` when only the findings matter).
    #[serde(default)]
    exit: Option<ExitCodes>,
    /// A subset of the whole JSON output.
    #[serde(default)]
    expect: Option<Value>,
    /// `policy explain`: entries of `servers`, each picked by `select`.
    #[serde(default)]
    servers: Vec<Pick>,
    /// `policy explain`: entries of `dropped`, each picked by `select`.
    #[serde(default)]
    dropped: Vec<Pick>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ExitCodes {
    One(i32),
    Any(Vec<i32>),
}

impl ExitCodes {
    fn allows(&self, code: i32) -> bool {
        match self {
            ExitCodes::One(c) => *c == code,
            ExitCodes::Any(cs) => cs.contains(&code),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Source {
    file: String,
    test: String,
    commit: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvoySource {
    file: String,
    rule: String,
    commit: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Interface {
    Explain,
    Authz,
    Lint,
}

/// One element of an output array, chosen by a subset (`select`) that must
/// match exactly one element, then checked against `expect`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pick {
    select: Value,
    #[serde(default)]
    expect: Option<Value>,
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/istio_table/cases")
}

fn load(area: &str) -> Vec<Case> {
    let path = cases_dir().join(format!("{area}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: CaseFile =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.cases
}

/// The flags `policy authz` takes, in the contract's order.
const REQUEST_FLAGS: &[(&str, &str)] = &[
    ("peer", "--peer"),
    ("method", "--method"),
    ("host", "--host"),
    ("path", "--path"),
    ("port", "--port"),
    ("listener_port", "--listener-port"),
    ("gateway", "--gateway"),
    ("token", "--token"),
    ("token_in", "--token-in"),
    ("request_principal", "--request-principal"),
];

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The command line for a case (after `tlsposture`), or why the case is
/// malformed.
fn command_line(case: &Case, input: &Path, dir: &Path) -> Result<Vec<String>, String> {
    let fill = |s: &str| s.replace("{dir}", &dir.display().to_string());
    let mut argv: Vec<String> = vec!["policy".into()];
    argv.push(
        match case.interface {
            Interface::Explain => "explain",
            Interface::Authz => "authz",
            Interface::Lint => "lint",
        }
        .into(),
    );
    argv.push(input.display().to_string());
    if case.interface == Interface::Authz {
        if let Some(unknown) = case
            .request
            .keys()
            .find(|k| !REQUEST_FLAGS.iter().any(|(name, _)| name == k))
        {
            return Err(format!("unknown request key {unknown}"));
        }
        for required in ["peer", "method", "host", "path"] {
            if !case.request.contains_key(required) {
                return Err(format!("authz case without request.{required}"));
            }
        }
        for (name, flag) in REQUEST_FLAGS {
            if let Some(v) = case.request.get(*name) {
                argv.push((*flag).into());
                argv.push(fill(&scalar(v)));
            }
        }
    } else if !case.request.is_empty() {
        return Err("request is only for authz cases".into());
    }
    argv.extend(case.args.iter().map(|a| fill(a)));
    argv.push("--istio-version".into());
    argv.push(
        case.istio_version
            .clone()
            .unwrap_or_else(|| ISTIO_COMMIT_RELEASE.into()),
    );
    argv.extend(["--json".into(), "-".into()]);
    Ok(argv)
}

/// The element of `list` that `select` picks, or why none (or several) did.
fn pick<'a>(list: &'a Value, name: &str, select: &Value) -> Result<&'a Value, String> {
    let Some(items) = list.as_array() else {
        return Err(format!("`{name}` is not an array in the output: {list}"));
    };
    let chosen: Vec<&Value> = items
        .iter()
        .filter(|v| subset::mismatch(select, v).is_none())
        .collect();
    match chosen.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "no `{name}` entry matches {select}; there are: {}",
            summary(items)
        )),
        many => Err(format!(
            "{} `{name}` entries match {select} (make the select narrower)",
            many.len()
        )),
    }
}

/// A short list of output entries (gateway, port, field) for a failure.
fn summary(items: &[Value]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items
        .iter()
        .map(|v| {
            format!(
                "{} port {} {}",
                scalar(&v["gateway"]),
                scalar(&v["port"]),
                scalar(&v["server"]["field"])
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn shorten(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        flat.chars().take(max).collect::<String>() + "…"
    }
}

/// Runs one case: `Ok` when the binary's output matches, else every
/// reason it does not.
fn run(case: &Case) -> Result<(), Vec<String>> {
    let dir = tempfile::tempdir().map_err(|e| vec![format!("tempdir: {e}")])?;
    let input = dir.path().join(format!("{}.yaml", case.id));
    std::fs::write(&input, &case.input).map_err(|e| vec![format!("write input: {e}")])?;
    for (name, text) in &case.files {
        std::fs::write(dir.path().join(name), text)
            .map_err(|e| vec![format!("write {name}: {e}")])?;
    }
    let argv = command_line(case, &input, dir.path()).map_err(|e| vec![e])?;
    let out = Command::new(env!("CARGO_BIN_EXE_tlsposture"))
        .args(&argv)
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| vec![format!("run: {e}")])?;
    let code = out.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    let allowed = case.exit.as_ref().map_or(code == 0, |e| e.allows(code));
    if !allowed {
        problems.push(format!(
            "exit {code} (expected {:?}); stderr: {}",
            case.exit.as_ref().unwrap_or(&ExitCodes::One(0)),
            shorten(&stderr, 300)
        ));
    }
    let json: Value = match serde_json::from_str(&stdout) {
        Ok(v) => v,
        Err(e) => {
            problems.push(format!(
                "stdout is not JSON ({e}): {}",
                shorten(&stdout, 200)
            ));
            return Err(problems);
        }
    };
    if let Some(want) = &case.expect {
        if let Some(why) = subset::mismatch(want, &json) {
            problems.push(why);
        }
    }
    for (name, picks) in [("servers", &case.servers), ("dropped", &case.dropped)] {
        for p in picks {
            match pick(&json[name], name, &p.select) {
                Ok(entry) => {
                    if let Some(why) = p.expect.as_ref().and_then(|w| subset::mismatch(w, entry)) {
                        problems.push(format!("{name}[{}] {why}", p.select));
                    }
                }
                Err(why) => problems.push(why),
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Runs every case of an area and fails with one table of all failures.
fn run_area(area: &str) {
    let cases = load(area);
    assert!(!cases.is_empty(), "{area}: no cases");
    let mut table = String::new();
    let mut failed = 0;
    for case in &cases {
        if let Err(problems) = run(case) {
            failed += 1;
            let _ = writeln!(
                table,
                "{:<7} {} · {}",
                case.id, case.source.file, case.source.test
            );
            if let Some(e) = &case.envoy {
                let _ = writeln!(table, "        envoy: {} · {}", e.file, e.rule);
            }
            if let Some(n) = &case.note {
                let _ = writeln!(table, "        note: {}", shorten(n, 300));
            }
            for p in problems {
                let _ = writeln!(table, "        ✗ {}", shorten(&p, 600));
            }
        }
    }
    if failed > 0 {
        panic!(
            "{area}: {failed} of {} Istio cases fail\n\n{table}",
            cases.len()
        );
    }
    eprintln!("{area}: all {} Istio cases pass", cases.len());
}

#[test]
fn tls() {
    run_area("tls");
}

#[test]
fn merge() {
    run_area("merge");
}

#[test]
fn authz() {
    run_area("authz");
}

#[test]
fn jwt() {
    run_area("jwt");
}

#[test]
fn gateway_api() {
    run_area("gateway_api");
}

/// Every case is traceable (Istio file, test, this commit; an Envoy rule
/// with its own commit), ids are unique and belong to their area's file,
/// every case checks something, and there are enough of them.
#[test]
fn every_case_cites_istio_and_ids_are_unique() {
    let mut seen = HashSet::new();
    let mut total = 0;
    let mut problems = Vec::new();
    for (area, prefixes) in AREAS {
        for case in load(area) {
            total += 1;
            let id = &case.id;
            if !seen.insert(id.clone()) {
                problems.push(format!("{id}: duplicate id"));
            }
            if !prefixes.iter().any(|p| id.starts_with(p)) {
                problems.push(format!("{id}: not a {prefixes:?} id but in {area}.yaml"));
            }
            let s = &case.source;
            if s.file.trim().is_empty() || s.test.trim().is_empty() {
                problems.push(format!("{id}: source without file or test"));
            }
            if s.commit != ISTIO_COMMIT {
                problems.push(format!(
                    "{id}: source commit {} is not {ISTIO_COMMIT}",
                    s.commit
                ));
            }
            if let Some(e) = &case.envoy {
                let hex = e.commit.len() >= 8 && e.commit.chars().all(|c| c.is_ascii_hexdigit());
                if e.file.trim().is_empty() || e.rule.trim().is_empty() || !hex {
                    problems.push(format!("{id}: envoy source needs file, rule and a commit"));
                }
            }
            if case.expect.is_none() && case.servers.is_empty() && case.dropped.is_empty() {
                problems.push(format!("{id}: checks nothing"));
            }
            if case.input.trim().is_empty() {
                problems.push(format!("{id}: empty input"));
            }
            let dir = Path::new("/nonexistent");
            if let Err(e) = command_line(&case, &dir.join("x.yaml"), dir) {
                problems.push(format!("{id}: {e}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(total >= MIN_CASES, "{total} cases, fewer than {MIN_CASES}");
}

/// Every input is YAML our parser reads: `policy lint` exits 0 or 1 on it,
/// never 64, so a case whose input is malformed shows up here rather than
/// as a model gap. (Before issue 11 lands, G14 fails here too: the parser
/// still refuses the `ISTIO_SIMPLE` terminate mode, R-G2.)
#[test]
fn every_input_parses() {
    let mut problems = Vec::new();
    for (area, _) in AREAS {
        for case in load(area) {
            let dir = tempfile::tempdir().expect("tempdir");
            let input = dir.path().join(format!("{}.yaml", case.id));
            std::fs::write(&input, &case.input).expect("write input");
            let out = Command::new(env!("CARGO_BIN_EXE_tlsposture"))
                .args(["policy", "lint"])
                .arg(&input)
                .output()
                .expect("run tlsposture");
            match out.status.code() {
                Some(0 | 1) => {}
                code => problems.push(format!(
                    "{}: lint exit {code:?}: {}",
                    case.id,
                    shorten(&String::from_utf8_lossy(&out.stderr), 300)
                )),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The runner's own pieces on a contract-shaped output, so a table failure
/// is the model's and not the runner's.
#[test]
fn pick_chooses_exactly_one_entry() {
    let out = serde_json::json!({"servers": [
        {"gateway": "ns/a", "port": 443, "server": {"field": "spec.servers[0]"}, "mode": "SIMPLE"},
        {"gateway": "ns/a", "port": 443, "server": {"field": "spec.servers[1]"}, "mode": "MUTUAL"},
    ]});
    let one = serde_json::json!({"server": {"field": "spec.servers[1]"}});
    assert_eq!(
        pick(&out["servers"], "servers", &one).unwrap()["mode"],
        "MUTUAL"
    );
    let both = serde_json::json!({"port": 443});
    assert!(pick(&out["servers"], "servers", &both).is_err());
    let none = serde_json::json!({"port": 80});
    assert!(pick(&out["servers"], "servers", &none).is_err());
    assert!(pick(&out["dropped"], "dropped", &none).is_err());
}

#[test]
fn an_authz_request_becomes_the_contract_flags() {
    let case: Case = serde_saphyr::from_str(
        "id: A00\nsource: {file: f, test: t, commit: c}\ninterface: authz\ninput: x\n\
         request: {path: /p, peer: 'cert:{dir}/c.pem', method: GET, host: h, port: 443, token: valid}\n\
         expect: {decision: allow}\n",
    )
    .expect("case");
    let argv = command_line(&case, Path::new("/d/A00.yaml"), Path::new("/d")).expect("argv");
    assert_eq!(
        argv.join(" "),
        "policy authz /d/A00.yaml --peer cert:/d/c.pem --method GET --host h --path /p \
         --port 443 --token valid --istio-version 1.32 --json -"
    );
    let mut bad = case;
    bad.request.remove("peer");
    assert!(command_line(&bad, Path::new("/d/x.yaml"), Path::new("/d")).is_err());
}
