//! Tracer correlation factor of vacancy diffusion on periodic lattices.
//!
//! One vacancy wanders on a periodic lattice; every atom it exchanges with is a tracer. With a
//! single vacancy every jump has the same rate Γ, so the residence-time algorithm reduces to
//! a uniform choice among the Z neighbours of the vacancy, and the time after N jumps is
//! Gamma(N, 1/(ZΓ)) distributed whatever the path (drawn once per stretch of jumps).
//!
//! ## Estimators
//! The correlation factor is `f = <R^2> / (n a^2)` for long tracer histories (science.md §9).
//! Every hop of an atom adds `a^2 + 2 r·R` to its R^2, where R is the atom's displacement
//! before the hop; the mean of `r·R` is the sum of the correlations `a^2 c_m` between the hop
//! and the atom's m-th previous hop. The primary estimate keeps the lags m = 1..L (`window`):
//!
//! `f = 1 + 2 sum_{m=1..L} c_m`,  `c_m = <r_k · r_{k-m}> / a^2`,
//!
//! averaged over every hop of every atom that already has L previous hops. For these lattices
//! c_m decays as `<cos θ>^m` (|<cos θ>| <= 1/2, honeycomb), so with the default L = 16 the
//! neglected tail is below 1e-5, while the far lags that carry no mean but grow the variance
//! of the whole-history R^2 are dropped. Also reported: `f_msd = sum_i R_i^2 / (N a^2)` over
//! the whole run (the definition itself, with an O(1/n) end bias and a larger error),
//! `f_cos = (1 + <cos θ>) / (1 - <cos θ>)` from consecutive jumps (Compaan & Haven 1956), and
//! the fraction of jumps that reverse the atom's previous jump (2/Z on these lattices).
//!
//! Error bars are delete-one jackknife errors over `blocks` consecutive stretches of the walk,
//! which are independent up to the few jumps that straddle a boundary. Displacements are
//! integers on a grid where every site is a lattice point, so the sums are exact.

use super::stats::jackknife;
use super::thread_cpu_seconds;
use super::trajectory::{FrameBox, TrajectoryWriter};
use crate::provenance::Provenance;
use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::str::FromStr;
use std::time::Instant;

/// A lattice for vacancy-diffusion KMC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lattice {
    Fcc,
    Bcc,
    Sc,
    Diamond,
    Square,
    Triangular,
    Honeycomb,
}

impl Lattice {
    /// Every lattice, 3D first.
    pub const ALL: [Lattice; 7] = [
        Lattice::Fcc,
        Lattice::Bcc,
        Lattice::Sc,
        Lattice::Diamond,
        Lattice::Square,
        Lattice::Triangular,
        Lattice::Honeycomb,
    ];

