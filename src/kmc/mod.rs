//! Residence-time kinetic Monte Carlo and diffusion correlation factors.

pub mod engine;
pub mod harvest;
pub mod landscape;
pub mod lattice;
pub mod plot;
pub mod stats;
pub mod trajectory;
pub mod whatif;

use crate::{Error, Result};
use std::path::Path;

/// Reads a TOML configuration into its typed form; unknown keys and bad values are errors that
/// name the file and line.
pub fn read_config<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map_or(0, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        Error::parse(path, line, e.message().to_string())
    })
}

/// CPU time (s) the calling thread has spent running, from Linux's
/// `/proc/thread-self/schedstat`; `None` where that file does not exist. On a machine shared
/// with other jobs this is the honest clock for "per second on one core": it excludes the time
/// the thread waited for a core.
pub fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 * 1e-9)
}
