//! JUnit XML for CI dashboards: one test suite per target, one test case per
//! finding (failed when at or above `--fail-on`, passed otherwise, so the
//! dashboard still lists it; with `--baseline-report`, only a new finding
//! fails, as only new findings decide the exit code), and one case for the
//! scan itself (an error when the target could not be scanned). Renders;
//! decides nothing.

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use super::diff::{counted_as_new, BaselineGate};
use super::model::{Report, Severity, TargetReport};

/// The report as JUnit XML.
pub fn render(report: &Report, fail_on: Severity) -> String {
    let mut junit = JunitReport::new("tlsposture");
    let gate = report.summary.baseline_report.as_ref();
    for target in &report.targets {
        junit.add_test_suite(suite(target, fail_on, gate));
    }
    junit
        .to_string()
        .unwrap_or_else(|e| format!("<!-- tlsposture: cannot render JUnit: {e} -->\n"))
}

fn suite(target: &TargetReport, fail_on: Severity, gate: Option<&BaselineGate>) -> TestSuite {
    let name = match (&target.label, &target.sni) {
        (Some(label), _) => format!("{} [{label}]", target.address),
        (None, Some(sni)) => format!("{} SNI {sni}", target.address),
        (None, None) => target.address.clone(),
    };
    let mut suite = TestSuite::new(name.clone());
    let scan_status = match &target.error {
        None => TestCaseStatus::success(),
        Some(error) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(error.clone()).set_type("unscannable");
            status
        }
    };
    let mut scan = TestCase::new("scan", scan_status);
    scan.set_classname(name.clone()).set_system_out(format!(
        "{} handshakes in {} ms",
        target.stats.handshakes, target.stats.elapsed_ms
    ));
    suite.add_test_case(scan);
    for finding in &target.findings {
        let known = counted_as_new(gate, target, finding) == Some(false);
        let status = if finding.severity >= fail_on && !known {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(finding.title.clone())
                .set_type(finding.severity.name())
                .set_description(format!(
                    "expected: {}\nobserved: {}\nevidence: {}\nremedy: {}",
                    finding.expected, finding.observed, finding.evidence, finding.remedy
                ));
            status
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(format!("{}: {}", finding.id, finding.title), status);
        case.set_classname(name.clone());
        if let (true, Some(gate)) = (known, gate) {
            case.set_system_out(format!(
                "known from --baseline-report {}: does not fail the run",
                gate.file
            ));
        }
        suite.add_test_case(case);
    }
    suite
}