    /// Lower-case name (`"fcc"`).
    pub fn name(self) -> &'static str {
        match self {
            Lattice::Fcc => "fcc",
            Lattice::Bcc => "bcc",
            Lattice::Sc => "sc",
            Lattice::Diamond => "diamond",
            Lattice::Square => "square",
            Lattice::Triangular => "triangular",
            Lattice::Honeycomb => "honeycomb",
        }
    }

    /// Exact tracer correlation factor for vacancy diffusion in the dilute limit (Compaan &
    /// Haven 1956; Montet 1973; Mehrer, Diffusion in Solids, Table 7.2; science.md §9).
    pub fn exact_f(self) -> f64 {
        match self {
            Lattice::Fcc => 0.78145,
            Lattice::Bcc => 0.72719,
            Lattice::Sc => 0.65311,
            Lattice::Diamond => 0.5,
            Lattice::Square => 1.0 / (PI - 1.0),
            Lattice::Triangular => 0.56006,
            Lattice::Honeycomb => 1.0 / 3.0,
        }
    }

    /// Cells per axis of the default supercell: about 16,000 sites for every lattice, large
    /// enough that finite-size effects are below the statistical error (see the tests).
    pub fn default_size(self) -> usize {
        match self {
            Lattice::Fcc => 16,
            Lattice::Bcc => 20,
            Lattice::Sc => 24,
            Lattice::Diamond => 12,
            Lattice::Square => 128,
            Lattice::Triangular => 90,
            Lattice::Honeycomb => 64,
        }
    }

    /// The lattice on an integer grid.
    pub fn geometry(self) -> Geometry {
        let v = |x: i32, y: i32, z: i32| [x, y, z];
        match self {
            Lattice::Fcc => {
                let mut h = Vec::new();
                for a in [-1, 1] {
                    for b in [-1, 1] {
                        h.extend([v(a, b, 0), v(a, 0, b), v(0, a, b)]);
                    }
                }
                Geometry::bravais(
                    3,
                    [2, 2, 2],
                    vec![v(0, 0, 0), v(1, 1, 0), v(1, 0, 1), v(0, 1, 1)],
                    h,
                    [1, 1, 1],
                )
            }
            Lattice::Bcc => {
                let mut h = Vec::new();
                for a in [-1, 1] {
                    for b in [-1, 1] {
                        for c in [-1, 1] {
                            h.push(v(a, b, c));
                        }
                    }
                }
                Geometry::bravais(3, [2, 2, 2], vec![v(0, 0, 0), v(1, 1, 1)], h, [1, 1, 1])
            }
            Lattice::Sc => {
                let h = vec![
                    v(1, 0, 0),
                    v(-1, 0, 0),
                    v(0, 1, 0),
                    v(0, -1, 0),
                    v(0, 0, 1),
                    v(0, 0, -1),
                ];
                Geometry::bravais(3, [1, 1, 1], vec![v(0, 0, 0)], h, [1, 1, 1])
            }
            Lattice::Diamond => {
                // Grid unit a/4; A sites on an fcc lattice, B sites shifted by (1,1,1).
                let a_sites = [v(0, 0, 0), v(2, 2, 0), v(2, 0, 2), v(0, 2, 2)];
                let up = vec![v(1, 1, 1), v(1, -1, -1), v(-1, 1, -1), v(-1, -1, 1)];
                let down: Vec<[i32; 3]> = up.iter().map(|h| neg(*h)).collect();
                let mut basis = a_sites.to_vec();
                basis.extend(a_sites.iter().map(|s| [s[0] + 1, s[1] + 1, s[2] + 1]));
                let hops = (0..8).map(|b| if b < 4 { up.clone() } else { down.clone() }).collect();
                Geometry::new(3, [4, 4, 4], basis, hops, [1, 1, 1])
            }
            Lattice::Square => {
                let h = vec![v(1, 0, 0), v(-1, 0, 0), v(0, 1, 0), v(0, -1, 0)];
                Geometry::bravais(2, [1, 1, 1], vec![v(0, 0, 0)], h, [1, 1, 0])
            }
            Lattice::Triangular => {
                // Grid units a/2 along x and a√3/2 along y; rectangular cell of two sites.
                let h = vec![
                    v(2, 0, 0),
                    v(-2, 0, 0),
                    v(1, 1, 0),
                    v(-1, 1, 0),
                    v(1, -1, 0),
                    v(-1, -1, 0),
                ];
                Geometry::bravais(2, [2, 2, 1], vec![v(0, 0, 0), v(1, 1, 0)], h, [1, 3, 0])
            }
            Lattice::Honeycomb => {
                // Bond length b; grid units √3b/2 along x and b/2 along y; rectangular cell of
                // four sites, A at (0,0), (1,3) and B at (0,2), (1,5).
                let up = vec![v(0, 2, 0), v(1, -1, 0), v(-1, -1, 0)];
                let down: Vec<[i32; 3]> = up.iter().map(|h| neg(*h)).collect();
                let basis = vec![v(0, 0, 0), v(0, 2, 0), v(1, 3, 0), v(1, 5, 0)];
                let hops = vec![up.clone(), down.clone(), up, down];
                Geometry::new(2, [2, 6, 1], basis, hops, [3, 1, 0])
            }
        }
    }
}

impl std::fmt::Display for Lattice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Lattice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Lattice::ALL
            .into_iter()
            .find(|l| l.name() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown lattice '{s}' (expected one of fcc, bcc, sc, diamond, square, triangular, honeycomb)"
                ))
            })
    }
}

fn neg(h: [i32; 3]) -> [i32; 3] {
    [-h[0], -h[1], -h[2]]
}

/// A lattice on an integer grid: the conventional cell, its basis sites and each basis site's
/// nearest-neighbour vectors, all in grid units, with a diagonal integer metric so that squared
/// lengths and dot products are exact integers.
#[derive(Debug, Clone, PartialEq)]
pub struct Geometry {
    /// 2 or 3; 2D lattices have zero z components.
    pub dimension: usize,
    /// Conventional cell edges, grid units (1 along z in 2D).
    pub cell: [i32; 3],
    /// Sites of the conventional cell, grid units.
    pub basis: Vec<[i32; 3]>,
    /// Nearest-neighbour vectors of each basis site, grid units.
    pub hops: Vec<Vec<[i32; 3]>>,
    /// Cartesian squared length of a grid vector x is `sum_d metric[d] x_d^2` (in units of
    /// `nn2` times the squared nearest-neighbour distance).
    pub metric: [i64; 3],
    /// Metric squared length of a nearest-neighbour vector.
    pub nn2: i64,
}

