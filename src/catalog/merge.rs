//! Joining catalogs: the shards of one campaign (`--shard I/N`) into the catalog an unsharded
//! run would have written, byte for byte.

use super::{CatalogWriter, RawCatalog, Record, RunRecord};
use crate::provenance::same_file;
use crate::{Error, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergeReport {
    pub inputs: Vec<String>,
    pub output: String,
    /// Search records written.
    pub searches: usize,
    /// Shard indices seen (empty when no input was a shard), and those of the campaign's
    /// shard count that are missing.
    pub shards: Vec<u32>,
    pub missing_shards: Vec<u32>,
    /// Inputs whose last line was cut short (their incomplete record was left out).
    pub truncated_inputs: Vec<String>,
    /// Whether incompatible inputs were merged anyway (`force`).
    pub forced: bool,
}

/// Merges `inputs` into `output`: checks that they come from the same campaign (structure,
/// potential, pelx version, parameters, seed, sampling; the shard field may differ), unless
/// `force`; refuses a task present twice; sorts the records by task; writes the run record
/// without its shard field followed by the records exactly as they were written.
pub fn merge(inputs: &[PathBuf], output: &Path, force: bool) -> Result<MergeReport> {
    if inputs.is_empty() {
        return Err(Error::invalid("merge: no input catalog"));
    }
    if inputs.iter().any(|p| same_file(p, output)) {
        return Err(Error::invalid(format!(
            "merge: the output {} is also an input",
            output.display()
        )));
    }
    let cats: Vec<RawCatalog> = inputs.iter().map(|p| RawCatalog::read(p)).collect::<Result<_>>()?;
    let base = &cats[0].run;
    let mut forced = false;
    for (p, c) in inputs.iter().zip(&cats).skip(1) {
        let diff = base.differences(&c.run, true);
        if !diff.is_empty() {
            if !force {
                return Err(Error::invalid(format!(
                    "merge: {} is not from the same campaign as {} (different {}); use --force to merge anyway",
                    p.display(),
                    inputs[0].display(),
                    diff.join(", ")
                )));
            }
            forced = true;
            tracing::warn!("merging {} despite different {}", p.display(), diff.join(", "));
        }
    }
    let mut shards: Vec<u32> = cats.iter().filter_map(|c| c.run.shard.map(|s| s.index)).collect();
    shards.sort_unstable();
    if let Some(w) = shards.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::invalid(format!("merge: shard {} is given twice", w[0] + 1)));
    }
    let count = cats.iter().filter_map(|c| c.run.shard.map(|s| s.count)).max();
    let missing: Vec<u32> = count.map_or(Vec::new(), |n| (0..n).filter(|i| !shards.contains(i)).collect());
    if !missing.is_empty() {
        tracing::warn!(
            "merge: shards {} of {} are missing; the merged catalog is incomplete",
            missing
                .iter()
                .map(|i| (i + 1).to_string())
                .collect::<Vec<_>>()
                .join(", "),
            count.unwrap_or(0)
        );
    }
    let mut lines: Vec<(u64, usize, &str)> = Vec::new();
    for (k, c) in cats.iter().enumerate() {
        for (rec, line) in &c.records {
            let task = rec.task().expect("search records have a task");
            if let Some(s) = c.run.shard {
                if !s.owns(task) {
                    return Err(Error::invalid(format!(
                        "merge: {} holds task {task}, which is not part of its shard {}/{}",
                        inputs[k].display(),
                        s.index + 1,
                        s.count
                    )));
                }
            }
            lines.push((task, k, line.as_str()));
        }
    }
    lines.sort_by_key(|&(t, k, _)| (t, k));
    if let Some(w) = lines.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::invalid(format!(
            "merge: task {} is in both {} and {}",
            w[0].0,
            inputs[w[0].1].display(),
            inputs[w[1].1].display()
        )));
    }
    let run = RunRecord {
        shard: None,
        ..base.clone()
    };
    let mut w = CatalogWriter::create(output, &run)?;
    for (_, _, line) in &lines {
        w.append_line(line)?;
    }
    Ok(MergeReport {
        inputs: inputs.iter().map(|p| p.display().to_string()).collect(),
        output: output.display().to_string(),
        searches: lines.len(),
        shards: shards.iter().map(|i| i + 1).collect(),
        missing_shards: missing.iter().map(|i| i + 1).collect(),
        truncated_inputs: inputs
            .iter()
            .zip(&cats)
            .filter(|(_, c)| c.truncated_tail)
            .map(|(p, _)| p.display().to_string())
            .collect(),
        forced,
    })
}

/// Writes the records of `inputs` (one catalog) to `output`, keeping only the search records
/// for which `keep` is true; the run record is copied. Used by `dedup` and `filter`.
pub fn rewrite(input: &Path, output: &Path, mut keep: impl FnMut(&Record) -> bool) -> Result<usize> {
    if same_file(input, output) {
        return Err(Error::invalid(format!(
            "the output {} is also the input",
            output.display()
        )));
    }
    let c = RawCatalog::read(input)?;
    let mut w = CatalogWriter::create(output, &c.run)?;
    let mut n = 0;
    for (rec, line) in &c.records {
        if keep(rec) {
            w.append_line(line)?;
            n += 1;
        }
    }
    Ok(n)
}
