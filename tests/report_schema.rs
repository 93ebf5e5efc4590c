//! The JSON report contract: `reports/schema.json` is the JSON Schema of the
//! report types as built, and every example report in `reports/` still reads
//! as a report. A change to the report types that is not reflected in the
//! committed schema fails here; regenerate with `TLSPOSTURE_BLESS=1 cargo test
//! --test report_schema` and review the diff (renames need a schema_version
//! bump, per DESIGN.md).

use std::path::Path;

use tlsposture::report::model::{Report, SCHEMA_VERSION};

fn schema_text() -> String {
    let schema = schemars::schema_for!(Report);
    let mut text = serde_json::to_string_pretty(&schema).expect("schema serialises");
    text.push('\n');
    text
}

#[test]
fn committed_schema_matches_the_report_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/schema.json");
    let generated = schema_text();
    if std::env::var_os("TLSPOSTURE_BLESS").is_some() {
        // Blessing writes what it then compares: in CI that would pass any
        // change to the report types unreviewed.
        assert!(
            std::env::var_os("CI").is_none(),
            "TLSPOSTURE_BLESS is set together with CI: refusing to rewrite \
             reports/schema.json in CI; bless locally (without CI set) and \
             commit the reviewed diff"
        );
        std::fs::write(&path, &generated).expect("write reports/schema.json");
    }
    let committed = std::fs::read_to_string(&path).expect("reports/schema.json exists");
    assert!(
        committed == generated,
        "reports/schema.json is stale: run TLSPOSTURE_BLESS=1 cargo test --test report_schema"
    );
}

#[test]
fn example_reports_follow_the_contract() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("reports/ exists") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("example-") || !name.ends_with(".json") {
            continue;
        }
        seen += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let report: Report = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{name} does not read as a report: {e}"));
        assert_eq!(report.schema_version, SCHEMA_VERSION, "{name}");
        for target in &report.targets {
            if target.error.is_none() {
                assert_eq!(target.protocols.len(), 6, "{name}: all six versions listed");
            }
        }
    }
    assert!(seen > 0, "no example reports in reports/");
}