impl Geometry {
    fn new(dimension: usize, cell: [i32; 3], basis: Vec<[i32; 3]>, hops: Vec<Vec<[i32; 3]>>, metric: [i64; 3]) -> Self {
        let nn2 = metric.iter().zip(hops[0][0]).map(|(w, x)| w * (x as i64).pow(2)).sum();
        Geometry {
            dimension,
            cell,
            basis,
            hops,
            metric,
            nn2,
        }
    }

    fn bravais(dimension: usize, cell: [i32; 3], basis: Vec<[i32; 3]>, hops: Vec<[i32; 3]>, metric: [i64; 3]) -> Self {
        let all = vec![hops; basis.len()];
        Geometry::new(dimension, cell, basis, all, metric)
    }

    /// Number of nearest neighbours.
    pub fn coordination(&self) -> usize {
        self.hops[0].len()
    }

    /// Metric dot product of two grid vectors.
    pub fn dot(&self, a: [i32; 3], b: [i32; 3]) -> i64 {
        (0..3).map(|d| self.metric[d] * a[d] as i64 * b[d] as i64).sum()
    }

    /// Cartesian length of one grid unit along each axis, in nearest-neighbour distances.
    pub fn axis_scale(&self) -> [f64; 3] {
        self.metric.map(|w| (w as f64 / self.nn2 as f64).sqrt())
    }

    /// Index of the basis site at offset `o` inside the cell, if there is one.
    fn basis_index(&self, o: [i32; 3]) -> Option<usize> {
        self.basis.iter().position(|b| *b == o)
    }
}

/// Bits of a neighbour-table entry that hold the hop direction.
const DIR_BITS: u32 = 5;
/// Marks the vacant site in the site-to-atom map.
const VACANT: u32 = u32::MAX;

/// A periodic supercell of a lattice with its neighbour table.
#[derive(Debug, Clone)]
pub struct Supercell {
    pub lattice: Lattice,
    pub geometry: Geometry,
    /// Conventional cells along each axis (1 along z in 2D).
    pub size: [usize; 3],
    /// Grid coordinates of every site.
    pub sites: Vec<[i32; 3]>,
    /// The distinct nearest-neighbour vectors (hop directions).
    pub directions: Vec<[i32; 3]>,
    /// `opposite[d]` is the direction of `-directions[d]`.
    pub opposite: Vec<u8>,
    /// For site s and neighbour slot k: `(neighbour << DIR_BITS) | d`, where d is the direction
    /// of the hop an atom makes from the neighbour into s.
    table: Vec<u32>,
}

