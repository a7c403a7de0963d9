//! Histograms on grids aligned to multiples of the bin width, and summary statistics.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// A normalised 1D histogram: bin k covers [lo + k bin, lo + (k + 1) bin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Left edge of the first bin (a multiple of `bin`), eV.
    pub lo: f64,
    /// Bin width, eV.
    pub bin: f64,
    /// Values per bin.
    pub counts: Vec<u64>,
    /// counts / (n bin): a probability density, 1/eV (integrates to 1).
    pub density: Vec<f64>,
    /// Values binned.
    pub n: usize,
}

/// Most bins of a grid, and of the product of the two grids of a 2D histogram.
pub const MAX_BINS: usize = 1_000_000;

/// A bin grid: `n` bins of width `bin` from `lo`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    pub lo: f64,
    pub bin: f64,
    pub n: usize,
}

impl Grid {
    /// The grid aligned to multiples of `bin` that holds every value of `data` (one bin when
    /// `data` is empty). Errors on a non-positive bin or more than [`MAX_BINS`] bins.
    pub fn covering(data: impl Iterator<Item = f64>, bin: f64) -> Result<Grid> {
        if !(bin > 0.0 && bin.is_finite()) {
            return Err(Error::invalid(format!("bin width {bin} must be positive")));
        }
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for x in data {
            lo = lo.min(x);
            hi = hi.max(x);
        }
        if lo > hi {
            return Ok(Grid { lo: 0.0, bin, n: 1 });
        }
        let k0 = (lo / bin).floor();
        // Counted in floating point: a tiny bin or a huge value must not wrap the integer count.
        let bins = (hi / bin).floor() - k0 + 1.0;
        if !(bins.is_finite() && bins <= MAX_BINS as f64) {
            return Err(Error::invalid(format!(
                "a bin width of {bin:?} eV over [{lo:?}, {hi:?}] eV makes {bins:.3e} bins (at most {MAX_BINS}); choose a wider bin"
            )));
        }
        Ok(Grid {
            lo: k0 * bin,
            bin,
            n: bins as usize,
        })
    }

    /// The bin of `x` (clamped to the grid, so that rounding at the last edge stays inside).
    pub fn index(&self, x: f64) -> usize {
        let k = ((x - self.lo) / self.bin).floor();
        if k < 0.0 {
            0
        } else {
            (k as usize).min(self.n - 1)
        }
    }

    /// Centre of bin k.
    pub fn center(&self, k: usize) -> f64 {
        self.lo + (k as f64 + 0.5) * self.bin
    }
}

impl Histogram {
    /// Bins `data` on `grid`.
    pub fn new(data: &[f64], grid: Grid) -> Histogram {
        let mut counts = vec![0u64; grid.n];
        for &x in data {
            counts[grid.index(x)] += 1;
        }
        let norm = if data.is_empty() {
            0.0
        } else {
            1.0 / (data.len() as f64 * grid.bin)
        };
        Histogram {
            lo: grid.lo,
            bin: grid.bin,
            density: counts.iter().map(|&c| c as f64 * norm).collect(),
            counts,
            n: data.len(),
        }
    }

    /// The grid it was binned on.
    pub fn grid(&self) -> Grid {
        Grid {
            lo: self.lo,
            bin: self.bin,
            n: self.counts.len(),
        }
    }
}

/// A normalised 2D histogram: `counts[i][j]` holds the pairs with x in bin i, y in bin j.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram2d {
    pub x: Grid,
    pub y: Grid,
    pub counts: Vec<Vec<u64>>,
    /// counts / (n bin_x bin_y), 1/eV^2.
    pub density: Vec<Vec<f64>>,
    pub n: usize,
}

impl Histogram2d {
    /// Bins the pairs (`xs[i]`, `ys[i]`).
    pub fn new(xs: &[f64], ys: &[f64], x: Grid, y: Grid) -> Histogram2d {
        let mut counts = vec![vec![0u64; y.n]; x.n];
        for (&a, &b) in xs.iter().zip(ys) {
            counts[x.index(a)][y.index(b)] += 1;
        }
        let n = xs.len().min(ys.len());
        let norm = if n == 0 { 0.0 } else { 1.0 / (n as f64 * x.bin * y.bin) };
        let density = counts
            .iter()
            .map(|row| row.iter().map(|&c| c as f64 * norm).collect())
            .collect();
        Histogram2d {
            x,
            y,
            counts,
            density,
            n,
        }
    }
}

/// Summary statistics of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Quantiles by linear interpolation between order statistics (numpy's default).
    pub median: f64,
    /// Sample standard deviation (n - 1 in the denominator); null below 2 values.
    pub std: Option<f64>,
    /// Adjusted Fisher-Pearson skewness G1 = g1 sqrt(n (n - 1))/(n - 2), g1 = m3/m2^(3/2)
    /// (scipy.stats.skew(bias=False)); null below 3 values or for a constant sample.
    pub skewness: Option<f64>,
    pub min: f64,
    pub max: f64,
    pub q05: f64,
    pub q25: f64,
    pub q75: f64,
    pub q95: f64,
}

