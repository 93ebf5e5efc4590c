//! The Kubernetes manifests under deploy/, parsed with the project's YAML
//! reader (serde-saphyr) and held to the Job / CronJob / ConfigMap schema's
//! required fields and to the constraints a typo would break silently:
//! Indexed mode, `completions` = the N of `--shard …/N` = the merge's
//! file count, `$(JOB_COMPLETION_INDEX)` in the shard and output flags
//! (the control plane sets it in every pod of an Indexed Job:
//! kubernetes.io/docs/tasks/job/indexed-parallel-processing-static),
//! mounts naming declared volumes, ConfigMap keys that are the files read,
//! and the CronJob's template equal to the Job.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One parsed document and the file it came from.
struct Doc {
    file: String,
    value: Value,
}

impl Doc {
    fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }
    fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("")
    }
}

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn documents() -> Vec<Doc> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy_dir())
        .expect("deploy/ exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no YAML under deploy/");
    let mut docs = Vec::new();
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).expect("readable manifest");
        let values: Vec<Value> =
            serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("deploy/{file}: {e}"));
        for value in values.into_iter().filter(|v| !v.is_null()) {
            docs.push(Doc {
                file: file.clone(),
                value,
            });
        }
    }
    docs
}

fn one<'d>(docs: &'d [Doc], kind: &str, name: &str) -> &'d Doc {
    let found: Vec<&Doc> = docs
        .iter()
        .filter(|d| d.kind() == kind && d.name() == name)
        .collect();
    assert_eq!(found.len(), 1, "exactly one {kind} {name} under deploy/");
    found[0]
}

fn str_at<'v>(v: &'v Value, pointer: &str, file: &str) -> &'v str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("deploy/{file}: {pointer} must be a string"))
}

fn u64_at(v: &Value, pointer: &str, file: &str) -> u64 {
    v.pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("deploy/{file}: {pointer} must be a number"))
}

fn array_at<'v>(v: &'v Value, pointer: &str, file: &str) -> &'v Vec<Value> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("deploy/{file}: {pointer} must be a list"))
}

/// The args of the container `name` in a pod template.
fn args(pod: &Value, name: &str, file: &str) -> Vec<String> {
    let container = array_at(pod, "/spec/containers", file)
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("deploy/{file}: no container {name}"));
    array_at(container, "/args", file)
        .iter()
        .map(|a| {
            a.as_str()
                .unwrap_or_else(|| panic!("deploy/{file}: args must be strings (quote numbers)"))
                .to_owned()
        })
        .collect()
}

/// The value following `flag` in `args`.
fn flag<'a>(args: &'a [String], flag: &str, file: &str) -> &'a str {
    let at = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("deploy/{file}: no {flag} in args {args:?}"));
    args.get(at + 1)
        .unwrap_or_else(|| panic!("deploy/{file}: {flag} has no value"))
}

/// The fields `batch/v1` requires and the values it allows, for a Job spec
/// (`JobSpec`: `template` required; a pod template with containers, each
/// with a name and an image; restartPolicy Never or OnFailure; Indexed mode
/// needs `completions`; `backoffLimitPerIndex` needs Indexed; a
/// `podFailurePolicy` needs restartPolicy Never, its `FailIndex` needs
/// `backoffLimitPerIndex`, and its rules name a container of the pod).
fn check_job_spec(spec: &Value, file: &str) {
    let pod = spec
        .get("template")
        .unwrap_or_else(|| panic!("deploy/{file}: a Job spec needs a template"));
    let containers = array_at(pod, "/spec/containers", file);
    assert!(!containers.is_empty(), "deploy/{file}: no containers");
    let mut names = BTreeSet::new();
    for c in containers {
        let name = str_at(c, "/name", file);
        assert!(names.insert(name), "deploy/{file}: container {name} twice");
        str_at(c, "/image", file);
    }
    let restart = str_at(pod, "/spec/restartPolicy", file);
    assert!(
        ["Never", "OnFailure"].contains(&restart),
        "deploy/{file}: a Job's restartPolicy must be Never or OnFailure, not {restart}"
    );
    let indexed = spec["completionMode"] == "Indexed";
    if let Some(mode) = spec.get("completionMode") {
        assert!(
            mode == "Indexed" || mode == "NonIndexed",
            "deploy/{file}: completionMode {mode}"
        );
    }
    if indexed {
        assert!(
            u64_at(spec, "/completions", file) >= 1,
            "deploy/{file}: Indexed needs completions ≥ 1"
        );
    }
    if let (Some(p), Some(c)) = (spec["parallelism"].as_u64(), spec["completions"].as_u64()) {
        assert!(p >= 1 && p <= c, "deploy/{file}: parallelism {p} of {c}");
    }
    if spec.get("backoffLimitPerIndex").is_some() {
        assert!(
            indexed,
            "deploy/{file}: backoffLimitPerIndex needs Indexed mode"
        );
    }
    if let Some(policy) = spec.get("podFailurePolicy") {
        assert_eq!(
            restart, "Never",
            "deploy/{file}: podFailurePolicy needs restartPolicy Never"
        );
        for rule in array_at(policy, "/rules", file) {
            let action = str_at(rule, "/action", file);
            assert!(
                ["FailJob", "FailIndex", "Ignore", "Count"].contains(&action),
                "deploy/{file}: action {action}"
            );
            if action == "FailIndex" {
                assert!(
                    spec.get("backoffLimitPerIndex").is_some(),
                    "deploy/{file}: FailIndex needs backoffLimitPerIndex"
                );
            }
            if let Some(codes) = rule.get("onExitCodes") {
                let container = str_at(codes, "/containerName", file);
                assert!(
                    names.contains(container),
                    "deploy/{file}: rule names {container}"
                );
                let operator = str_at(codes, "/operator", file);
                let values = array_at(codes, "/values", file);
                assert!(
                    !values.is_empty(),
                    "deploy/{file}: onExitCodes without values"
                );
                if operator == "In" {
                    assert!(
                        values.iter().all(|v| v.as_u64().is_some_and(|v| v != 0)),
                        "deploy/{file}: In must not list exit code 0"
                    );
                }
            }
        }
    }
}

