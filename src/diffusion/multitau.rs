//! Multiple-tau accumulation of mean-squared displacements in memory that does not grow with
//! the length of the trajectory.
//!
//! Level `l` of the correlator keeps the samples taken every `p^l` frames, and only the last
//! `p - 1` of them. When frame `k` is a multiple of `p^l`, the squared displacements between it
//! and each kept sample `j = 1 .. p - 1` back are added to lag `j p^l`. The lags are thus
//! `1, 2, ..., p-1, p, 2p, ..., (p-1)p, p^2, ...` (p = 10: 1..9, 10..90, 100..900, ...),
//! about `p - 1` points per factor `p` of time, and every lag `τ` is averaged over the time
//! origins spaced `p^l <= τ` apart (all origins for `τ < p`). Each squared displacement is
//! exact (positions are not block-averaged, unlike the multiple-tau correlators of
//! Ramírez et al., J. Chem. Phys. 133, 154103 (2010)); only the set of time origins is thinned,
//! as in the order-n algorithm of Frenkel & Smit (Understanding Molecular Simulation, 2nd ed.,
//! §4.4.2 and Algorithm 9). The estimate is therefore unbiased; at long lags it averages over
//! `(M - τ) / p^l >= (M - τ) / τ` origins, about the number of independent windows of length
//! `τ` that the trajectory holds, so the statistical error grows by less than the factor
//! `sqrt(p^l)` fewer origins would suggest (overlapping windows are strongly correlated).
//!
//! Memory: `(p - 1)` samples per level plus the first one, `ceil(log_p M)` levels for `M`
//! frames; the work per frame is about `p` times the sample width.

use std::ops::Range;

/// How a pair of samples (now, an earlier one) adds to the per-group sums of a lag.
pub(crate) trait Metric: Send + Sync {
    /// Adds the contribution of (`now`, `past`) to `out[g]` for every group `g`.
    fn accumulate(&self, now: &[f64], past: &[f64], out: &mut [f64]);
    /// Number of groups (length of `out`).
    fn groups(&self) -> usize;
}

/// Sum over the atoms of each group of |x_now - x_past|^2; samples hold 3 coordinates per atom
/// and groups are contiguous ranges of atoms.
#[derive(Debug, Clone)]
pub(crate) struct SquaredDisplacement {
    /// Atom ranges of the groups.
    pub groups: Vec<Range<usize>>,
}

impl Metric for SquaredDisplacement {
    fn accumulate(&self, now: &[f64], past: &[f64], out: &mut [f64]) {
        for (g, r) in self.groups.iter().enumerate() {
            out[g] += sum_sq_diff(&now[3 * r.start..3 * r.end], &past[3 * r.start..3 * r.end]);
        }
    }
    fn groups(&self) -> usize {
        self.groups.len()
    }
}

