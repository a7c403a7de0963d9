//! Recognising the same configuration (minimum or saddle) seen twice.
//!
//! A configuration is stored as it comes in a catalog: the sparse displacements of the atoms
//! that moved, relative to a starting structure (an *origin*). Two configurations are the same
//! when their energies agree within a tolerance and no atom is farther apart than a distance
//! tolerance (same atom order, minimum image).
//!
//! * Same origin: a merge of the two sorted displacement lists, O(moved atoms). Atoms missing
//!   from a list moved less than the catalog's sparse cutoff and count as not moved, so the
//!   comparison is exact to that cutoff.
//! * Different origins (needs both structures): with D_i = P_a,i - P_b,i the difference of the
//!   two starting structures, atom i is |mic(D_i + d_a,i - d_b,i)| apart. The atoms in neither
//!   list are D_i apart; they are checked in order of decreasing |mic(D_i)| (sorted once per
//!   pair of origins), so a comparison stops after at most (listed atoms + 1) of them and stays
//!   O(moved atoms) too.

use crate::catalog::Displacement;
use crate::structure::{Cell, Structure};
use crate::{Error, Result};
use std::collections::HashMap;

/// A configuration: displacements from the starting structure `origin`, sorted by atom.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Config {
    pub origin: usize,
    pub disp: Vec<Displacement>,
}

impl Config {
    /// Sorts the list by atom; an atom listed twice is an error.
    pub fn new(origin: usize, mut disp: Vec<Displacement>) -> Result<Config> {
        disp.sort_by_key(|d| d.0);
        if let Some(w) = disp.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(Error::invalid(format!(
                "atom {} is listed twice in a displacement list",
                w[0].0
            )));
        }
        Ok(Config { origin, disp })
    }

    fn get(&self, atom: u32) -> [f64; 3] {
        match self.disp.binary_search_by_key(&atom, |d| d.0) {
            Ok(k) => self.disp[k].1,
            Err(_) => [0.0; 3],
        }
    }

    fn lists(&self, atom: u32) -> bool {
        self.disp.binary_search_by_key(&atom, |d| d.0).is_ok()
    }
}

/// The difference of two starting structures, prepared for comparisons.
struct PairDiff {
    cell: Cell,
    /// P_lo - P_hi (raw, not image-reduced), lo < hi origin indices.
    delta: Vec<[f64; 3]>,
    /// (|mic(delta_i)|, i), largest first.
    order: Vec<(f64, u32)>,
}

/// Compares configurations; caches the structure differences of origin pairs.
pub(crate) struct Comparer<'a> {
    structures: Vec<Option<&'a Structure>>,
    pairs: HashMap<(usize, usize), Option<PairDiff>>,
}

