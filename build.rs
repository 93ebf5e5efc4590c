//! Embeds the client simulation profiles (`clients/*.toml`) in the binary:
//! writes `$OUT_DIR/client_profiles.rs`, a table of (file name,
//! `include_str!`) pairs sorted by file name. Cargo reruns this whenever
//! anything under `clients/` changes (a directory given to
//! `rerun-if-changed` is scanned recursively).

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("clients/ directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy();
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push_str("]\n");
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("client_profiles.rs");
    std::fs::write(target, out).expect("write client_profiles.rs");
}
