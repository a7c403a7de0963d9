//! The streaming accumulator behind [`super::decompose_frames`]: per-interval displacements
//! in, multiple-tau MSD sums of the MD trajectory, of every random-walk realization and of the
//! short-step trajectories of the threshold scan out.
//!
//! Every tracked trajectory ("track") starts at the origin and adds one step per interval, so
//! only displacements are ever stored (no large coordinates, no wrapping). Tracks are updated
//! in parallel; each owns its state and its random stream, so the sums do not depend on the
//! number of threads.

use super::multitau::{GroupDifference, MultiTau, SquaredDisplacement};
use super::{Axis, DecomposeOptions, Geometry};
use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::f64::consts::PI;
use std::ops::Range;

/// Width of the bins of the displacement-length histogram, Å.
pub const HISTOGRAM_BIN: f64 = 0.02;
/// Displacements up to this length (Å) are binned; longer ones are counted as overflow.
pub const HISTOGRAM_MAX: f64 = 6.0;

/// Atoms x tracks below which an interval is processed on the calling thread.
const PARALLEL_MIN_WORK: usize = 20_000;

/// A set of analysed atoms of one species and one jackknife block, contiguous in the
/// engine's internal order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Group {
    pub species: usize,
    pub block: usize,
    pub atoms: usize,
}

/// What a track adds per interval.
enum Kind {
    /// The MD (or inherent-structure) trajectory itself.
    Md,
    /// A random-walk reconstruction: steps longer than the threshold turned in a uniformly
    /// random direction drawn from this realization's own stream.
    RandomWalk { rng: ChaCha8Rng },
    /// Short steps only (long ones dropped) for the threshold `d2.sqrt()`, plus the running
    /// per-group sum of the squared lengths of the dropped steps: together they give the
    /// mean over all random directions of the random-walk MSD (see [`super::result`]).
    ShortOnly {
        d2: f64,
        long_sq: Vec<f64>,
        long_corr: MultiTau<GroupDifference>,
        long_steps: u64,
    },
}

struct Track {
    kind: Kind,
    pos: Vec<f64>,
    corr: MultiTau<SquaredDisplacement>,
}

/// One interval's displacements in the engine's atom order.
struct Step<'a> {
    /// Displacement used for the MSD (in-plane projection for a surface analysis), Å.
    disp: &'a [[f64; 3]],
    /// Squared 3D length, which decides whether a step is an activated hop, Å^2.
    len2: &'a [f64],
    /// Length of `disp`, the length a random-walk step keeps, Å.
    len: &'a [f64],
    /// Whether the step is longer than the main threshold (an activated hop).
    long: &'a [bool],
    /// The in-plane axes of a surface analysis (`None`: 3D).
    plane: Option<[usize; 2]>,
    /// Group boundaries.
    groups: &'a [Range<usize>],
}

impl Track {
    fn advance(&mut self, s: &Step) {
        match &mut self.kind {
            Kind::Md => {
                for (p, d) in self.pos.chunks_exact_mut(3).zip(s.disp) {
                    p[0] += d[0];
                    p[1] += d[1];
                    p[2] += d[2];
                }
            }
            Kind::RandomWalk { rng } => {
                for (i, p) in self.pos.chunks_exact_mut(3).enumerate() {
                    let d = s.disp[i];
                    if s.long[i] {
                        let l = s.len[i];
                        match s.plane {
                            None => {
                                let u = unit_vector(rng);
                                p[0] += l * u[0];
                                p[1] += l * u[1];
                                p[2] += l * u[2];
                            }
                            Some([a, b]) => {
                                let phi = 2.0 * PI * rng.random::<f64>();
                                p[a] += l * phi.cos();
                                p[b] += l * phi.sin();
                            }
                        }
                    } else {
                        p[0] += d[0];
                        p[1] += d[1];
                        p[2] += d[2];
                    }
                }
            }
            Kind::ShortOnly {
                d2,
                long_sq,
                long_corr,
                long_steps,
            } => {
                for (g, r) in s.groups.iter().enumerate() {
                    for i in r.clone() {
                        let d = s.disp[i];
                        let p = &mut self.pos[3 * i..3 * i + 3];
                        if s.len2[i] > *d2 {
                            long_sq[g] += s.len[i] * s.len[i];
                            *long_steps += 1;
                        } else {
                            p[0] += d[0];
                            p[1] += d[1];
                            p[2] += d[2];
                        }
                    }
                }
                long_corr.push(long_sq);
            }
        }
        self.corr.push(&self.pos);
    }
}

