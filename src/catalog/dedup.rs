//! Duplicate events: two events of one catalog are the same when their saddle energies agree
//! within a tolerance and their saddle displacement patterns (from the common initial minimum)
//! agree atom by atom within a distance (eOn's criterion; `science.md` §4, step 5).
//!
//! Duplicates are found at analysis time (`pelx catalog stats`, `dedup`, `merge --dedup`),
//! never by dropping records while a campaign writes them.

use super::Event;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// When two events count as the same.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DedupOptions {
    /// Largest saddle-energy difference, eV.
    pub energy_tol: f64,
    /// Largest difference of any atom's saddle displacement, Å.
    pub distance_tol: f64,
}

impl Default for DedupOptions {
    fn default() -> Self {
        DedupOptions {
            energy_tol: 0.01,
            distance_tol: 0.1,
        }
    }
}

/// For each event, the index (into `events`) of the first event it duplicates, itself when it
/// is the first of its kind. Events are taken in slice order, so the representative of a group
/// is its earliest member.
///
/// Candidates are looked up by "anchor" atoms: a representative is filed under the atom it
/// displaces most; a matching event displaces that atom by at least its own largest
/// displacement minus twice the distance tolerance, so only such atoms are looked up.
pub fn representatives(events: &[Event], opts: &DedupOptions) -> Vec<usize> {
    let fields: Vec<HashMap<u32, [f64; 3]>> = events
        .iter()
        .map(|e| e.saddle_displacements.iter().copied().collect())
        .collect();
    let norm = |v: &[f64; 3]| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    let mut by_anchor: HashMap<u32, Vec<usize>> = HashMap::new();
    let mut rep = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let largest = e.saddle_displacements.iter().map(|(_, d)| norm(d)).fold(0.0, f64::max);
        let mut found = None;
        'anchors: for (a, d) in &e.saddle_displacements {
            if norm(d) < largest - 2.0 * opts.distance_tol {
                continue;
            }
            for &j in by_anchor.get(a).map(Vec::as_slice).unwrap_or(&[]) {
                if (events[j].e_saddle - e.e_saddle).abs() <= opts.energy_tol
                    && same_pattern(&fields[i], &fields[j], opts.distance_tol)
                {
                    found = Some(j);
                    break 'anchors;
                }
            }
        }
        match found {
            Some(j) => rep.push(j),
            None => {
                rep.push(i);
                if let Some((a, _)) = e
                    .saddle_displacements
                    .iter()
                    .max_by(|x, y| norm(&x.1).total_cmp(&norm(&y.1)).then(y.0.cmp(&x.0)))
                {
                    by_anchor.entry(*a).or_default().push(i);
                }
            }
        }
    }
    rep
}

/// Whether two sparse displacement fields agree within `tol` on every atom (an atom absent
/// from a field has a displacement below the catalog's storage cutoff, taken as zero).
fn same_pattern(a: &HashMap<u32, [f64; 3]>, b: &HashMap<u32, [f64; 3]>, tol: f64) -> bool {
    let t2 = tol * tol;
    let close = |x: &[f64; 3], y: &[f64; 3]| {
        let d = [x[0] - y[0], x[1] - y[1], x[2] - y[2]];
        d[0] * d[0] + d[1] * d[1] + d[2] * d[2] <= t2
    };
    let zero = [0.0; 3];
    a.iter().all(|(k, x)| close(x, b.get(k).unwrap_or(&zero)))
        && b.iter().all(|(k, y)| a.contains_key(k) || close(&zero, y))
}

/// Number of distinct events (groups) in a representative map.
pub fn distinct(rep: &[usize]) -> usize {
    rep.iter().enumerate().filter(|(i, r)| i == *r).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CallCounts;

    fn event(task: u64, e_saddle: f64, disp: Vec<(u32, [f64; 3])>) -> Event {
        Event {
            task,
            central_atom: 0,
            attempt: 0,
            seed: 0,
            e_initial: 0.0,
            e_saddle,
            e_final: 0.0,
            e_fw: e_saddle,
            e_rev: e_saddle,
            eigenvalue: -1.0,
            saddle_fmax: 0.01,
            max_displacement: 1.0,
            n_moved: 1,
            reconnects: true,
            verified: true,
            force_calls_saddle: 1,
            force_calls_total: 1,
            calls: CallCounts::default(),
            check: None,
            saddle_displacements: disp.clone(),
            final_displacements: disp,
            other_minimum: None,
            flags: vec![],
        }
    }

    #[test]
    fn groups_by_energy_and_pattern() {
        let a = vec![(3, [0.5, 0.0, 0.0]), (4, [0.0, 0.2, 0.0])];
        // Same pattern within 0.1 Å (atom 4 slightly different, atom 9 tiny and absent in a).
        let b = vec![(3, [0.47, 0.02, 0.0]), (4, [0.0, 0.25, 0.0]), (9, [0.05, 0.0, 0.0])];
        // Same energy, other pattern (the opposite direction).
        let c = vec![(3, [-0.5, 0.0, 0.0]), (4, [0.0, -0.2, 0.0])];
        let events = vec![
            event(0, 1.000, a.clone()),
            event(1, 1.005, b),
            event(2, 1.000, c),
            event(3, 1.200, a),
        ];
        let rep = representatives(&events, &DedupOptions::default());
        assert_eq!(rep, vec![0, 0, 2, 3]);
        assert_eq!(distinct(&rep), 3);
    }

    #[test]
    fn near_tie_of_the_largest_displacement_still_matches() {
        // Two atoms displaced almost equally: the representative is filed under atom 1, the
        // duplicate displaces atom 2 slightly more; the anchor search still finds it.
        let a = vec![(1, [0.50, 0.0, 0.0]), (2, [0.0, 0.49, 0.0])];
        let b = vec![(1, [0.46, 0.0, 0.0]), (2, [0.0, 0.53, 0.0])];
        let rep = representatives(&[event(0, 0.3, a), event(1, 0.3, b)], &DedupOptions::default());
        assert_eq!(rep, vec![0, 0]);
    }
}
