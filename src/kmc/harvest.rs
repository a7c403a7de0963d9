//! Barrier pairs from an event catalog (`pelx art` JSON lines, read by [`crate::catalog`]).

use super::landscape::BarrierPair;
use crate::catalog::Catalog;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Which events of a catalog were used and why the others were not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HarvestSummary {
    pub path: String,
    pub sha256: String,
    /// Event and failure records in the catalog.
    pub events: usize,
    pub failures: usize,
    /// Events turned into barrier pairs.
    pub used: usize,
    /// Events left out: max displacement below the threshold, not verified, or with a
    /// non-finite or negative barrier or a non-positive displacement.
    pub below_min_displacement: usize,
    pub unverified: usize,
    pub invalid: usize,
    /// The threshold on max displacement, Å, and whether unverified events were left out.
    pub min_displacement: f64,
    pub verified_only: bool,
    /// Means over the used events, eV and Å.
    pub mean_e_fw: f64,
    pub mean_e_rev: f64,
    pub mean_abs_asymmetry: f64,
    pub mean_hop_length: f64,
}

/// The events of the catalog at `path` as barrier pairs (E_fw, E_rev, hop length = the event's
/// max displacement), keeping events whose max displacement is at least `min_displacement` Å
/// and, with `verified_only`, that passed the saddle checks. The run record and failure records
/// are skipped. A catalog without a usable event is an error that says why.
pub fn barrier_pairs(
    path: &Path,
    min_displacement: f64,
    verified_only: bool,
) -> Result<(Vec<BarrierPair>, HarvestSummary)> {
    if !(min_displacement >= 0.0 && min_displacement.is_finite()) {
        return Err(Error::invalid(format!(
            "min displacement {min_displacement} Å must be non-negative"
        )));
    }
    let catalog = Catalog::read(path)?;
    let (mut below, mut unverified, mut invalid) = (0, 0, 0);
    let mut pairs = Vec::new();
    for e in &catalog.events {
        let finite_nonneg = |x: f64| x >= 0.0 && x.is_finite();
        if !(finite_nonneg(e.e_fw)
            && finite_nonneg(e.e_rev)
            && e.max_displacement > 0.0
            && e.max_displacement.is_finite())
        {
            invalid += 1;
        } else if e.max_displacement < min_displacement {
            below += 1;
        } else if verified_only && !e.verified {
            unverified += 1;
        } else {
            pairs.push(BarrierPair {
                e_fw: e.e_fw,
                e_rev: e.e_rev,
                hop_length: e.max_displacement,
            });
        }
    }
    if pairs.is_empty() {
        return Err(Error::invalid(format!(
            "{}: no usable events ({} events: {below} below the min displacement {min_displacement} Å, \
             {unverified} unverified, {invalid} with invalid barriers or displacement; {} failures)",
            path.display(),
            catalog.events.len(),
            catalog.failures.len()
        )));
    }
    let n = pairs.len() as f64;
    let mean = |f: &dyn Fn(&BarrierPair) -> f64| pairs.iter().map(f).sum::<f64>() / n;
    let summary = HarvestSummary {
        path: path.display().to_string(),
        sha256: crate::provenance::file_sha256(path)?,
        events: catalog.events.len(),
        failures: catalog.failures.len(),
        used: pairs.len(),
        below_min_displacement: below,
        unverified,
        invalid,
        min_displacement,
        verified_only,
        mean_e_fw: mean(&|p| p.e_fw),
        mean_e_rev: mean(&|p| p.e_rev),
        mean_abs_asymmetry: mean(&|p| (p.e_fw - p.e_rev).abs()),
        mean_hop_length: mean(&|p| p.hop_length),
    };
    Ok((pairs, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kmc-catalog.jsonl")
    }

    #[test]
    fn fixture_catalog_gives_its_usable_events() {
        // The fixture holds 6 events and 2 failures: one event below 1 Å, one unverified, one
        // with a negative reverse barrier; three are usable.
        let (pairs, s) = barrier_pairs(&fixture(), 1.0, true).unwrap();
        assert_eq!((s.events, s.failures, s.used), (6, 2, 3));
        assert_eq!((s.below_min_displacement, s.unverified, s.invalid), (1, 1, 1));
        assert_eq!(
            pairs[0],
            BarrierPair {
                e_fw: 1.2,
                e_rev: 0.3,
                hop_length: 1.8
            }
        );
        assert!((s.mean_e_fw - (1.2 + 0.9 + 0.7) / 3.0).abs() < 1e-12);
        // Without filters the unverified and short events count too.
        let (all, _) = barrier_pairs(&fixture(), 0.0, false).unwrap();
        assert_eq!(all.len(), 5);
    }

    #[test]
    fn catalog_without_usable_events_is_a_clear_error() {
        let e = barrier_pairs(&fixture(), 10.0, true).unwrap_err().to_string();
        assert!(
            e.contains("no usable events") && e.contains("5 below the min displacement 10 Å"),
            "{e}"
        );
        assert!(barrier_pairs(&fixture(), -1.0, true).is_err());
    }
}
