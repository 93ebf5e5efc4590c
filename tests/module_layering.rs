//! The one-way data flow of DESIGN.md, checked on the source: each module
//! of the library may import only the modules before it in the flow
//! (flags → plan → probes → observations → verdict → report). A `use` of a
//! module further along fails here, naming the file and line, so an arrow
//! that loops back cannot land unnoticed. Test code (`#[cfg(test)]` and
//! below) is not part of the product's flow and is not checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The crate's top-level modules each module must not import.
fn forbidden() -> BTreeMap<&'static str, &'static [&'static str]> {
    const AFTER_WIRE: &[&str] = &[
        "registry",
        "probe",
        "observe",
        "finding",
        "policy",
        "verdict",
        "scan",
        "cert",
        "report",
        "lab",
        "clients",
        "target",
        "tls_client",
        "plan",
    ];
    BTreeMap::from([
        ("wire", AFTER_WIRE),
        (
            "registry",
            &[
                "probe",
                "observe",
                "finding",
                "policy",
                "verdict",
                "scan",
                "cert",
                "report",
                "lab",
                "clients",
                "target",
                "tls_client",
                "plan",
            ][..],
        ),
        (
            "finding",
            &[
                "probe",
                "observe",
                "policy",
                "verdict",
                "scan",
                "cert",
                "report",
                "lab",
                "tls_client",
                "plan",
            ][..],
        ),
        (
            "observe",
            &[
                "probe",
                "policy",
                "verdict",
                "scan",
                "report",
                "lab",
                "tls_client",
                "plan",
            ][..],
        ),
        (
            "cert",
            &["policy", "verdict", "scan", "report", "lab", "plan"][..],
        ),
        (
            "policy",
            &[
                "probe",
                "observe",
                "verdict",
                "scan",
                "report",
                "lab",
                "tls_client",
                "plan",
            ][..],
        ),
        (
            "verdict",
            &["probe", "scan", "report", "lab", "tls_client", "plan"][..],
        ),
        ("scan", &["verdict", "report", "lab"][..]),
        (
            "probe",
            &["verdict", "report", "lab", "policy", "scan", "plan"][..],
        ),
        (
            "report",
            &["probe", "scan", "lab", "tls_client", "plan"][..],
        ),
        ("lab", &["scan", "verdict", "report", "probe", "plan"][..]),
    ])
}

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
    for (module, banned) in forbidden() {
        let mut files = Vec::new();
        sources(&src.join(module), &mut files);
        sources(&src.join(format!("{module}.rs")), &mut files);
        assert!(
            !files.is_empty(),
            "module {module} has no source under src/"
        );
        for file in files {
            for (line, name) in imports(&file) {
                if banned.contains(&name.as_str()) {
                    violations.push(format!(
                        "{}:{line}: {module} imports crate::{name}",
                        file.strip_prefix(&src).unwrap_or(&file).display()
                    ));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
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