impl Supercell {
    /// `size` conventional cells along each axis (along x and y only in 2D).
    pub fn new(lattice: Lattice, size: usize) -> Result<Self> {
        let g = lattice.geometry();
        if size < 2 {
            return Err(Error::invalid(format!(
                "lattice size {size} is too small (at least 2 cells per axis)"
            )));
        }
        let size3 = [size, size, if g.dimension == 3 { size } else { 1 }];
        let nsites = size3.iter().product::<usize>() * g.basis.len();
        if nsites >= (1usize << (32 - DIR_BITS)) {
            return Err(Error::invalid(format!(
                "lattice size {size} gives {nsites} sites, more than supported"
            )));
        }
        let extent: [i32; 3] = [0, 1, 2].map(|d| size3[d] as i32 * g.cell[d]);
        let mut directions: Vec<[i32; 3]> = Vec::new();
        for hs in &g.hops {
            for h in hs {
                if !directions.contains(h) {
                    directions.push(*h);
                }
            }
        }
        let opposite = directions
            .iter()
            .map(|h| directions.iter().position(|x| *x == neg(*h)).map(|i| i as u8))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| Error::invalid("lattice geometry: a hop without its reverse"))?;
        let site_index = |p: [i32; 3]| -> Option<usize> {
            let q: [i32; 3] = [0, 1, 2].map(|d| p[d].rem_euclid(extent[d]));
            let c: [usize; 3] = [0, 1, 2].map(|d| (q[d] / g.cell[d]) as usize);
            let b = g.basis_index([0, 1, 2].map(|d| q[d] % g.cell[d]))?;
            Some(((c[2] * size3[1] + c[1]) * size3[0] + c[0]) * g.basis.len() + b)
        };
        let mut sites = vec![[0; 3]; nsites];
        let mut basis_of = vec![0usize; nsites];
        for cz in 0..size3[2] {
            for cy in 0..size3[1] {
                for cx in 0..size3[0] {
                    for (b, o) in g.basis.iter().enumerate() {
                        let p = [
                            cx as i32 * g.cell[0] + o[0],
                            cy as i32 * g.cell[1] + o[1],
                            cz as i32 * g.cell[2] + o[2],
                        ];
                        let s = site_index(p).expect("basis sites are on the grid");
                        sites[s] = p;
                        basis_of[s] = b;
                    }
                }
            }
        }
        let z = g.coordination();
        let mut table = Vec::with_capacity(nsites * z);
        for (s, p) in sites.iter().enumerate() {
            let hops = &g.hops[basis_of[s]];
            if hops.len() != z {
                return Err(Error::invalid("lattice geometry: sites with different coordination"));
            }
            let first = table.len();
            for h in hops {
                let n = site_index([p[0] + h[0], p[1] + h[1], p[2] + h[2]]).ok_or_else(|| {
                    Error::invalid(format!("lattice geometry: {lattice} hop {h:?} leaves the lattice"))
                })?;
                // The atom on the neighbour hops into s along -h.
                let d = directions.iter().position(|x| *x == neg(*h)).expect("reverse exists");
                table.push(((n as u32) << DIR_BITS) | d as u32);
            }
            let mut ns: Vec<u32> = table[first..].iter().map(|e| e >> DIR_BITS).collect();
            ns.sort_unstable();
            ns.dedup();
            if ns.len() != z || ns.contains(&(s as u32)) {
                return Err(Error::invalid(format!(
                    "lattice size {size} is too small for {lattice}: periodic images coincide with neighbours"
                )));
            }
        }
        Ok(Supercell {
            lattice,
            geometry: g,
            size: size3,
            sites,
            directions,
            opposite,
            table,
        })
    }

    /// Number of sites.
    pub fn len(&self) -> usize {
        self.sites.len()
    }

    /// Whether the supercell has no site (never: construction requires two cells per axis).
    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    /// Neighbour `k` of site `s` and the direction of the hop from it into `s`.
    pub fn neighbour(&self, s: usize, k: usize) -> (usize, usize) {
        let e = self.table[s * self.geometry.coordination() + k];
        ((e >> DIR_BITS) as usize, (e & ((1 << DIR_BITS) - 1)) as usize)
    }

    /// The periodic box, Cartesian, in units of the nearest-neighbour distance.
    pub fn frame_box(&self, nn_distance: f64) -> FrameBox {
        let s = self.geometry.axis_scale();
        let dim = self.geometry.dimension;
        let hi = [0, 1, 2].map(|d| {
            if d < dim {
                self.size[d] as f64 * self.geometry.cell[d] as f64 * s[d] * nn_distance
            } else {
                nn_distance
            }
        });
        FrameBox {
            lo: [0.0, 0.0, if dim == 3 { 0.0 } else { -0.5 * nn_distance }],
            hi: [hi[0], hi[1], if dim == 3 { hi[2] } else { 0.5 * nn_distance }],
            periodic: [true; 3],
        }
    }
}

/// Parameters of a vacancy-tracer run; also the form of `configs/kmc-lattice.toml`, where every
/// key is optional and unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LatticeParams {
    pub lattice: Lattice,
    /// Conventional cells per axis; `None` takes [`Lattice::default_size`].
    pub size: Option<usize>,
    /// Vacancy jumps (= tracer hops) in the whole run.
    pub hops: u64,
    /// Consecutive blocks for the jackknife errors.
    pub blocks: usize,
    /// Lags L kept in the correlation sum.
    pub window: usize,
    pub seed: u64,
}

impl Default for LatticeParams {
    fn default() -> Self {
        LatticeParams::new(Lattice::Fcc)
    }
}

impl LatticeParams {
    /// Defaults: 1e8 jumps in 32 blocks, L = 16, seed 1.
    pub fn new(lattice: Lattice) -> Self {
        LatticeParams {
            lattice,
            size: None,
            hops: 100_000_000,
            blocks: 32,
            window: 16,
            seed: 1,
        }
    }

    /// Checks the run length, blocks and window (the lattice size is checked when the
    /// supercell is built).
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_WINDOW).contains(&self.window) {
            return Err(Error::invalid(format!(
                "window {} must lie in 1..={MAX_WINDOW}",
                self.window
            )));
        }
        if self.blocks < 2 {
            return Err(Error::invalid(format!("blocks {} must be at least 2", self.blocks)));
        }
        if self.hops < self.blocks as u64 {
            return Err(Error::invalid(format!(
                "hops {} must be at least the number of blocks {}",
                self.hops, self.blocks
            )));
        }
        Ok(())
    }
}