/// Volumes, mounts, claims, ConfigMaps, security context and resources of
/// one pod template, against the objects declared under deploy/.
fn check_pod(pod: &Value, file: &str, docs: &[Doc]) {
    let volumes: BTreeMap<&str, &Value> = array_at(pod, "/spec/volumes", file)
        .iter()
        .map(|v| (str_at(v, "/name", file), v))
        .collect();
    for volume in volumes.values() {
        if let Some(claim) = volume.pointer("/persistentVolumeClaim/claimName") {
            one(docs, "PersistentVolumeClaim", claim.as_str().unwrap());
        }
        if let Some(map) = volume.pointer("/configMap/name") {
            one(docs, "ConfigMap", map.as_str().unwrap());
        }
    }
    let account = str_at(pod, "/spec/serviceAccountName", file);
    one(docs, "ServiceAccount", account);
    assert_eq!(
        pod.pointer("/spec/automountServiceAccountToken"),
        Some(&Value::Bool(false)),
        "deploy/{file}: a scan needs no API token"
    );
    assert_eq!(
        pod.pointer("/spec/securityContext/runAsNonRoot"),
        Some(&Value::Bool(true)),
        "deploy/{file}: pods run as non-root"
    );
    for c in array_at(pod, "/spec/containers", file) {
        let name = str_at(c, "/name", file);
        for mount in array_at(c, "/volumeMounts", file) {
            let volume = str_at(mount, "/name", file);
            assert!(
                volumes.contains_key(volume),
                "deploy/{file}: container {name} mounts {volume}, which is not a declared volume"
            );
            assert!(str_at(mount, "/mountPath", file).starts_with('/'));
        }
        let security = &c["securityContext"];
        assert_eq!(
            security["readOnlyRootFilesystem"], true,
            "deploy/{file}: {name}"
        );
        assert_eq!(
            security["allowPrivilegeEscalation"], false,
            "deploy/{file}: {name}"
        );
        assert_eq!(
            security.pointer("/capabilities/drop"),
            Some(&serde_json::json!(["ALL"])),
            "deploy/{file}: {name} drops all capabilities"
        );
        for part in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                assert!(
                    c.pointer(&format!("/resources/{part}/{resource}"))
                        .is_some(),
                    "deploy/{file}: {name} has no {part}.{resource}"
                );
            }
        }
    }
}

/// The ConfigMap key a `/mount/key` path reads, through the mount of a
/// configMap volume.
fn config_map_key<'d>(pod: &Value, path: &str, file: &str, docs: &'d [Doc]) -> (&'d Doc, String) {
    let container = &array_at(pod, "/spec/containers", file)[0];
    for mount in array_at(container, "/volumeMounts", file) {
        let at = str_at(mount, "/mountPath", file).trim_end_matches('/');
        let Some(key) = path.strip_prefix(&format!("{at}/")) else {
            continue;
        };
        let volume = str_at(mount, "/name", file);
        let decl = array_at(pod, "/spec/volumes", file)
            .iter()
            .find(|v| v["name"] == volume)
            .expect("declared volume");
        let map = decl
            .pointer("/configMap/name")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("deploy/{file}: {path} is not on a ConfigMap volume"));
        return (one(docs, "ConfigMap", map), key.to_owned());
    }
    panic!("deploy/{file}: {path} is under no volume mount")
}

