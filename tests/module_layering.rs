//! The one-way data flow of DESIGN.md, checked on the source: each module
//! of the library may import only the modules before it in the flow
//! (flags → plan → run/scan probes → observations → verdict → report;
//! `plan` may name `scan`'s vocabulary — checks, identities — but `scan`
//! never sees a plan, and `run` is the one place that joins the two). A `use` of a
//! module further along fails here, naming the file and line, so an arrow
//! that loops back cannot land unnoticed. Test code (`#[cfg(test)]` and
//! below) is not part of the product's flow and is not checked.

use std::path::{Path, PathBuf};

/// Each top-level module of the library and the only modules it may
/// import, in the order of the flow. Anything else is an arrow back (or
/// sideways) and fails. `lab` is a side branch: it renders a policy into
/// Envoy config and must not know how scans or verdicts work.
const ALLOWED: &[(&str, &[&str])] = &[
    ("wire", &[]),
    ("registry", &["wire"]),
    ("finding", &[]),
    ("target", &[]),
    ("clients", &["registry", "wire"]),
    ("probe", &["wire", "registry"]),
    ("observe", &["clients", "registry", "wire"]),
    ("cert", &["observe", "registry", "wire"]),
    ("tls_client", &["cert", "wire", "registry"]),
    (
        "policy",
        &["clients", "finding", "registry", "wire", "target"],
    ),
    ("fleet", &["finding", "policy", "target"]),
    (
        "scan",
        &[
            "cert",
            "clients",
            "observe",
            "policy",
            "probe",
            "registry",
            "target",
            "tls_client",
            "wire",
        ],
    ),
    (
        "plan",
        &[
            "cert", "clients", "finding", "fleet", "observe", "policy", "probe", "registry",
            "scan", "target", "wire",
        ],
    ),
    ("run", &["observe", "plan", "scan", "target"]),
    (
        "verdict",
        &[
            "clients", "finding", "observe", "policy", "registry", "wire",
        ],
    ),
    (
        "report",
        &[
            "clients", "finding", "observe", "plan", "policy", "registry", "verdict", "wire",
        ],
    ),
    ("lab", &["cert", "policy", "wire", "registry"]),
];

fn sources(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .expect("readable src dir")
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for entry in entries {
            sources(&entry, out);
        }
    } else if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// `crate::NAME` references in the non-test, non-comment lines of `file`.
fn imports(file: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(file).expect("readable source");
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let name: String = rest[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push((number + 1, name));
            rest = &rest[at + 7..];
        }
    }
    found
}

#[test]
fn no_module_imports_one_further_along_the_flow() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    let mut covered = Vec::new();
    for (module, allowed) in ALLOWED {
        let mut files = Vec::new();
        sources(&src.join(module), &mut files);
        sources(&src.join(format!("{module}.rs")), &mut files);
        assert!(
            !files.is_empty(),
            "module {module} has no source under src/"
        );
        covered.push(module.to_string());
        for file in files {
            for (line, name) in imports(&file) {
                if name != *module && !allowed.contains(&name.as_str()) {
                    violations.push(format!(
                        "{}:{line}: {module} imports crate::{name}",
                        file.strip_prefix(&src).unwrap_or(&file).display()
                    ));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    // Every module the library declares is in the map.
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    for line in lib.lines() {
        if let Some(name) = line.trim().strip_prefix("pub mod ") {
            let name = name.trim_end_matches(';');
            assert!(
                covered.iter().any(|c| c == name),
                "module {name} is not in the layering map"
            );
        }
    }
}

#[test]
fn the_checker_sees_an_import_and_skips_comments_and_tests() {
    let dir = std::env::temp_dir().join(format!("layering-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("sample.rs");
    std::fs::write(
        &file,
        "use crate::observe::Stats;\n// crate::report in a comment\nfn f() { crate::finding::Severity::High; }\n#[cfg(test)]\nuse crate::lab;\n",
    )
    .expect("write sample");
    let names: Vec<(usize, String)> = imports(&file);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        names,
        [(1, "observe".to_owned()), (3, "finding".to_owned())]
    );
}