/// Sum of (a_i - b_i)^2 with four partial sums in a fixed order (vectorizable and
/// deterministic).
#[inline]
fn sum_sq_diff(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let m = n - n % 4;
    let mut acc = [0.0f64; 4];
    let mut i = 0;
    while i < m {
        let x: &[f64; 4] = a[i..i + 4].try_into().expect("4 values");
        let y: &[f64; 4] = b[i..i + 4].try_into().expect("4 values");
        let d = [x[0] - y[0], x[1] - y[1], x[2] - y[2], x[3] - y[3]];
        acc[0] += d[0] * d[0];
        acc[1] += d[1] * d[1];
        acc[2] += d[2] * d[2];
        acc[3] += d[3] * d[3];
        i += 4;
    }
    let mut tail = 0.0;
    for k in m..n {
        tail += (a[k] - b[k]) * (a[k] - b[k]);
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Difference of per-group scalars (now - past): samples hold one running sum per group.
#[derive(Debug, Clone)]
pub(crate) struct GroupDifference {
    pub groups: usize,
}

impl Metric for GroupDifference {
    fn accumulate(&self, now: &[f64], past: &[f64], out: &mut [f64]) {
        for g in 0..self.groups {
            out[g] += now[g] - past[g];
        }
    }
    fn groups(&self) -> usize {
        self.groups
    }
}

/// The last `p - 1` samples of one level, oldest overwritten first.
#[derive(Debug, Clone)]
struct Level {
    slots: Vec<Vec<f64>>,
    /// Slot the next sample goes to.
    head: usize,
}

/// A multiple-tau accumulator over samples of a fixed width.
#[derive(Debug, Clone)]
pub(crate) struct MultiTau<M> {
    p: usize,
    width: usize,
    metric: M,
    first: Vec<f64>,
    levels: Vec<Level>,
    pushed: u64,
    /// `sums[lag * groups + g]`.
    sums: Vec<f64>,
    /// Origins averaged at each lag.
    origins: Vec<u64>,
}

impl<M: Metric> MultiTau<M> {
    /// An empty accumulator of samples of `width` numbers with `p >= 2` (lags per level + 1).
    pub(crate) fn new(p: usize, width: usize, metric: M) -> Self {
        assert!(p >= 2, "multiple-tau block length must be at least 2");
        MultiTau {
            p,
            width,
            metric,
            first: Vec::new(),
            levels: Vec::new(),
            pushed: 0,
            sums: Vec::new(),
            origins: Vec::new(),
        }
    }

    /// Adds the sample of the next frame.
    pub(crate) fn push(&mut self, x: &[f64]) {
        debug_assert_eq!(x.len(), self.width);
        let k = self.pushed;
        let p = self.p as u64;
        let ng = self.metric.groups();
        if k == 0 {
            self.first = x.to_vec();
            self.levels.push(Level {
                slots: Vec::with_capacity(self.p - 1),
                head: 0,
            });
            self.levels[0].slots.push(x.to_vec());
            self.levels[0].head = 1 % (self.p - 1);
            self.pushed = 1;
            return;
        }
        let mut stride = 1u64;
        let mut l = 0usize;
        while k % stride == 0 {
            if l == self.levels.len() {
                // First sample of level l is at k = p^l; its only past sample is frame 0.
                self.levels.push(Level {
                    slots: vec![self.first.clone()],
                    head: 1 % (self.p - 1),
                });
            }
            let base = l * (self.p - 1);
            let need = (base + self.p - 1) * ng;
            if self.sums.len() < need {
                self.sums.resize(need, 0.0);
                self.origins.resize(base + self.p - 1, 0);
            }
            let level = &mut self.levels[l];
            let n = level.slots.len();
            let cap = self.p - 1;
            for j in 1..=n {
                let slot = (level.head + cap - j) % cap;
                let lag = base + j - 1;
                self.origins[lag] += 1;
                self.metric
                    .accumulate(x, &level.slots[slot], &mut self.sums[lag * ng..(lag + 1) * ng]);
            }
            if n < cap {
                level.slots.push(x.to_vec());
            } else {
                level.slots[level.head].copy_from_slice(x);
            }
            level.head = (level.head + 1) % cap;
            l += 1;
            match stride.checked_mul(p) {
                Some(s) if s <= k => stride = s,
                _ => break,
            }
        }
        self.pushed += 1;
    }

    /// Every lag with at least one origin, as (lag in frames, origins, per-group sums).
    pub(crate) fn lags(&self) -> Vec<(u64, u64, &[f64])> {
        let ng = self.metric.groups();
        let mut out = Vec::new();
        let mut scale = 1u64;
        for l in 0..self.levels.len() {
            for j in 1..self.p {
                let lag = l * (self.p - 1) + j - 1;
                if lag < self.origins.len() && self.origins[lag] > 0 {
                    out.push((
                        j as u64 * scale,
                        self.origins[lag],
                        &self.sums[lag * ng..(lag + 1) * ng],
                    ));
                }
            }
            scale *= self.p as u64;
        }
        out
    }

    /// Numbers held (samples and sums), for memory accounting.
    pub(crate) fn footprint(&self) -> usize {
        self.first.len() + self.levels.iter().map(|l| l.slots.len() * self.width).sum::<usize>() + self.sums.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The same estimator by brute force: for lag j p^l, origins at the multiples of p^l.
    fn brute(xs: &[Vec<f64>], p: u64, groups: &[Range<usize>]) -> Vec<(u64, u64, Vec<f64>)> {
        let m = xs.len() as u64;
        let mut out = Vec::new();
        let mut scale = 1u64;
        while scale < m {
            for j in 1..p {
                let lag = j * scale;
                if lag >= m {
                    break;
                }
                let mut sums = vec![0.0; groups.len()];
                let mut n = 0;
                let mut t = 0;
                while t + lag < m {
                    n += 1;
                    for (g, r) in groups.iter().enumerate() {
                        let (a, b) = (&xs[(t + lag) as usize], &xs[t as usize]);
                        for (x, y) in a[3 * r.start..3 * r.end].iter().zip(&b[3 * r.start..3 * r.end]) {
                            sums[g] += (x - y) * (x - y);
                        }
                    }
                    t += scale;
                }
                out.push((lag, n, sums));
            }
            scale *= p;
        }
        out
    }

    #[test]
    fn matches_brute_force_origins() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let atoms = 5;
        let groups = vec![0..2, 2..5];
        for (p, frames) in [(10usize, 1234usize), (4, 300), (2, 65), (3, 1)] {
            let mut x = vec![0.0; 3 * atoms];
            let mut xs = Vec::new();
            let mut mt = MultiTau::new(p, 3 * atoms, SquaredDisplacement { groups: groups.clone() });
            for _ in 0..frames {
                for v in x.iter_mut() {
                    *v += rng.random::<f64>() - 0.5;
                }
                xs.push(x.clone());
                mt.push(&x);
            }
            let got = mt.lags();
            let want = brute(&xs, p as u64, &groups);
            assert_eq!(got.len(), want.len(), "p = {p}");
            for ((lag, n, s), (wl, wn, ws)) in got.iter().zip(&want) {
                assert_eq!((lag, n), (wl, wn), "p = {p}");
                for (a, b) in s.iter().zip(ws) {
                    assert!((a - b).abs() <= 1e-12 * b.abs(), "p = {p} lag {lag}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn lag_grid_and_memory_are_logarithmic() {
        let mut mt = MultiTau::new(10, 3, SquaredDisplacement { groups: vec![0..1] });
        for k in 0..2500 {
            mt.push(&[k as f64, 0.0, 0.0]);
        }
        let lags: Vec<u64> = mt.lags().iter().map(|l| l.0).collect();
        let mut want: Vec<u64> = (1..10).collect();
        want.extend((1..10).map(|j| 10 * j));
        want.extend((1..10).map(|j| 100 * j));
        want.extend([1000, 2000]);
        assert_eq!(lags, want);
        // Ballistic motion x = k: every squared displacement is lag^2.
        for (lag, n, s) in mt.lags() {
            assert_eq!(s[0], (n * lag * lag) as f64);
        }
        // 4 levels of at most 9 samples + the first + sums.
        assert!(mt.footprint() <= 3 * (4 * 9 + 1) + 36, "{}", mt.footprint());
    }

    #[test]
    fn group_difference_averages_window_sums() {
        // Running sum c(k) = k(k+1)/2: the window sum over lag τ from origin t is
        // c(t+τ) - c(t).
        let mut mt = MultiTau::new(4, 1, GroupDifference { groups: 1 });
        let mut c = 0.0;
        let mut cs = Vec::new();
        for k in 0..40u64 {
            c += k as f64;
            cs.push(c);
            mt.push(&[c]);
        }
        for (lag, n, s) in mt.lags() {
            let scale = [1u64, 4, 16, 64]
                .into_iter()
                .filter(|&sc| lag % sc == 0 && lag / sc < 4)
                .max()
                .unwrap();
            let mut want = 0.0;
            let mut t = 0;
            let mut count = 0;
            while t + lag < 40 {
                want += cs[(t + lag) as usize] - cs[t as usize];
                t += scale;
                count += 1;
            }
            assert_eq!((n, s[0]), (count, want), "lag {lag}");
        }
    }
}