/// A point uniformly distributed on the unit sphere (z uniform in [-1, 1], azimuth uniform:
/// Archimedes' hat-box theorem).
pub(crate) fn unit_vector(rng: &mut ChaCha8Rng) -> [f64; 3] {
    let z = 2.0 * rng.random::<f64>() - 1.0;
    let phi = 2.0 * PI * rng.random::<f64>();
    let s = (1.0 - z * z).max(0.0).sqrt();
    [s * phi.cos(), s * phi.sin(), z]
}

/// Raw sums after the last interval.
pub(crate) struct Raw {
    /// Lags in intervals.
    pub lags: Vec<u64>,
    /// Time origins averaged at each lag.
    pub origins: Vec<u64>,
    pub groups: Vec<Group>,
    /// MD sums, `[lag][group]` (sums over atoms and origins of squared displacements).
    pub md: Vec<Vec<f64>>,
    /// Random-walk sums per realization, `[realization][lag][group]`.
    pub rw: Vec<Vec<Vec<f64>>>,
    /// Per threshold of the scan: (d, short-step sums, long-step window sums, long steps).
    pub scan: Vec<ScanRaw>,
    pub intervals: u64,
    /// Histogram of 3D step lengths ([`HISTOGRAM_BIN`] wide bins) and the overflow count.
    pub histogram: Vec<u64>,
    pub histogram_overflow: u64,
    /// Largest step, Å.
    pub max_step: f64,
    /// Numbers held by the correlators.
    pub footprint: usize,
}

/// The raw sums of one threshold of the scan.
pub(crate) struct ScanRaw {
    pub d: f64,
    pub short: Vec<Vec<f64>>,
    pub long: Vec<Vec<f64>>,
    pub long_steps: u64,
}

/// The accumulator.
pub(crate) struct Engine {
    threshold2: f64,
    plane: Option<[usize; 2]>,
    /// Internal index -> atom index in the frame.
    order: Vec<usize>,
    ranges: Vec<Range<usize>>,
    groups: Vec<Group>,
    md: Track,
    rw: Vec<Track>,
    scan: Vec<(f64, Track)>,
    intervals: u64,
    disp: Vec<[f64; 3]>,
    len2: Vec<f64>,
    len: Vec<f64>,
    long: Vec<bool>,
    histogram: Vec<u64>,
    overflow: u64,
    max_step: f64,
}

impl Engine {
    /// An engine for the atoms `selected` (frame indices, ascending) of species `types`
    /// (per frame atom) out of `nspecies`.
    pub(crate) fn new(selected: &[usize], types: &[usize], nspecies: usize, opts: &DecomposeOptions) -> Result<Self> {
        if selected.is_empty() {
            return Err(Error::invalid("no atoms to analyse"));
        }
        let blocks = opts.blocks.max(1);
        // Internal order: species, then block (rank within the species mod blocks), then id order.
        let mut rank = vec![0usize; nspecies];
        let mut keyed: Vec<(usize, usize, usize)> = selected
            .iter()
            .map(|&i| {
                let s = types[i];
                let b = rank[s] % blocks;
                rank[s] += 1;
                (s, b, i)
            })
            .collect();
        keyed.sort_unstable();
        let order: Vec<usize> = keyed.iter().map(|k| k.2).collect();
        let mut groups: Vec<Group> = Vec::new();
        let mut ranges: Vec<Range<usize>> = Vec::new();
        for (idx, &(s, b, _)) in keyed.iter().enumerate() {
            match groups.last_mut() {
                Some(g) if g.species == s && g.block == b => {
                    g.atoms += 1;
                    ranges.last_mut().expect("parallel to groups").end = idx + 1;
                }
                _ => {
                    groups.push(Group {
                        species: s,
                        block: b,
                        atoms: 1,
                    });
                    ranges.push(idx..idx + 1);
                }
            }
        }
        let n = order.len();
        let p = opts.lags_per_level + 1;
        let metric = SquaredDisplacement { groups: ranges.clone() };
        let track = |kind: Kind| {
            let mut t = Track {
                kind,
                pos: vec![0.0; 3 * n],
                corr: MultiTau::new(p, 3 * n, metric.clone()),
            };
            t.corr.push(&t.pos.clone());
            if let Kind::ShortOnly { long_sq, long_corr, .. } = &mut t.kind {
                long_corr.push(long_sq);
            }
            t
        };
        let md = track(Kind::Md);
        let rw = (0..opts.realizations)
            .map(|r| {
                let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
                rng.set_stream(r as u64);
                track(Kind::RandomWalk { rng })
            })
            .collect();
        let mut ds: Vec<f64> = opts.scan.clone();
        ds.push(opts.threshold);
        ds.sort_by(f64::total_cmp);
        ds.dedup();
        let ng = groups.len();
        let scan = ds
            .into_iter()
            .map(|d| {
                (
                    d,
                    track(Kind::ShortOnly {
                        d2: d * d,
                        long_sq: vec![0.0; ng],
                        long_corr: MultiTau::new(p, ng, GroupDifference { groups: ng }),
                        long_steps: 0,
                    }),
                )
            })
            .collect();
        let plane = match opts.geometry {
            Geometry::Bulk => None,
            Geometry::Surface { axis, .. } => Some(axis.plane()),
        };
        Ok(Engine {
            threshold2: opts.threshold * opts.threshold,
            plane,
            order,
            ranges,
            groups,
            md,
            rw,
            scan,
            intervals: 0,
            disp: vec![[0.0; 3]; n],
            len2: vec![0.0; n],
            len: vec![0.0; n],
            long: vec![false; n],
            histogram: vec![0; (HISTOGRAM_MAX / HISTOGRAM_BIN).round() as usize],
            overflow: 0,
            max_step: 0.0,
        })
    }

