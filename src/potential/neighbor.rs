//! Neighbour lists: cell (bin) lists to build a Verlet half list with a skin.
//!
//! The list stores, for every pair closer than cutoff + skin, the partner index and the
//! periodic shift (a Cartesian vector) to add to the partner's position. Shifts are explicit,
//! so cells smaller than twice the cutoff are exact (several images of the same atom are
//! separate entries) and triclinic cells need no special case. The list is rebuilt only when
//! some atom has moved more than half the skin since the last build (or the cell changed).

use crate::structure::{norm2, Cell, Structure};
use std::collections::HashMap;

/// CSR view of a neighbour list: per-atom starts, (partner, shift index) entries, shift table.
pub type RawList<'a> = (&'a [u32], &'a [(u32, u32)], &'a [[f64; 3]]);

/// A Verlet half neighbour list (each pair once) with explicit periodic shifts.
#[derive(Debug, Clone)]
pub struct NeighborList {
    cutoff: f64,
    skin: f64,
    /// Pairs of atom `i` are `entries[starts[i]..starts[i + 1]]`.
    starts: Vec<u32>,
    entries: Vec<(u32, u32)>,
    shifts: Vec<[f64; 3]>,
    ref_positions: Vec<[f64; 3]>,
    ref_cell: Option<Cell>,
    builds: u64,
}

impl NeighborList {
    /// A list for interactions up to `cutoff` Å with a Verlet `skin` Å.
    pub fn new(cutoff: f64, skin: f64) -> Self {
        NeighborList {
            cutoff,
            skin: skin.max(0.0),
            starts: Vec::new(),
            entries: Vec::new(),
            shifts: Vec::new(),
            ref_positions: Vec::new(),
            ref_cell: None,
            builds: 0,
        }
    }

    /// Interaction cutoff, Å.
    pub fn cutoff(&self) -> f64 {
        self.cutoff
    }
    /// Verlet skin, Å.
    pub fn skin(&self) -> f64 {
        self.skin
    }
    /// How many times the list has been built.
    pub fn builds(&self) -> u64 {
        self.builds
    }
    /// Number of stored pairs (within cutoff + skin at the last build).
    pub fn n_pairs(&self) -> usize {
        self.entries.len()
    }

    /// The partners of atom `i`: (j, shift) with r_ij = x_j + shift - x_i.
    #[inline]
    pub fn neighbors(&self, i: usize) -> impl Iterator<Item = (usize, &[f64; 3])> + '_ {
        let (a, b) = (self.starts[i] as usize, self.starts[i + 1] as usize);
        self.entries[a..b]
            .iter()
            .map(move |&(j, s)| (j as usize, &self.shifts[s as usize]))
    }

    /// Raw access for hot loops: (starts, entries as (j, shift index), shift table).
    #[inline]
    pub fn raw(&self) -> RawList<'_> {
        (&self.starts, &self.entries, &self.shifts)
    }

    /// Rebuilds the list if needed; returns whether it was rebuilt.
    pub fn update(&mut self, s: &Structure) -> bool {
        if self.needs_rebuild(s) {
            self.build(s);
            true
        } else {
            false
        }
    }

    fn needs_rebuild(&self, s: &Structure) -> bool {
        if self.builds == 0 || self.ref_positions.len() != s.len() || self.ref_cell.as_ref() != Some(&s.cell) {
            return true;
        }
        let half = 0.5 * self.skin;
        let lim = half * half;
        s.positions
            .iter()
            .zip(&self.ref_positions)
            .any(|(a, b)| norm2([a[0] - b[0], a[1] - b[1], a[2] - b[2]]) > lim)
    }

    /// Builds the list from scratch with a bin grid over fractional coordinates.
    pub fn build(&mut self, s: &Structure) {
        let rc = self.cutoff + self.skin;
        let pairs = enumerate_pairs(s, rc);
        let n = s.len();
        self.starts.clear();
        self.starts.resize(n + 1, 0);
        self.entries.clear();
        self.shifts.clear();
        let mut shift_index: HashMap<[i64; 3], u32> = HashMap::new();
        let mut counts = vec![0u32; n];
        for p in &pairs {
            counts[p.i] += 1;
        }
        for i in 0..n {
            self.starts[i + 1] = self.starts[i] + counts[i];
        }
        self.entries.resize(pairs.len(), (0, 0));
        let mut fill = self.starts.clone();
        for p in &pairs {
            let idx = *shift_index.entry(p.image).or_insert_with(|| {
                self.shifts.push(
                    s.cell
                        .frac_to_vector([p.image[0] as f64, p.image[1] as f64, p.image[2] as f64]),
                );
                (self.shifts.len() - 1) as u32
            });
            let slot = fill[p.i] as usize;
            self.entries[slot] = (p.j as u32, idx);
            fill[p.i] += 1;
        }
        self.ref_positions.clear();
        self.ref_positions.extend_from_slice(&s.positions);
        self.ref_cell = Some(s.cell.clone());
        self.builds += 1;
    }
}