fn norm(v: [f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

fn same_cell(a: &Cell, b: &Cell) -> bool {
    a.pbc() == b.pbc() && (0..3).all(|k| (0..3).all(|j| (a.edge(k)[j] - b.edge(k)[j]).abs() < 1e-6))
}

impl<'a> Comparer<'a> {
    /// `structures[o]` is origin o's starting structure, when known.
    pub fn new(structures: Vec<Option<&'a Structure>>) -> Self {
        Comparer {
            structures,
            pairs: HashMap::new(),
        }
    }

    /// Whether configurations of origins `a` and `b` can be compared at all.
    #[cfg(test)]
    pub fn comparable(&mut self, a: usize, b: usize) -> bool {
        a == b || self.pair(a.min(b), a.max(b)).is_some()
    }

    fn pair(&mut self, lo: usize, hi: usize) -> Option<&PairDiff> {
        let structures = &self.structures;
        self.pairs
            .entry((lo, hi))
            .or_insert_with(|| {
                let (sa, sb) = (structures[lo]?, structures[hi]?);
                if sa.len() != sb.len() || !same_cell(&sa.cell, &sb.cell) {
                    return None;
                }
                let delta: Vec<[f64; 3]> = sa
                    .positions
                    .iter()
                    .zip(&sb.positions)
                    .map(|(p, q)| [p[0] - q[0], p[1] - q[1], p[2] - q[2]])
                    .collect();
                let mut order: Vec<(f64, u32)> = delta
                    .iter()
                    .enumerate()
                    .map(|(i, d)| (norm(sa.cell.minimum_image(*d)), i as u32))
                    .collect();
                order.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
                Some(PairDiff {
                    cell: sa.cell.clone(),
                    delta,
                    order,
                })
            })
            .as_ref()
    }

    /// Whether no atom of `a` and `b` is more than `tol` Å apart.
    pub fn within(&mut self, a: &Config, b: &Config, tol: f64) -> bool {
        if a.origin == b.origin {
            return same_origin_within(&a.disp, &b.disp, tol);
        }
        // Orient so that delta = P_lo - P_hi and x = lo-side config, y = hi-side.
        let (x, y) = if a.origin < b.origin { (a, b) } else { (b, a) };
        let Some(pd) = self.pair(x.origin, y.origin) else {
            return false;
        };
        // Listed atoms.
        for &(i, _) in x.disp.iter().chain(&y.disp) {
            let (dx, dy) = (x.get(i), y.get(i));
            let d = pd.delta[i as usize];
            let v = [d[0] + dx[0] - dy[0], d[1] + dx[1] - dy[1], d[2] + dx[2] - dy[2]];
            if norm(pd.cell.minimum_image(v)) > tol {
                return false;
            }
        }
        // The farthest atom listed in neither.
        for &(r, i) in &pd.order {
            if x.lists(i) || y.lists(i) {
                continue;
            }
            return r <= tol;
        }
        true
    }
}

/// Largest |d_a - d_b| over two sorted lists (absent = zero), compared with `tol`.
fn same_origin_within(a: &[Displacement], b: &[Displacement], tol: f64) -> bool {
    let (mut i, mut j) = (0, 0);
    let t2 = tol * tol;
    let far = |v: [f64; 3]| v[0] * v[0] + v[1] * v[1] + v[2] * v[2] > t2;
    while i < a.len() || j < b.len() {
        let v = match (a.get(i), b.get(j)) {
            (Some(p), Some(q)) if p.0 == q.0 => {
                i += 1;
                j += 1;
                [p.1[0] - q.1[0], p.1[1] - q.1[1], p.1[2] - q.1[2]]
            }
            (Some(p), Some(q)) if p.0 < q.0 => {
                i += 1;
                p.1
            }
            (Some(p), None) => {
                i += 1;
                p.1
            }
            (_, Some(q)) => {
                j += 1;
                q.1
            }
            (None, None) => unreachable!("loop condition"),
        };
        if far(v) {
            return false;
        }
    }
    true
}

/// Items bucketed by energy (bucket width = tolerance), for finding candidates within the
/// tolerance in O(1).
#[derive(Debug, Default)]
pub(crate) struct EnergyIndex {
    tol: f64,
    buckets: HashMap<i64, Vec<usize>>,
}

impl EnergyIndex {
    pub fn new(tol: f64) -> Self {
        EnergyIndex {
            tol,
            buckets: HashMap::new(),
        }
    }
    fn key(&self, e: f64) -> i64 {
        (e / self.tol).floor() as i64
    }
    pub fn insert(&mut self, e: f64, id: usize) {
        let k = self.key(e);
        self.buckets.entry(k).or_default().push(id);
    }
    /// Ids whose bucket is within one of `e`'s (a superset of those within the tolerance),
    /// in insertion order.
    pub fn candidates(&self, e: f64) -> Vec<usize> {
        let k = self.key(e);
        let mut out: Vec<usize> = (k - 1..=k + 1)
            .filter_map(|b| self.buckets.get(&b))
            .flatten()
            .copied()
            .collect();
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(origin: usize, d: &[(u32, [f64; 3])]) -> Config {
        Config::new(origin, d.to_vec()).unwrap()
    }

    #[test]
    fn same_origin_comparison_uses_the_union_of_atoms() {
        let mut c = Comparer::new(vec![None]);
        let a = cfg(0, &[(3, [1.0, 0.0, 0.0]), (7, [0.0, 0.5, 0.0])]);
        let b = cfg(0, &[(7, [0.0, 0.45, 0.0]), (3, [1.05, 0.0, 0.0])]);
        assert!(c.within(&a, &b, 0.1));
        assert!(!c.within(&a, &b, 0.04));
        // An atom moved in one only counts with its full displacement.
        let d = cfg(0, &[(3, [1.0, 0.0, 0.0]), (7, [0.0, 0.5, 0.0]), (9, [0.0, 0.0, 0.2])]);
        assert!(!c.within(&a, &d, 0.1));
        assert!(c.within(&a, &d, 0.2));
        // The initial minimum is the empty list.
        assert!(!c.within(&cfg(0, &[]), &a, 0.5));
        assert!(Config::new(0, vec![(1, [0.0; 3]), (1, [0.0; 3])]).is_err());
    }

    #[test]
    fn different_origins_compare_through_their_structures() {
        let cell = Cell::orthorhombic(10.0, 10.0, 10.0).unwrap();
        let p: Vec<[f64; 3]> = (0..5).map(|i| [1.0 + 2.0 * i as f64, 5.0, 5.0]).collect();
        let sa = Structure::from_symbols(cell.clone(), &["Cu"; 5], p.clone()).unwrap();
        // Origin b: atom 2 moved by +1.2 Å in x, and the whole structure shifted by a lattice
        // vector in y (the same configuration under the minimum image).
        let mut q = p.clone();
        q[2][0] += 1.2;
        for r in &mut q {
            r[1] += 10.0;
        }
        let sb = Structure::from_symbols(cell.clone(), &["Cu"; 5], q).unwrap();
        let mut c = Comparer::new(vec![Some(&sa), Some(&sb)]);
        // b's initial minimum is a's configuration with atom 2 displaced by 1.2 Å.
        let a_moved = cfg(0, &[(2, [1.2, 0.0, 0.0])]);
        let b_initial = cfg(1, &[]);
        assert!(c.within(&a_moved, &b_initial, 0.05));
        assert!(c.within(&b_initial, &a_moved, 0.05));
        assert!(!c.within(&cfg(0, &[]), &b_initial, 0.5));
        // Moving atom 2 back from b gives a's initial minimum; a small error in another atom
        // is caught whichever list carries it.
        let b_back = cfg(1, &[(2, [-1.2, 0.0, 0.0])]);
        assert!(c.within(&b_back, &cfg(0, &[]), 1e-9));
        let b_back_off = cfg(1, &[(2, [-1.2, 0.0, 0.0]), (4, [0.3, 0.0, 0.0])]);
        assert!(!c.within(&b_back_off, &cfg(0, &[]), 0.1));
        // Without the structures, or with a different cell, nothing compares.
        let other = Structure::from_symbols(Cell::orthorhombic(11.0, 10.0, 10.0).unwrap(), &["Cu"; 5], p).unwrap();
        let mut c = Comparer::new(vec![Some(&sa), None, Some(&other)]);
        assert!(!c.comparable(0, 1) && !c.comparable(0, 2) && c.comparable(1, 1));
    }

    #[test]
    fn energy_index_finds_neighbours_within_the_tolerance() {
        let mut ix = EnergyIndex::new(1e-3);
        ix.insert(-100.0005, 0);
        ix.insert(-100.0, 1);
        ix.insert(-99.9, 2);
        ix.insert(-100.0012, 3);
        let c = ix.candidates(-100.0003);
        assert!(c.contains(&0) && c.contains(&1) && c.contains(&3) && !c.contains(&2));
        assert!(c.windows(2).all(|w| w[0] < w[1]));
    }
}
