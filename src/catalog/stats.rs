//! Campaign statistics (`pelx catalog stats`): searches, converged saddles, verified and
//! distinct events, failure reasons, force calls per saddle and per verified event, barrier
//! summaries.

use super::dedup::{distinct, representatives, DedupOptions};
use super::{CallCounts, Catalog, FailureReason};
use serde::Serialize;
use std::collections::BTreeMap;

/// Version tag of the statistics JSON.
pub const STATS_SCHEMA: &str = "pelx.catalog-stats/1";

/// Order statistics of a sample. Quantiles interpolate linearly between order statistics
/// (Hyndman & Fan type 7, numpy's default); all fields are `null` for an empty sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Summary {
    pub count: usize,
    pub min: Option<f64>,
    pub p10: Option<f64>,
    pub median: Option<f64>,
    pub mean: Option<f64>,
    pub p90: Option<f64>,
    pub max: Option<f64>,
}

impl Summary {
    /// The summary of `values` (NaNs are not expected and sort last).
    pub fn of(values: &[f64]) -> Summary {
        if values.is_empty() {
            return Summary::default();
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        Summary {
            count: n,
            min: Some(v[0]),
            p10: Some(quantile(&v, 0.1)),
            median: Some(quantile(&v, 0.5)),
            mean: Some(v.iter().sum::<f64>() / n as f64),
            p90: Some(quantile(&v, 0.9)),
            max: Some(v[n - 1]),
        }
    }
}

/// The q-quantile of sorted values, linear interpolation between order statistics.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Force-call figures of a campaign.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForceCallStats {
    /// All force calls of all searches (failures included).
    pub total: u64,
    /// Force calls to reach each converged saddle (Lanczos included).
    pub to_saddle: Summary,
    /// Total force calls divided by converged saddles and by verified events.
    pub per_converged_saddle: Option<f64>,
    pub per_verified_event: Option<f64>,
    /// Totals by phase (activation, lanczos, convergence, relaxation, verification).
    pub by_phase: CallCounts,
}

/// Barrier summaries over distinct verified events (the first verified member of each group).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BarrierStats {
    /// E_fw = E_saddle - E_initial, eV.
    pub e_fw: Summary,
    /// E_rev = E_saddle - E_final, eV.
    pub e_rev: Summary,
    /// E_fw - E_rev = E_final - E_initial, eV.
    pub asymmetry: Summary,
    /// Largest atomic displacement between the minima, Å.
    pub max_displacement: Summary,
}

/// The statistics of one catalog.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogStats {
    pub schema: &'static str,
    pub catalog: String,
    pub natoms: usize,
    pub seed: u64,
    /// Search records (events and failures).
    pub searches: usize,
    /// Events, that is converged saddles with a final minimum other than the initial one.
    pub converged_saddles: usize,
    /// Events whose saddle reconnects to the initial minimum.
    pub reconnecting: usize,
    /// Events that passed every check (`verified: true`).
    pub verified: usize,
    /// Failures by reason.
    pub failures: BTreeMap<FailureReason, usize>,
    /// Distinct events (duplicates merged), and distinct verified events.
    pub distinct_events: usize,
    pub distinct_verified: usize,
    /// converged_saddles / searches, verified / searches, distinct_events / searches.
    pub success_rate: Option<f64>,
    pub verified_fraction: Option<f64>,
    pub distinct_per_search: Option<f64>,
    pub force_calls: ForceCallStats,
    pub barriers: BarrierStats,
    /// The duplicate criterion used.
    pub dedup: DedupOptions,
}

/// Computes the statistics of a catalog.
pub fn catalog_stats(cat: &Catalog, dedup: &DedupOptions) -> CatalogStats {
    let searches = cat.searches();
    let ratio = |a: usize| (searches > 0).then(|| a as f64 / searches as f64);
    let mut failures = BTreeMap::new();
    for f in &cat.failures {
        *failures.entry(f.reason.clone()).or_insert(0) += 1;
    }
    let mut events: Vec<&super::Event> = cat.events.iter().collect();
    events.sort_by_key(|e| e.task);
    let owned: Vec<super::Event> = events.iter().map(|e| (*e).clone()).collect();
    let rep = representatives(&owned, dedup);
    // A group is verified when any member is; its first verified member stands for it.
    let mut verified_rep: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, e) in owned.iter().enumerate() {
        if e.verified {
            verified_rep.entry(rep[i]).or_insert(i);
        }
    }
    let verified = owned.iter().filter(|e| e.verified).count();
    let mut by_phase = CallCounts::default();
    let mut total = 0u64;
    for e in &owned {
        add_calls(&mut by_phase, &e.calls);
        total += e.force_calls_total;
    }
    for f in &cat.failures {
        add_calls(&mut by_phase, &f.calls);
        total += f.force_calls_total;
    }
    let to_saddle: Vec<f64> = owned.iter().map(|e| e.force_calls_saddle as f64).collect();
    let per = |k: usize| (k > 0).then(|| total as f64 / k as f64);
    let picked: Vec<&super::Event> = verified_rep.values().map(|&i| &owned[i]).collect();
    let pick = |f: fn(&super::Event) -> f64| Summary::of(&picked.iter().map(|e| f(e)).collect::<Vec<_>>());
    let distinct_events = distinct(&rep);
    CatalogStats {
        schema: STATS_SCHEMA,
        catalog: cat.path.display().to_string(),
        natoms: cat.run.natoms,
        seed: cat.run.seed,
        searches,
        converged_saddles: owned.len(),
        reconnecting: owned.iter().filter(|e| e.reconnects).count(),
        verified,
        failures,
        distinct_events,
        distinct_verified: verified_rep.len(),
        success_rate: ratio(owned.len()),
        verified_fraction: ratio(verified),
        distinct_per_search: ratio(distinct_events),
        force_calls: ForceCallStats {
            total,
            to_saddle: Summary::of(&to_saddle),
            per_converged_saddle: per(owned.len()),
            per_verified_event: per(verified),
            by_phase,
        },
        barriers: BarrierStats {
            e_fw: pick(|e| e.e_fw),
            e_rev: pick(|e| e.e_rev),
            asymmetry: pick(|e| e.e_fw - e.e_rev),
            max_displacement: pick(|e| e.max_displacement),
        },
        dedup: *dedup,
    }
}

fn add_calls(acc: &mut CallCounts, c: &CallCounts) {
    acc.activation += c.activation;
    acc.lanczos += c.lanczos;
    acc.convergence += c.convergence;
    acc.relaxation += c.relaxation;
    acc.verification += c.verification;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        // numpy.percentile([1, 2, 3, 4], [10, 50, 90]) = [1.3, 2.5, 3.7]
        let s = Summary::of(&[4.0, 1.0, 3.0, 2.0]);
        assert!((s.p10.unwrap() - 1.3).abs() < 1e-12);
        assert!((s.median.unwrap() - 2.5).abs() < 1e-12);
        assert!((s.p90.unwrap() - 3.7).abs() < 1e-12);
        assert_eq!(s.mean, Some(2.5));
        assert_eq!((s.min, s.max), (Some(1.0), Some(4.0)));
        assert_eq!(Summary::of(&[]).median, None);
    }
}
