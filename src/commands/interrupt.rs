//! Ctrl-C and SIGTERM during a run: the servers already scanned are still
//! reported, marked partial, instead of the process dying with nothing
//! written (review: "SIGINT / SIGTERM mid-scan: killed by the signal, no
//! partial report"). A CI job that is cancelled or times out then keeps
//! what was seen, and a reader cannot take it for a whole run.

use tlsposture::verdict::{PolicyVerdict, Summary};

/// The exit code after `signal`, as a shell reports a process it killed
/// (128 + the signal number): never 0, and told apart from 1 and 2.
pub fn exit_code(signal: &str) -> i32 {
    match signal {
        "SIGTERM" => 128 + 15,
        _ => 128 + 2,
    }
}

/// Resolves with the name of the first SIGINT or SIGTERM that arrives.
/// If a handler cannot be installed, that signal keeps its default action
/// (the process ends), which is no worse than before.
pub async fn first_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            () = terminated => "SIGTERM",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

/// Marks a run's summary partial: the interruption's exit code, and a
/// policy verdict that cannot be "matches" any more.
pub fn mark(summary: &mut Summary, signal: &str) {
    summary.exit_code = exit_code(signal);
    if summary.policy == Some(PolicyVerdict::Matches) {
        summary.policy = Some(PolicyVerdict::NotVerified);
    }
}
