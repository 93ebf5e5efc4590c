//! `tlsposture clients list`: the embedded client profiles as a table.

use anyhow::anyhow;
use tlsposture::report::terminal;
use tlsposture::verdict::exit;

use super::{usage, Failure};

/// `clients list [PATTERN]`; a pattern matching nothing is a usage error.
pub fn list(pattern: Option<&str>) -> Result<i32, Failure> {
    let profiles = tlsposture::clients::matching(pattern.unwrap_or("all"));
    if profiles.is_empty() {
        return Err(usage(anyhow!(
            "no client profile matches {:?}",
            pattern.unwrap_or_default()
        )));
    }
    super::output::print_text(&terminal::client_list(&profiles))?;
    Ok(exit::CLEAN)
}