/// The q-quantile of sorted data (linear interpolation, numpy's default "linear" method).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = q * (sorted.len() - 1) as f64;
    let k = h.floor() as usize;
    if k + 1 >= sorted.len() {
        return sorted[sorted.len() - 1];
    }
    sorted[k] + (h - k as f64) * (sorted[k + 1] - sorted[k])
}

/// Summary statistics; None for an empty sample.
pub fn summarize(data: &[f64]) -> Option<Summary> {
    if data.is_empty() {
        return None;
    }
    let mut s = data.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len() as f64;
    let mean = s.iter().sum::<f64>() / n;
    let m2 = s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let m3 = s.iter().map(|x| (x - mean).powi(3)).sum::<f64>() / n;
    let std = (s.len() > 1).then(|| (m2 * n / (n - 1.0)).sqrt());
    let skewness = (s.len() > 2 && m2 > 0.0).then(|| m3 / m2.powf(1.5) * (n * (n - 1.0)).sqrt() / (n - 2.0));
    Some(Summary {
        n: s.len(),
        mean,
        median: quantile(&s, 0.5),
        std,
        skewness,
        min: s[0],
        max: s[s.len() - 1],
        q05: quantile(&s, 0.05),
        q25: quantile(&s, 0.25),
        q75: quantile(&s, 0.75),
        q95: quantile(&s, 0.95),
    })
}

/// Pearson correlation coefficient; None below 2 pairs or for a constant variable.
pub fn correlation(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_is_aligned_and_holds_every_value() {
        let data = [0.12, 0.449, 0.45, 1.0];
        let g = Grid::covering(data.iter().copied(), 0.05).unwrap();
        assert!((g.lo - 0.10).abs() < 1e-12);
        assert_eq!(g.n, 19); // [0.10, 1.05)
        let h = Histogram::new(&data, g);
        assert_eq!(h.counts.iter().sum::<u64>(), 4);
        assert_eq!(h.counts[0], 1);
        assert_eq!(h.counts[18], 1);
        let integral: f64 = h.density.iter().sum::<f64>() * h.bin;
        assert!((integral - 1.0).abs() < 1e-12);
        // Negative values (asymmetries) align too.
        let g = Grid::covering([-0.26, 0.31].into_iter(), 0.1).unwrap();
        assert!((g.lo + 0.3).abs() < 1e-12 && g.n == 7);
        assert!(Grid::covering([0.0].into_iter(), 0.0).is_err());
        assert!(Grid::covering([0.0, 1e9].into_iter(), 1e-3).is_err());
        // Counts that overflow an integer are errors, not wrapped grids.
        assert!(Grid::covering([0.0, 2.0].into_iter(), 1e-310).is_err());
        assert!(Grid::covering([0.0, 1e308].into_iter(), 0.05).is_err());
        assert!(Grid::covering([0.0, f64::INFINITY].into_iter(), 0.05).is_err());
    }

    #[test]
    fn joint_histogram_counts_pairs() {
        let x = [0.1, 0.1, 0.9];
        let y = [0.2, 0.8, 0.8];
        let gx = Grid::covering(x.iter().copied(), 0.5).unwrap();
        let gy = Grid::covering(y.iter().copied(), 0.5).unwrap();
        let h = Histogram2d::new(&x, &y, gx, gy);
        assert_eq!(h.counts, vec![vec![1, 1], vec![0, 1]]);
        assert!((h.density[0][0] - 1.0 / (3.0 * 0.25)).abs() < 1e-12);
    }

    #[test]
    fn summary_matches_numpy_and_scipy() {
        // numpy.percentile / scipy.stats.skew(bias=False) of [1, 2, 3, 4, 10]:
        // median 3, q25 2, q95 8.8, std (ddof=1) 3.5355339059327378, skew 1.6970562748477143.
        let s = summarize(&[4.0, 1.0, 10.0, 3.0, 2.0]).unwrap();
        assert_eq!((s.n, s.median, s.q25, s.min, s.max), (5, 3.0, 2.0, 1.0, 10.0));
        assert!((s.mean - 4.0).abs() < 1e-15);
        assert!((s.q95 - 8.8).abs() < 1e-12);
        assert!((s.std.unwrap() - 3.535_533_905_932_738).abs() < 1e-12);
        assert!(
            (s.skewness.unwrap() - 1.697_056_274_847_714_3).abs() < 1e-12,
            "{:?}",
            s.skewness
        );
        assert!(summarize(&[]).is_none());
        let one = summarize(&[2.0]).unwrap();
        assert!(one.std.is_none() && one.skewness.is_none() && one.median == 2.0);
        assert!((correlation(&[1.0, 2.0, 3.0], &[2.0, 4.0, 7.0]).unwrap() - 0.993_399_267_798_783).abs() < 1e-12);
        assert!(correlation(&[1.0, 1.0], &[1.0, 2.0]).is_none());
    }
}