/// Version tag of the `pelx kmc lattice` output (`schemas/kmc-lattice.schema.json`).
pub const LATTICE_SCHEMA: &str = "pelx.kmc.lattice/1";

/// The JSON document `pelx kmc lattice` prints: schema, provenance and the result.
#[derive(Debug, Clone, Serialize)]
pub struct LatticeReport {
    pub schema: &'static str,
    pub pelx_version: &'static str,
    #[serde(flatten)]
    pub result: LatticeResult,
    pub provenance: Provenance,
}

impl LatticeReport {
    /// The report of `result` for the current process.
    pub fn new(result: LatticeResult) -> Result<Self> {
        Ok(LatticeReport {
            schema: LATTICE_SCHEMA,
            pelx_version: crate::provenance::VERSION,
            result,
            provenance: Provenance::new(&[])?,
        })
    }
}

/// Trajectory output of a lattice run: all atoms' unwrapped positions every `every` jumps.
pub struct LatticeTrajectory<'a> {
    pub writer: &'a mut TrajectoryWriter,
    pub every: u64,
    /// Nearest-neighbour distance used to scale positions, Å.
    pub nn_distance: f64,
}

/// Outcome of a vacancy-tracer run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatticeResult {
    pub lattice: Lattice,
    pub dimension: usize,
    pub coordination: usize,
    /// Conventional cells per axis and the number of sites (one is the vacancy).
    pub size: [usize; 3],
    pub sites: usize,
    pub hops: u64,
    pub blocks: usize,
    pub window: usize,
    pub seed: u64,
    /// f = 1 + 2 sum_{m<=L} c_m, with its one-sigma jackknife error.
    pub f: f64,
    pub f_err: f64,
    /// The exact value (science.md §9) and (f - f_exact) / f_err.
    pub f_exact: f64,
    pub deviation_sigma: f64,
    /// Correlations c_m = <cos θ_m> between a hop and the atom's m-th previous hop, m = 1..L.
    pub lag_correlations: Vec<f64>,
    /// <cos θ> of consecutive hops and f_cos = (1 + <cos θ>)/(1 - <cos θ>).
    pub cos_theta: f64,
    pub f_cos: f64,
    pub f_cos_err: f64,
    /// Fraction of hops that reverse the atom's previous hop (2/Z on these lattices).
    pub reverse_fraction: f64,
    pub reverse_fraction_err: f64,
    /// Hops counted in the correlation sums (those of atoms with at least L previous hops).
    pub counted_hops: u64,
    /// Whole-run sum_i R_i^2 / (N a^2), with the error from the scatter over atoms.
    pub f_msd: f64,
    pub f_msd_err: f64,
    /// Simulated time in units of 1/Γ (Γ: rate of one vacancy jump to a given neighbour).
    pub time: f64,
    /// Wall time and CPU time of the walk (setup excluded), s; the CPU time is the thread's
    /// time on a core (Linux schedstat), equal to the wall time where that is unavailable.
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
    /// Jumps per CPU second on one core (the benchmark figure) and per wall-clock second.
    pub hops_per_second: f64,
    pub hops_per_wall_second: f64,
}

/// Sums of one block of the walk.
#[derive(Debug, Clone)]
struct BlockSums {
    counted: u64,
    reversals: u64,
    /// Metric dot products summed per lag.
    lag: Vec<i64>,
}

/// Largest lag window: the hop history of an atom is a fixed array.
pub const MAX_WINDOW: usize = 16;

/// What the walk keeps of one atom, in one 32-byte record so that a jump touches one cache line.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(32))]
struct AtomState {
    /// Unwrapped displacement, grid units.
    disp: [i32; 3],
    hops: u32,
    /// Directions of the last hops, newest first.
    history: [u8; MAX_WINDOW],
}

/// The vacancy, the atoms and their recent hop history.
struct Walk<'a> {
    cell: &'a Supercell,
    window: usize,
    vacancy: usize,
    atom_at: Vec<u32>,
    atoms: Vec<AtomState>,
    /// Metric dot products of all direction pairs, row-major.
    dots: Vec<i32>,
}