/// The scan Job and the N of its shards.
fn scan_job(docs: &[Doc]) -> (&Doc, u64) {
    let job = one(docs, "Job", "tlsposture-scan");
    let n = u64_at(&job.value, "/spec/completions", &job.file);
    (job, n)
}

#[test]
fn every_document_is_a_known_kind_with_its_required_fields() {
    let docs = documents();
    let allowed = [
        ("v1", "ServiceAccount"),
        ("v1", "ConfigMap"),
        ("v1", "PersistentVolumeClaim"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
    ];
    for d in &docs {
        let api = str_at(&d.value, "/apiVersion", &d.file);
        let kind = str_at(&d.value, "/kind", &d.file);
        assert!(
            allowed.contains(&(api, kind)),
            "deploy/{}: {api} {kind} is not one this test checks; add its checks",
            d.file
        );
        assert!(!d.name().is_empty(), "deploy/{}: metadata.name", d.file);
        match kind {
            "Job" => {
                check_job_spec(&d.value["spec"], &d.file);
                check_pod(&d.value["spec"]["template"], &d.file, &docs);
            }
            "CronJob" => {
                let schedule = str_at(&d.value, "/spec/schedule", &d.file);
                assert_eq!(
                    schedule.split_whitespace().count(),
                    5,
                    "deploy/{}: cron schedule",
                    d.file
                );
                let spec = &d.value["spec"]["jobTemplate"]["spec"];
                check_job_spec(spec, &d.file);
                check_pod(&spec["template"], &d.file, &docs);
            }
            "PersistentVolumeClaim" => {
                assert!(!array_at(&d.value, "/spec/accessModes", &d.file).is_empty());
                str_at(&d.value, "/spec/resources/requests/storage", &d.file);
            }
            "ConfigMap" => {
                let data = d.value["data"].as_object().expect("ConfigMap data");
                assert!(
                    data.values().all(Value::is_string),
                    "deploy/{}: data values are strings",
                    d.file
                );
            }
            _ => {}
        }
    }
    // Least privilege: nothing under deploy/ grants API access.
    let account = one(&docs, "ServiceAccount", "tlsposture");
    assert_eq!(account.value["automountServiceAccountToken"], false);
}

#[test]
fn the_scan_job_is_indexed_and_each_pod_takes_its_own_shard() {
    let docs = documents();
    let (job, n) = scan_job(&docs);
    let spec = &job.value["spec"];
    assert_eq!(spec["completionMode"], "Indexed", "deploy/{}", job.file);
    assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");
    assert!(
        spec.get("backoffLimitPerIndex").is_some() || spec.get("backoffLimit").is_some(),
        "a retry budget"
    );
    let args = args(&spec["template"], "scan", &job.file);
    assert_eq!(args[0], "scan");
    assert_eq!(
        flag(&args, "--shard", &job.file),
        format!("$(JOB_COMPLETION_INDEX)/{n}"),
        "deploy/{}: --shard INDEX/COUNT with COUNT = completions",
        job.file
    );
    let jsonl = flag(&args, "--jsonl", &job.file);
    assert!(
        jsonl.contains("$(JOB_COMPLETION_INDEX)") && jsonl.starts_with("/results/"),
        "deploy/{}: each shard writes its own file on the results volume: {jsonl}",
        job.file
    );
    // Kubernetes expands `$(VAR)` only for variables the container has;
    // the only one used is the one the Job controller sets.
    for arg in &args {
        let mut rest = arg.as_str();
        while let Some(at) = rest.find("$(") {
            let end = rest[at..].find(')').expect("closed $(") + at;
            assert_eq!(&rest[at + 2..end], "JOB_COMPLETION_INDEX", "{arg}");
            rest = &rest[end..];
        }
    }
}

#[test]
fn the_config_map_holds_the_files_the_scan_reads() {
    let docs = documents();
    let (job, _) = scan_job(&docs);
    let pod = &job.value["spec"]["template"];
    let args = args(pod, "scan", &job.file);
    for option in ["--targets", "--policy"] {
        let path = flag(&args, option, &job.file);
        let (map, key) = config_map_key(pod, path, &job.file, &docs);
        assert!(
            map.value["data"].get(&key).is_some(),
            "deploy/{}: {option} {path} reads key {key}, which ConfigMap {} does not have",
            job.file,
            map.name()
        );
    }
    let (map, key) = config_map_key(pod, flag(&args, "--policy", &job.file), &job.file, &docs);
    let policy_text = map.value["data"][&key].as_str().unwrap();
    // The policy reader the scan uses; every Gateway in it is read.
    let policy = tlsposture::policy::load_str(&format!("deploy/{}:{key}", map.file), policy_text)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!policy.gateways.is_empty(), "the policy declares a Gateway");
    assert!(policy.documents.iter().all(|d| d.skipped.is_none()));
    // The targets file, read by the scan's own `--targets` reader: every
    // line a target (with its names), and the shards split it whole.
    let (map, key) = config_map_key(pod, flag(&args, "--targets", &job.file), &job.file, &docs);
    let targets = map.value["data"][&key].as_str().unwrap();
    let entries =
        tlsposture::fleet::targets::parse_list(targets, &format!("deploy/{}:{key}", map.file))
            .unwrap_or_else(|e| panic!("{e}"));
    let lines = entries.len();
    let shard_flag = flag(&args, "--shard", &job.file);
    let count: u32 = shard_flag
        .rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}: --shard {shard_flag}", job.file));
    let held: usize = (0..count)
        .map(|index| {
            let shard = tlsposture::fleet::shard::Shard { index, count };
            entries.iter().filter(|e| shard.holds(e)).count()
        })
        .sum();
    assert_eq!(
        held, lines,
        "every target in exactly one of the {count} shards"
    );
    assert!(lines > 0, "the targets file lists targets");
}

