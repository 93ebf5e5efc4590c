//! Renderers: the report as a terminal table, JSON, JUnit, SARIF or an HTML
//! page. They print what they are given and decide nothing — severities,
//! offered / not offered and the exit code were settled before a renderer
//! sees the report.

pub mod diff;
pub mod explain;
pub mod html;
mod html_sections;
pub mod json;
pub mod junit;
mod labels;
pub mod lint;
pub mod model;
pub mod read;
pub mod sarif;
pub mod simulation;
pub mod terminal;
mod terminal_grade;
mod terminal_session;
mod terminal_vulns;