/// One pair found by [`enumerate_pairs`]: r_ij = x_j + cell·image - x_i (x unwrapped).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PairImage {
    pub i: usize,
    pub j: usize,
    pub image: [i64; 3],
    pub r2: f64,
}

/// Every pair (each once) closer than `rc`, with the integer image that separates the
/// unwrapped positions. Pairs come in order of `i`, then bin order.
pub(crate) fn enumerate_pairs(s: &Structure, rc: f64) -> Vec<PairImage> {
    let n = s.len();
    let cell = &s.cell;
    let pbc = cell.pbc();
    // Fractional coordinates, wrapped along periodic axes, and the image each atom came from.
    let mut frac = Vec::with_capacity(n);
    let mut img = Vec::with_capacity(n);
    for p in &s.positions {
        let mut f = cell.fractional(*p);
        let mut k = [0i64; 3];
        for a in 0..3 {
            if pbc[a] {
                let fl = f[a].floor();
                f[a] -= fl;
                k[a] = fl as i64;
                if f[a] >= 1.0 {
                    f[a] -= 1.0;
                    k[a] += 1;
                }
            }
        }
        frac.push(f);
        img.push(k);
    }
    // Bin grid: along each axis, bins at least rc wide (in perpendicular distance).
    let max_bins_axis = ((n as f64).cbrt().ceil() as usize * 2 + 1).max(1);
    let mut nb = [1usize; 3];
    let mut reach = [0i64; 3];
    let mut lo = [0.0f64; 3];
    let mut span = [1.0f64; 3];
    for a in 0..3 {
        let w = cell.perpendicular_width(a);
        if pbc[a] {
            nb[a] = ((w / rc).floor() as usize).clamp(1, max_bins_axis);
            reach[a] = (rc * nb[a] as f64 / w).ceil() as i64;
        } else {
            let (mn, mx) = frac.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(mn, mx), f| {
                (mn.min(f[a]), mx.max(f[a]))
            });
            lo[a] = mn;
            span[a] = (mx - mn).max(1e-300);
            let extent = (mx - mn) * w;
            nb[a] = ((extent / rc).floor() as usize).clamp(1, max_bins_axis);
            reach[a] = 1;
        }
    }
    let bin_of = |f: &[f64; 3]| -> [usize; 3] {
        let mut b = [0usize; 3];
        for a in 0..3 {
            let u = if pbc[a] { f[a] } else { (f[a] - lo[a]) / span[a] };
            b[a] = ((u * nb[a] as f64).floor() as i64).clamp(0, nb[a] as i64 - 1) as usize;
        }
        b
    };
    let nbins = nb[0] * nb[1] * nb[2];
    let flat = |b: [usize; 3]| (b[0] * nb[1] + b[1]) * nb[2] + b[2];
    let mut bin_start = vec![0usize; nbins + 1];
    let bins: Vec<[usize; 3]> = frac.iter().map(bin_of).collect();
    for b in &bins {
        bin_start[flat(*b) + 1] += 1;
    }
    for k in 0..nbins {
        bin_start[k + 1] += bin_start[k];
    }
    let mut bin_atoms = vec![0usize; n];
    let mut fill = bin_start.clone();
    for (i, b) in bins.iter().enumerate() {
        let f = flat(*b);
        bin_atoms[fill[f]] = i;
        fill[f] += 1;
    }
    let wrapped: Vec<[f64; 3]> = frac.iter().map(|f| cell.frac_to_vector(*f)).collect();
    let rc2 = rc * rc;
    let mut out = Vec::new();
    for i in 0..n {
        let bi = bins[i];
        for ox in -reach[0]..=reach[0] {
            for oy in -reach[1]..=reach[1] {
                for oz in -reach[2]..=reach[2] {
                    let o = [ox, oy, oz];
                    let mut bb = [0usize; 3];
                    let mut nimg = [0i64; 3];
                    let mut skip = false;
                    for a in 0..3 {
                        let v = bi[a] as i64 + o[a];
                        if pbc[a] {
                            let q = v.div_euclid(nb[a] as i64);
                            nimg[a] = q;
                            bb[a] = (v - q * nb[a] as i64) as usize;
                        } else if v < 0 || v >= nb[a] as i64 {
                            skip = true;
                        } else {
                            bb[a] = v as usize;
                        }
                    }
                    if skip {
                        continue;
                    }
                    let shift = cell.frac_to_vector([nimg[0] as f64, nimg[1] as f64, nimg[2] as f64]);
                    let f = flat(bb);
                    for &j in &bin_atoms[bin_start[f]..bin_start[f + 1]] {
                        let keep = j > i || (j == i && nimg > [0, 0, 0]);
                        if !keep {
                            continue;
                        }
                        let d = [
                            wrapped[j][0] + shift[0] - wrapped[i][0],
                            wrapped[j][1] + shift[1] - wrapped[i][1],
                            wrapped[j][2] + shift[2] - wrapped[i][2],
                        ];
                        let r2 = norm2(d);
                        if r2 < rc2 {
                            let image = [
                                nimg[0] + img[i][0] - img[j][0],
                                nimg[1] + img[i][1] - img[j][1],
                                nimg[2] + img[i][2] - img[j][2],
                            ];
                            out.push(PairImage { i, j, image, r2 });
                        }
                    }
                }
            }
        }
    }
    out
}

