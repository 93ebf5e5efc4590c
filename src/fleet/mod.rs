//! Many targets in one run: where they come from (a `--targets` list, or
//! Kubernetes objects read from `kubectl get -o yaml` output), and which
//! shard of a fan-out scans which. Pure: the command reads the files and
//! hands their text here; nothing in this module opens a socket or judges.

pub mod discover;
pub mod shard;
pub mod targets;