impl<'a> Walk<'a> {
    fn new(cell: &'a Supercell, window: usize, vacancy: usize) -> Self {
        let n = cell.len();
        let mut atom_at: Vec<u32> = (0..n as u32).collect();
        atom_at[vacancy] = VACANT;
        let nd = cell.directions.len();
        let mut dots = Vec::with_capacity(nd * nd);
        for a in &cell.directions {
            for b in &cell.directions {
                dots.push(cell.geometry.dot(*a, *b) as i32);
            }
        }
        Walk {
            cell,
            window,
            vacancy,
            atom_at,
            atoms: vec![AtomState::default(); n],
            dots,
        }
    }

    /// `n` vacancy jumps, adding to `sums`.
    fn run(&mut self, n: u64, rng: &mut ChaCha8Rng, sums: &mut BlockSums) {
        let z = self.cell.geometry.coordination();
        let nd = self.cell.directions.len();
        let l = self.window;
        let cell = self.cell;
        let mut lag = std::mem::take(&mut sums.lag);
        for _ in 0..n {
            let (s, d) = cell.neighbour(self.vacancy, rng.random_range(0..z));
            let a = self.atom_at[s];
            self.atom_at[self.vacancy] = a;
            self.atom_at[s] = VACANT;
            self.vacancy = s;
            let st = &mut self.atoms[a as usize];
            if st.hops as usize >= l {
                let row = &self.dots[d * nd..(d + 1) * nd];
                for (acc, &prev) in lag.iter_mut().zip(&st.history[..l]) {
                    *acc += row[prev as usize] as i64;
                }
                sums.counted += 1;
                sums.reversals += (st.history[0] == cell.opposite[d]) as u64;
            }
            st.history.copy_within(0..MAX_WINDOW - 1, 1);
            st.history[0] = d as u8;
            st.hops += 1;
            let h = cell.directions[d];
            st.disp[0] += h[0];
            st.disp[1] += h[1];
            st.disp[2] += h[2];
        }
        sums.lag = lag;
    }

    /// Unwrapped Cartesian positions (Å) of every atom, in atom order (the vacancy's initial
    /// site holds no atom and is skipped).
    fn positions(&self, nn_distance: f64, vacancy0: usize) -> Vec<[f64; 3]> {
        let s = self.cell.geometry.axis_scale();
        (0..self.cell.len())
            .filter(|&a| a != vacancy0)
            .map(|a| [0, 1, 2].map(|d| (self.cell.sites[a][d] + self.atoms[a].disp[d]) as f64 * s[d] * nn_distance))
            .collect()
    }
}

/// Runs one vacancy on a periodic lattice and estimates the tracer correlation factor.
pub fn run_lattice(p: &LatticeParams, mut trajectory: Option<LatticeTrajectory<'_>>) -> Result<LatticeResult> {
    p.validate()?;
    let size = p.size.unwrap_or_else(|| p.lattice.default_size());
    let cell = Supercell::new(p.lattice, size)?;
    if let Some(t) = &trajectory {
        if t.every == 0 || !(t.nn_distance > 0.0 && t.nn_distance.is_finite()) {
            return Err(Error::invalid(
                "trajectory: frame interval and nearest-neighbour distance must be positive",
            ));
        }
    }
    let z = cell.geometry.coordination();
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let vacancy0 = rng.random_range(0..cell.len());
    let mut walk = Walk::new(&cell, p.window, vacancy0);
    let per_block = p.hops / p.blocks as u64;
    let hops = per_block * p.blocks as u64;
    let mut time = 0.0;
    let mut blocks = Vec::with_capacity(p.blocks);
    let (mut wall, mut cpu) = (0.0, 0.0);
    let mut done = 0u64;
    if let Some(t) = trajectory.as_mut() {
        t.writer.write_frame(
            0,
            0.0,
            &cell.frame_box(t.nn_distance),
            &walk.positions(t.nn_distance, vacancy0),
        )?;
    }
    for _ in 0..p.blocks {
        let mut sums = BlockSums {
            counted: 0,
            reversals: 0,
            lag: vec![0; p.window],
        };
        let mut left = per_block;
        while left > 0 {
            // Stop at the next frame, if any, so that its positions are written on time.
            let chunk = match &trajectory {
                Some(t) => left.min(t.every - done % t.every),
                None => left,
            };
            let (start, cpu0) = (Instant::now(), thread_cpu_seconds());
            walk.run(chunk, &mut rng, &mut sums);
            let dt = start.elapsed().as_secs_f64();
            wall += dt;
            // schedstat advances at scheduler ticks: a chunk shorter than a tick may read 0.
            cpu += match (cpu0, thread_cpu_seconds()) {
                (Some(a), Some(b)) if b > a => b - a,
                _ => dt,
            };
            time += gamma_time(chunk, z, &mut rng);
            done += chunk;
            left -= chunk;
            if let Some(t) = trajectory.as_mut() {
                if done % t.every == 0 {
                    let pos = walk.positions(t.nn_distance, vacancy0);
                    t.writer.write_frame(done, time, &cell.frame_box(t.nn_distance), &pos)?;
                }
            }
        }
        blocks.push(sums);
    }
    Ok(summarize(p, &cell, &walk, blocks, hops, time, (wall, cpu)))
}