/// The closest pair of distinct atoms nearer than `rmin` Å, if any: (i, j, distance).
pub fn closest_pair_below(s: &Structure, rmin: f64) -> Option<(usize, usize, f64)> {
    enumerate_pairs(s, rmin)
        .into_iter()
        .filter(|p| p.i != p.j)
        .min_by(|a, b| a.r2.total_cmp(&b.r2).then((a.i, a.j).cmp(&(b.i, b.j))))
        .map(|p| (p.i.min(p.j), p.i.max(p.j), p.r2.sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// All pairs by brute force over a generous range of images.
    fn brute_force(s: &Structure, rc: f64) -> Vec<(usize, usize, [i64; 3])> {
        let mut v = Vec::new();
        let range = |a: usize| if s.cell.pbc()[a] { -4i64..=4 } else { 0..=0 };
        for i in 0..s.len() {
            for j in i..s.len() {
                for a in range(0) {
                    for b in range(1) {
                        for c in range(2) {
                            let n = [a, b, c];
                            if i == j && n <= [0, 0, 0] {
                                continue;
                            }
                            let sh = s.cell.frac_to_vector([a as f64, b as f64, c as f64]);
                            let x = s.positions[i];
                            let y = s.positions[j];
                            let d = [y[0] + sh[0] - x[0], y[1] + sh[1] - x[1], y[2] + sh[2] - x[2]];
                            if norm2(d) < rc * rc {
                                v.push((i, j, n));
                            }
                        }
                    }
                }
            }
        }
        v.sort();
        v
    }

    fn random_structure(cell: Cell, n: usize, seed: u64) -> Structure {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let pos = (0..n)
            .map(|_| {
                // Some atoms outside the cell, to exercise unwrapped coordinates.
                let f = [
                    rng.random_range(-0.3..1.3),
                    rng.random_range(-0.3..1.3),
                    rng.random_range(-0.3..1.3),
                ];
                cell.cartesian(f)
            })
            .collect();
        Structure::new(cell, vec!["X".into()], vec![0; n], pos).unwrap()
    }

    fn check(s: &Structure, rc: f64) {
        let mut got: Vec<(usize, usize, [i64; 3])> = enumerate_pairs(s, rc)
            .into_iter()
            .map(|p| {
                if p.i <= p.j {
                    (p.i, p.j, p.image)
                } else {
                    (p.j, p.i, p.image.map(|x| -x))
                }
            })
            .collect();
        got.sort();
        // Normalise self-image pairs to the positive image, as brute_force does.
        let got: Vec<_> = got
            .into_iter()
            .map(|(i, j, n)| {
                if i == j && n < [0, 0, 0] {
                    (i, j, n.map(|x| -x))
                } else {
                    (i, j, n)
                }
            })
            .collect();
        let mut got = got;
        got.sort();
        assert_eq!(got, brute_force(s, rc));
    }

    #[test]
    fn large_orthorhombic_cell_matches_brute_force() {
        let s = random_structure(Cell::orthorhombic(20.0, 22.0, 18.0).unwrap(), 300, 1);
        check(&s, 5.0);
    }

    #[test]
    fn cell_smaller_than_cutoff_has_several_images() {
        let s = random_structure(Cell::orthorhombic(4.0, 5.0, 6.0).unwrap(), 5, 2);
        check(&s, 7.0);
    }

    #[test]
    fn triclinic_small_cell_matches_brute_force() {
        let c = Cell::new([6.0, 0.0, 0.0], [2.5, 5.5, 0.0], [-1.5, 2.0, 7.0], [0.0; 3], [true; 3]).unwrap();
        let s = random_structure(c, 12, 3);
        check(&s, 6.5);
    }

    #[test]
    fn slab_with_vacuum_is_not_periodic_along_z() {
        let c = Cell::new(
            [12.0, 0.0, 0.0],
            [0.0, 12.0, 0.0],
            [0.0, 0.0, 30.0],
            [0.0; 3],
            [true, true, false],
        )
        .unwrap();
        let s = random_structure(c, 80, 4);
        check(&s, 4.5);
    }

    #[test]
    fn verlet_list_rebuilds_only_past_half_skin() {
        let mut s = random_structure(Cell::orthorhombic(15.0, 15.0, 15.0).unwrap(), 50, 5);
        let mut nl = NeighborList::new(4.0, 1.0);
        assert!(nl.update(&s));
        s.positions[3][0] += 0.4;
        assert!(!nl.update(&s));
        s.positions[3][0] += 0.2;
        assert!(nl.update(&s));
        assert_eq!(nl.builds(), 2);
    }
}