    /// Atoms analysed.
    pub(crate) fn atoms(&self) -> usize {
        self.order.len()
    }

    /// Adds one interval: `disp[i]` is the displacement (Å) of frame atom `i`.
    pub(crate) fn push(&mut self, disp: &[[f64; 3]]) {
        let nbins = self.histogram.len();
        for (k, &i) in self.order.iter().enumerate() {
            let d = disp[i];
            let l2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            let l = l2.sqrt();
            self.max_step = self.max_step.max(l);
            let bin = (l / HISTOGRAM_BIN) as usize;
            if bin < nbins {
                self.histogram[bin] += 1;
            } else {
                self.overflow += 1;
            }
            let dp = match self.plane {
                None => d,
                Some([a, b]) => {
                    let mut q = [0.0; 3];
                    q[a] = d[a];
                    q[b] = d[b];
                    q
                }
            };
            self.disp[k] = dp;
            self.len2[k] = l2;
            self.len[k] = (dp[0] * dp[0] + dp[1] * dp[1] + dp[2] * dp[2]).sqrt();
            self.long[k] = l2 > self.threshold2;
        }
        let step = Step {
            disp: &self.disp,
            len2: &self.len2,
            len: &self.len,
            long: &self.long,
            plane: self.plane,
            groups: &self.ranges,
        };
        let mut tasks: Vec<&mut Track> = Vec::with_capacity(1 + self.rw.len() + self.scan.len());
        tasks.push(&mut self.md);
        tasks.extend(self.rw.iter_mut());
        tasks.extend(self.scan.iter_mut().map(|(_, t)| t));
        // Small systems: the work per track is too little to be worth a thread hand-off.
        if self.order.len() * tasks.len() < PARALLEL_MIN_WORK {
            tasks.into_iter().for_each(|t| t.advance(&step));
        } else {
            tasks.into_par_iter().for_each(|t| t.advance(&step));
        }
        self.intervals += 1;
    }

    /// Intervals added so far.
    pub(crate) fn intervals(&self) -> u64 {
        self.intervals
    }

    /// The sums so far.
    pub(crate) fn finish(self) -> Raw {
        let lags_of = |c: &MultiTau<SquaredDisplacement>| -> (Vec<u64>, Vec<u64>, Vec<Vec<f64>>) {
            let l = c.lags();
            (
                l.iter().map(|x| x.0).collect(),
                l.iter().map(|x| x.1).collect(),
                l.iter().map(|x| x.2.to_vec()).collect(),
            )
        };
        let (lags, origins, md) = lags_of(&self.md.corr);
        let rw = self.rw.iter().map(|t| lags_of(&t.corr).2).collect();
        let mut footprint = self.md.corr.footprint() + self.md.pos.len();
        for t in &self.rw {
            footprint += t.corr.footprint() + t.pos.len();
        }
        let scan = self
            .scan
            .iter()
            .map(|(d, t)| {
                footprint += t.corr.footprint() + t.pos.len();
                let Kind::ShortOnly {
                    long_corr, long_steps, ..
                } = &t.kind
                else {
                    unreachable!("scan tracks are short-only")
                };
                footprint += long_corr.footprint();
                ScanRaw {
                    d: *d,
                    short: lags_of(&t.corr).2,
                    long: long_corr.lags().iter().map(|x| x.2.to_vec()).collect(),
                    long_steps: *long_steps,
                }
            })
            .collect();
        Raw {
            lags,
            origins,
            groups: self.groups,
            md,
            rw,
            scan,
            intervals: self.intervals,
            histogram: self.histogram,
            histogram_overflow: self.overflow,
            max_step: self.max_step,
            footprint,
        }
    }
}

impl Axis {
    /// The two Cartesian axes of the plane perpendicular to this one.
    pub fn plane(self) -> [usize; 2] {
        match self {
            Axis::X => [1, 2],
            Axis::Y => [0, 2],
            Axis::Z => [0, 1],
        }
    }
}