/// Time (units of 1/Γ) taken by `n` jumps at total rate Z: the sum of n exponential residence
/// times, drawn at once from its Gamma(n, 1/Z) law.
fn gamma_time(n: u64, z: usize, rng: &mut ChaCha8Rng) -> f64 {
    Gamma::new(n as f64, 1.0 / z as f64)
        .expect("positive shape and scale")
        .sample(rng)
}

fn summarize(
    p: &LatticeParams,
    cell: &Supercell,
    walk: &Walk<'_>,
    blocks: Vec<BlockSums>,
    hops: u64,
    time: f64,
    (wall, cpu): (f64, f64),
) -> LatticeResult {
    let g = &cell.geometry;
    let nn2 = g.nn2 as f64;
    let l = p.window;
    // Block vectors: [counted, reversals, lag_1 .. lag_L].
    let rows: Vec<Vec<f64>> = blocks
        .iter()
        .map(|b| {
            let mut v = vec![b.counted as f64, b.reversals as f64];
            v.extend(b.lag.iter().map(|&x| x as f64));
            v
        })
        .collect();
    let f_of = |t: &[f64]| 1.0 + 2.0 * t[2..].iter().sum::<f64>() / (nn2 * t[0]);
    let cos_of = |t: &[f64]| t[2] / (nn2 * t[0]);
    let (f, f_err) = jackknife(&rows, f_of);
    let (f_cos, f_cos_err) = jackknife(&rows, |t| {
        let c = cos_of(t);
        (1.0 + c) / (1.0 - c)
    });
    let (reverse_fraction, reverse_fraction_err) = jackknife(&rows, |t| t[1] / t[0]);
    let counted: u64 = blocks.iter().map(|b| b.counted).sum();
    let totals: Vec<f64> = (0..l).map(|m| blocks.iter().map(|b| b.lag[m] as f64).sum()).collect();
    let lag_correlations = totals.iter().map(|x| x / (nn2 * counted as f64)).collect();
    // Whole-run mean squared displacement over atoms, with a delta-method error that treats
    // atoms as independent samples of R^2.
    let n_total = hops as f64;
    let x: Vec<(f64, f64)> = (0..cell.len())
        .map(|a| {
            (
                g.dot(walk.atoms[a].disp, walk.atoms[a].disp) as f64 / nn2,
                walk.atoms[a].hops as f64,
            )
        })
        .collect();
    let f_msd = x.iter().map(|(r2, _)| r2).sum::<f64>() / n_total;
    let f_msd_err = x.iter().map(|(r2, n)| (r2 - f_msd * n).powi(2)).sum::<f64>().sqrt() / n_total;
    let f_exact = p.lattice.exact_f();
    LatticeResult {
        lattice: p.lattice,
        dimension: g.dimension,
        coordination: g.coordination(),
        size: cell.size,
        sites: cell.len(),
        hops,
        blocks: p.blocks,
        window: l,
        seed: p.seed,
        f,
        f_err,
        f_exact,
        deviation_sigma: (f - f_exact) / f_err,
        lag_correlations,
        cos_theta: totals[0] / (nn2 * counted as f64),
        f_cos,
        f_cos_err,
        reverse_fraction,
        reverse_fraction_err,
        counted_hops: counted,
        f_msd,
        f_msd_err,
        time,
        wall_seconds: wall,
        cpu_seconds: cpu,
        hops_per_second: hops as f64 / cpu,
        hops_per_wall_second: hops as f64 / wall,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_lists_the_nearest_neighbours() {
        // In a supercell, each listed neighbour is at the nearest-neighbour distance and no
        // other site is closer; neighbour relations are symmetric.
        for lat in Lattice::ALL {
            let cell = Supercell::new(lat, 4).unwrap();
            let g = &cell.geometry;
            let ext: [i32; 3] = [0, 1, 2].map(|d| cell.size[d] as i32 * g.cell[d]);
            let min_image = |v: [i32; 3]| -> [i32; 3] {
                [0, 1, 2].map(|d| {
                    let m = v[d].rem_euclid(ext[d]);
                    if 2 * m > ext[d] {
                        m - ext[d]
                    } else {
                        m
                    }
                })
            };
            for s in [0, 1, cell.len() / 2, cell.len() - 1] {
                let p = cell.sites[s];
                let nearest = (0..cell.len())
                    .filter(|&t| t != s)
                    .map(|t| {
                        let v = cell.sites[t];
                        g.dot(
                            min_image([v[0] - p[0], v[1] - p[1], v[2] - p[2]]),
                            min_image([v[0] - p[0], v[1] - p[1], v[2] - p[2]]),
                        )
                    })
                    .min()
                    .unwrap();
                assert_eq!(nearest, g.nn2, "{lat}");
                for k in 0..g.coordination() {
                    let (n, d) = cell.neighbour(s, k);
                    assert_eq!(g.dot(cell.directions[d], cell.directions[d]), g.nn2, "{lat}");
                    assert!((0..g.coordination()).any(|j| cell.neighbour(n, j).0 == s), "{lat}");
                }
            }
        }
    }

    #[test]
    fn unknown_lattice_is_a_clear_error() {
        let e = "hcp".parse::<Lattice>().unwrap_err().to_string();
        assert!(e.contains("unknown lattice 'hcp'") && e.contains("honeycomb"), "{e}");
        assert_eq!("FCC".parse::<Lattice>().unwrap(), Lattice::Fcc);
    }

    #[test]
    fn too_small_supercell_is_rejected() {
        assert!(Supercell::new(Lattice::Sc, 1).is_err());
        let e = Supercell::new(Lattice::Sc, 2).unwrap_err().to_string();
        assert!(e.contains("too small"), "{e}");
    }

    fn quick(lattice: Lattice, size: usize, hops: u64, seed: u64) -> LatticeResult {
        let p = LatticeParams {
            size: Some(size),
            hops,
            seed,
            ..LatticeParams::new(lattice)
        };
        run_lattice(&p, None).unwrap()
    }

    #[test]
    fn same_seed_same_result() {
        let a = quick(Lattice::Bcc, 6, 50_000, 3);
        let b = quick(Lattice::Bcc, 6, 50_000, 3);
        assert_eq!((a.f, a.f_msd, a.time), (b.f, b.f_msd, b.time));
        assert_ne!(a.f, quick(Lattice::Bcc, 6, 50_000, 4).f);
    }

    #[test]
    fn every_lattice_matches_its_exact_f() {
        // 1.5e6 jumps per lattice in a small box: f within 4 sigma of the exact value, the
        // reversal probability within 4 sigma of 2/Z, and f_msd in agreement.
        for lat in Lattice::ALL {
            let size = match lat.geometry().dimension {
                3 => 8,
                _ => 40,
            };
            let r = quick(lat, size, 1_500_000, 7);
            assert!(
                r.deviation_sigma.abs() < 4.0,
                "{lat}: f = {} ± {} vs {}",
                r.f,
                r.f_err,
                r.f_exact
            );
            assert!(r.f_err < 0.01, "{lat}: f_err {}", r.f_err);
            let z = r.coordination as f64;
            assert!(
                (r.reverse_fraction - 2.0 / z).abs() < 4.0 * r.reverse_fraction_err,
                "{lat}: reverse fraction {} ± {}",
                r.reverse_fraction,
                r.reverse_fraction_err
            );
            assert!(
                (r.f_msd - r.f_exact).abs() < 4.0 * r.f_msd_err,
                "{lat}: f_msd {} ± {}",
                r.f_msd,
                r.f_msd_err
            );
        }
    }

    /// The acceptance run: default length for every lattice (about a minute in the dev profile).
    /// Run with `cargo test --release --lib kmc::lattice -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn default_runs_match_exact_values() {
        for lat in Lattice::ALL {
            let r = run_lattice(&LatticeParams::new(lat), None).unwrap();
            println!(
                "{lat:11} f = {:.5} ± {:.5} (exact {:.5}, {:+.2} sigma)  f_cos = {:.5} ± {:.5}  f_msd = {:.4} ± {:.4}  rev = {:.5}  {:.3e} hops/s",
                r.f, r.f_err, r.f_exact, r.deviation_sigma, r.f_cos, r.f_cos_err, r.f_msd, r.f_msd_err, r.reverse_fraction, r.hops_per_second
            );
            assert!(r.deviation_sigma.abs() < 3.0, "{lat}");
            if r.dimension == 3 {
                assert!(2.0 * r.f_err < 0.002, "{lat}: 2 sigma = {}", 2.0 * r.f_err);
            }
        }
    }
}