#[test]
fn the_cron_job_runs_the_same_indexed_job() {
    let docs = documents();
    let (job, _) = scan_job(&docs);
    let cron = docs
        .iter()
        .find(|d| d.kind() == "CronJob")
        .expect("a CronJob under deploy/");
    assert_eq!(
        cron.value["spec"]["jobTemplate"]["spec"], job.value["spec"],
        "deploy/{}: jobTemplate.spec must equal deploy/{}'s spec",
        cron.file, job.file
    );
    assert_eq!(cron.value["spec"]["concurrencyPolicy"], "Forbid");
}

#[test]
fn the_merge_reads_every_shard_the_scan_writes() {
    let docs = documents();
    let (job, n) = scan_job(&docs);
    let scan_args = args(&job.value["spec"]["template"], "scan", &job.file);
    let pattern = flag(&scan_args, "--jsonl", &job.file);
    let merge = one(&docs, "Job", "tlsposture-merge");
    let merge_args = args(&merge.value["spec"]["template"], "merge", &merge.file);
    assert_eq!(merge_args[0], "merge");
    let inputs: Vec<&String> = merge_args[1..]
        .iter()
        .take_while(|a| !a.starts_with("--"))
        .collect();
    let expected: Vec<String> = (0..n)
        .map(|i| pattern.replace("$(JOB_COMPLETION_INDEX)", &i.to_string()))
        .collect();
    assert_eq!(
        inputs,
        expected.iter().collect::<Vec<_>>(),
        "deploy/{}: the merge names shards 0..{n} as the scan writes them",
        merge.file
    );
    assert!(flag(&merge_args, "--json", &merge.file).starts_with("/results/"));
    // Both mount the same claim at the same place.
    let claim = |d: &Doc| -> String {
        let pod = match d.kind() {
            "CronJob" => &d.value["spec"]["jobTemplate"]["spec"]["template"],
            _ => &d.value["spec"]["template"],
        };
        array_at(pod, "/spec/volumes", &d.file)
            .iter()
            .find_map(|v| v.pointer("/persistentVolumeClaim/claimName"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(claim(job), claim(merge));
}

#[test]
fn every_container_uses_the_one_image() {
    let docs = documents();
    let mut images = BTreeSet::new();
    for d in &docs {
        let pod = match d.kind() {
            "Job" => &d.value["spec"]["template"],
            "CronJob" => &d.value["spec"]["jobTemplate"]["spec"]["template"],
            _ => continue,
        };
        for c in array_at(pod, "/spec/containers", &d.file) {
            images.insert(str_at(c, "/image", &d.file).to_owned());
        }
    }
    assert_eq!(images.len(), 1, "one image name in deploy/: {images:?}");
    let dockerfile = std::fs::read_to_string(deploy_dir().join("Dockerfile")).expect("Dockerfile");
    let image = images.into_iter().next().unwrap();
    assert!(
        dockerfile.contains(&image),
        "the Dockerfile says how to build {image}"
    );
}
