//! What-if studies of barrier asymmetry against correlation (2026 paper, Eq. 1).
//!
//! Independent walkers, each with one tracer, run the residence-time algorithm on a quenched
//! [`Landscape`] with rates `k = ν exp(-E_fw / k_B T)`. After a burn-in, over `hops` further hops,
//! displacements are taken over stretches of N/8 hops from every time origin N/64 apart:
//!
//! * D = <|ΔR|^2> / (6 Δt) from the tracer's unwrapped displacement (Einstein relation);
//! * D_RW from the same hop sequence with each hop turned in a uniformly random direction
//!   (the 2026 paper's definition). Its mean over randomisations is exactly
//!   `<sum_k l_k^2> / (6 Δt)`, used as D_RW; one explicit randomisation per walker is reported
//!   beside it (`d_rw_randomised`) as a check of that identity;
//! * f = D / D_RW = <|ΔR|^2> / <sum_k l_k^2>.
//!
//! Sums run over walkers and origins (ratio estimators); errors are delete-one jackknife errors
//! over walkers, which are independent. The same ratio over N/64 ... N hops is recorded to show
//! whether the back-and-forth correlations have died out within N/8 hops (`converged`).
//! Arrhenius fits over temperature give E_D = E_RW + E_f. Every walker's streams derive from
//! (seed, walker index) alone, so results do not depend on the thread count; the same walkers
//! start from the same basins at every temperature and asymmetry level.

use super::engine::{open_unit, Kmc, Process};
use super::harvest::{barrier_pairs, HarvestSummary};
use super::landscape::{hash, uniform, BarrierSource, Basin, Dial, Exit, Landscape, LinkStatistics};
use super::lattice::Lattice;
use super::stats::{arrhenius, jackknife, ArrheniusFit};
use super::trajectory::{FrameBox, TrajectoryWriter};
use crate::provenance::Provenance;
use crate::units::KB;
use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How the walkers are run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalkerParams {
    /// Independent walkers (tracers), at least 2.
    pub walkers: usize,
    /// Hops per walker measured after the burn-in (rounded down to a multiple of 64), at
    /// least 64.
    pub hops: u64,
    /// Hops per walker discarded first, to leave the random starting basin.
    pub burn_in: u64,
    /// Attempt frequency ν, 1/ps (10 /ps = 1e13 /s).
    pub attempt_frequency: f64,
    pub seed: u64,
}

impl WalkerParams {
    fn validate(&self) -> Result<()> {
        if self.walkers < 2 {
            return Err(Error::invalid(format!("walkers {} must be at least 2", self.walkers)));
        }
        if self.hops < SEGMENTS {
            return Err(Error::invalid(format!(
                "hops {} per walker must be at least {SEGMENTS}",
                self.hops
            )));
        }
        if !(self.attempt_frequency > 0.0 && self.attempt_frequency.is_finite()) {
            return Err(Error::invalid(format!(
                "attempt frequency {} /ps must be positive",
                self.attempt_frequency
            )));
        }
        Ok(())
    }
}

/// Checks temperatures: at least one, each positive and finite.
pub fn validate_temperatures(ts: &[f64]) -> Result<()> {
    if ts.is_empty() {
        return Err(Error::invalid("no temperatures given"));
    }
    for &t in ts {
        if !(t > 0.0 && t.is_finite()) {
            return Err(Error::invalid(format!("temperature {t} K must be positive")));
        }
    }
    Ok(())
}

/// Exits and rates of recently visited basins, direct-mapped by basin: a walker that hops
/// back and forth between a few basins computes their exits once. The entries are pure
/// functions of the basin, so the cache changes speed only, never results.
struct ExitCache {
    keys: Vec<Option<Basin>>,
    exits: Vec<Exit>,
    rates: Vec<f64>,
    z: usize,
}

impl ExitCache {
    const SLOTS: usize = 256;

    fn new(z: usize) -> Self {
        let blank = Exit {
            to: [0; 3],
            e_fw: 0.0,
            e_rev: 0.0,
            hop: [0.0; 3],
            raised: false,
        };
        ExitCache {
            keys: vec![None; Self::SLOTS],
            exits: vec![blank; Self::SLOTS * z],
            rates: vec![0.0; Self::SLOTS * z],
            z,
        }
    }

    /// The slot holding basin `b`, filled first if needed.
    fn slot(&mut self, b: Basin, landscape: &Landscape, beta: f64, nu: f64, scratch: &mut Vec<Exit>) -> usize {
        let h = (b[0] as u32).wrapping_mul(0x9E37_79B1)
            ^ (b[1] as u32).wrapping_mul(0x85EB_CA77)
            ^ (b[2] as u32).wrapping_mul(0xC2B2_AE3D);
        let slot = (h >> 24) as usize % Self::SLOTS;
        if self.keys[slot] != Some(b) {
            landscape.exits(b, scratch);
            let range = slot * self.z..(slot + 1) * self.z;
            self.exits[range.clone()].copy_from_slice(scratch);
            for (r, e) in self.rates[range].iter_mut().zip(scratch.iter()) {
                *r = nu * (-beta * e.e_fw).exp();
            }
            self.keys[slot] = Some(b);
        }
        slot
    }
}

/// A walker on a landscape: the [`Process`] of the residence-time algorithm.
struct Walker<'a> {
    landscape: &'a Landscape,
    basin: Basin,
    previous: Option<Basin>,
    beta: f64,
    nu: f64,
    cache: ExitCache,
    slot: usize,
    scratch: Vec<Exit>,
    /// Hops back into the basin the walker just came from.
    reversals: u64,
    /// Sum of the forward barriers crossed, eV.
    barrier_sum: f64,
}

impl<'a> Walker<'a> {
    fn new(landscape: &'a Landscape, start: Basin, temperature: f64, nu: f64) -> Self {
        Walker {
            landscape,
            basin: start,
            previous: None,
            beta: 1.0 / (KB * temperature),
            nu,
            cache: ExitCache::new(landscape.coordination()),
            slot: 0,
            scratch: Vec::with_capacity(landscape.coordination()),
            reversals: 0,
            barrier_sum: 0.0,
        }
    }
}

impl Process for Walker<'_> {
    fn rates(&mut self, rates: &mut Vec<f64>) {
        self.slot = self
            .cache
            .slot(self.basin, self.landscape, self.beta, self.nu, &mut self.scratch);
        let z = self.cache.z;
        rates.clear();
        rates.extend_from_slice(&self.cache.rates[self.slot * z..(self.slot + 1) * z]);
    }

    fn take(&mut self, j: usize) -> [f64; 3] {
        let e = self.cache.exits[self.slot * self.cache.z + j];
        self.reversals += (self.previous == Some(e.to)) as u64;
        self.barrier_sum += e.e_fw;
        self.previous = Some(self.basin);
        self.basin = e.to;
        e.hop
    }
}

/// The measured hops of a walker are cut into this many equal segments; displacements are
/// taken between all pairs of segment ends `lag` segments apart (lags 1, 2, 4, ..., 64).
pub const SEGMENTS: u64 = 64;
/// Lag, in segments, of the reported estimates: N/8 hops, 57 time origins per walker.
const PRIMARY_LAG: usize = 8;

/// Per-lag sums of one walker: R^2, sum l^2, randomised R^2, time, summed over origins.
const R2: usize = 0;
const L2: usize = 1;
const RW2: usize = 2;
const TIME: usize = 3;

/// What one walker measured.
struct WalkerOutcome {
    /// Per lag (1, 2, 4, ... segments): sums over all origins of R^2, sum l^2, randomised
    /// R^2 and elapsed time.
    lags: Vec<Vec<f64>>,
    /// Over the whole measurement: hops, reversals, crossed-barrier sum, time.
    hops: f64,
    reversals: f64,
    barrier_sum: f64,
    time: f64,
    /// Unwrapped positions at the frame times.
    frames: Vec<[f64; 3]>,
}

/// Tracer state at a segment end.
#[derive(Clone, Copy)]
struct Snapshot {
    r: [f64; 3],
    rw: [f64; 3],
    l2: f64,
    t: f64,
}

fn lags() -> impl Iterator<Item = usize> {
    (0..).map(|j| 1usize << j).take_while(|&l| l as u64 <= SEGMENTS)
}

fn run_walker(
    landscape: &Landscape,
    temperature: f64,
    p: &WalkerParams,
    w: usize,
    frame_interval: Option<f64>,
) -> Result<WalkerOutcome> {
    let seed = hash(&[p.seed, 0x3A1C, w as u64]);
    let u = |k: u64| uniform(hash(&[seed, k]));
    let start = landscape.basin_at([u(0), u(1), u(2), u(3)]);
    let walker = Walker::new(landscape, start, temperature, p.attempt_frequency);
    let mut kmc = Kmc::new(walker, hash(&[seed, 0xD1CE]));
    let mut rw_rng = ChaCha8Rng::seed_from_u64(hash(&[seed, 0x4A4D]));
    for _ in 0..p.burn_in {
        kmc.step()?;
    }
    let (t0, tracer0) = (kmc.time, kmc.tracer);
    let (rev0, bar0) = (kmc.process.reversals, kmc.process.barrier_sum);
    let origin = landscape.nominal_position(start);
    let mut position = [0, 1, 2].map(|d| origin[d] + tracer0.displacement[d]);
    let mut snap = Snapshot {
        r: [0.0; 3],
        rw: [0.0; 3],
        l2: 0.0,
        t: 0.0,
    };
    let segment = p.hops / SEGMENTS;
    let mut snaps = Vec::with_capacity(SEGMENTS as usize + 1);
    snaps.push(snap);
    let mut frames = Vec::new();
    let mut next_frame = t0;
    for n in 1..=segment * SEGMENTS {
        let t_before = kmc.time;
        let s = kmc.step()?;
        if let Some(dt) = frame_interval {
            // Frames falling within this residence show the position before the hop.
            while next_frame < t_before + s.dt {
                frames.push(position);
                next_frame = t0 + dt * frames.len() as f64;
            }
        }
        let l2 = s.hop[0] * s.hop[0] + s.hop[1] * s.hop[1] + s.hop[2] * s.hop[2];
        let z = 2.0 * rw_rng.random::<f64>() - 1.0;
        let phi = 2.0 * std::f64::consts::PI * open_unit(&mut rw_rng);
        let rho = (1.0 - z * z).max(0.0).sqrt();
        let dir = [rho * phi.cos(), rho * phi.sin(), z];
        for d in 0..3 {
            snap.r[d] += s.hop[d];
            snap.rw[d] += l2.sqrt() * dir[d];
            position[d] += s.hop[d];
        }
        snap.l2 += l2;
        snap.t += s.dt;
        if n % segment == 0 {
            snaps.push(snap);
        }
    }
    let dist2 = |a: [f64; 3], b: [f64; 3]| (0..3).map(|d| (a[d] - b[d]).powi(2)).sum::<f64>();
    let lag_sums = lags()
        .map(|lag| {
            let mut v = vec![0.0; 4];
            for (a, b) in snaps.iter().zip(&snaps[lag..]) {
                v[R2] += dist2(b.r, a.r);
                v[L2] += b.l2 - a.l2;
                v[RW2] += dist2(b.rw, a.rw);
                v[TIME] += b.t - a.t;
            }
            v
        })
        .collect();
    Ok(WalkerOutcome {
        lags: lag_sums,
        hops: (kmc.tracer.hops - tracer0.hops) as f64,
        reversals: (kmc.process.reversals - rev0) as f64,
        barrier_sum: kmc.process.barrier_sum - bar0,
        time: kmc.time - t0,
        frames,
    })
}

/// f from displacements over a given number of hops.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub hops: u64,
    pub f: f64,
    pub f_err: f64,
}

/// Diffusion at one temperature. D in Å^2/ps, times in ps, energies in eV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemperaturePoint {
    pub temperature: f64,
    /// Hops over which displacements are taken for the estimates below (N/8), averaged over
    /// all time origins spaced N/64 apart.
    pub lag_hops: u64,
    pub d: f64,
    pub d_err: f64,
    pub d_rw: f64,
    pub d_rw_err: f64,
    pub f: f64,
    pub f_err: f64,
    /// D_RW from one explicit randomisation of every walker's hops.
    pub d_rw_randomised: f64,
    pub d_rw_randomised_err: f64,
    /// Hops per ps per walker, and the measured time per walker, ps.
    pub hop_rate: f64,
    pub time_per_walker: f64,
    /// Fraction of hops straight back into the previous basin.
    pub reversal_fraction: f64,
    /// Mean forward barrier of the hops taken, eV.
    pub mean_crossed_barrier: f64,
    /// f from displacements over N/64, N/32, ..., N hops: it falls towards its limit as the
    /// back-and-forth hops cancel, and should be flat near `lag_hops`.
    pub convergence: Vec<Checkpoint>,
    /// Whether f over N/8 and N/4 hops agree within three (combined) errors.
    pub converged: bool,
}

/// Runs the walkers at one temperature. With `frame_interval` (ps), also returns each
/// walker's unwrapped positions at t0, t0 + Δ, ... during the measurement (walker-major).
pub fn simulate_temperature(
    landscape: &Landscape,
    temperature: f64,
    p: &WalkerParams,
    frame_interval: Option<f64>,
) -> Result<(TemperaturePoint, Vec<Vec<[f64; 3]>>)> {
    p.validate()?;
    validate_temperatures(&[temperature])?;
    if let Some(dt) = frame_interval {
        if !(dt > 0.0 && dt.is_finite()) {
            return Err(Error::invalid(format!("frame interval {dt} ps must be positive")));
        }
    }
    let outcomes = (0..p.walkers)
        .into_par_iter()
        .map(|w| run_walker(landscape, temperature, p, w, frame_interval))
        .collect::<Result<Vec<_>>>()?;
    let segment = p.hops / SEGMENTS;
    let rows_at = |k: usize| outcomes.iter().map(|o| o.lags[k].clone()).collect::<Vec<_>>();
    let convergence: Vec<Checkpoint> = lags()
        .enumerate()
        .map(|(k, lag)| {
            let (f, f_err) = jackknife(&rows_at(k), |t| t[R2] / t[L2]);
            Checkpoint {
                hops: lag as u64 * segment,
                f,
                f_err,
            }
        })
        .collect();
    let k = PRIMARY_LAG.trailing_zeros() as usize;
    let rows = rows_at(k);
    let (d, d_err) = jackknife(&rows, |t| t[R2] / (6.0 * t[TIME]));
    let (d_rw, d_rw_err) = jackknife(&rows, |t| t[L2] / (6.0 * t[TIME]));
    let (f, f_err) = jackknife(&rows, |t| t[R2] / t[L2]);
    let (d_rw_randomised, d_rw_randomised_err) = jackknife(&rows, |t| t[RW2] / (6.0 * t[TIME]));
    let total = |g: fn(&WalkerOutcome) -> f64| outcomes.iter().map(g).sum::<f64>();
    let next = convergence[k + 1];
    let point = TemperaturePoint {
        temperature,
        lag_hops: PRIMARY_LAG as u64 * segment,
        d,
        d_err,
        d_rw,
        d_rw_err,
        f,
        f_err,
        d_rw_randomised,
        d_rw_randomised_err,
        hop_rate: total(|o| o.hops) / total(|o| o.time),
        time_per_walker: total(|o| o.time) / p.walkers as f64,
        reversal_fraction: total(|o| o.reversals) / total(|o| o.hops),
        mean_crossed_barrier: total(|o| o.barrier_sum) / total(|o| o.hops),
        converged: (next.f - f).abs() <= 3.0 * (f_err.powi(2) + next.f_err.powi(2)).sqrt(),
        convergence,
    };
    let frames = outcomes.into_iter().map(|o| o.frames).collect();
    Ok((point, frames))
}

/// Arrhenius fits of D, D_RW and f over the temperatures of a scan (E_D = E_RW + E_f).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fits {
    pub d: ArrheniusFit,
    pub d_rw: ArrheniusFit,
    pub f: ArrheniusFit,
}

/// D, D_RW and f over temperature on one landscape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scan {
    pub points: Vec<TemperaturePoint>,
    /// Present with two or more temperatures.
    pub fits: Option<Fits>,
}

/// Runs every temperature and fits the Arrhenius laws.
pub fn scan(landscape: &Landscape, temperatures: &[f64], p: &WalkerParams) -> Result<Scan> {
    validate_temperatures(temperatures)?;
    let points = temperatures
        .iter()
        .map(|&t| simulate_temperature(landscape, t, p, None).map(|r| r.0))
        .collect::<Result<Vec<_>>>()?;
    let fits = if points.len() >= 2 { Some(fit(&points)?) } else { None };
    Ok(Scan { points, fits })
}

fn fit(points: &[TemperaturePoint]) -> Result<Fits> {
    let ts: Vec<f64> = points.iter().map(|p| p.temperature).collect();
    let col = |f: fn(&TemperaturePoint) -> f64| points.iter().map(f).collect::<Vec<f64>>();
    Ok(Fits {
        d: arrhenius(&ts, &col(|p| p.d), &col(|p| p.d_err))?,
        d_rw: arrhenius(&ts, &col(|p| p.d_rw), &col(|p| p.d_rw_err))?,
        f: arrhenius(&ts, &col(|p| p.f), &col(|p| p.f_err))?,
    })
}

/// Parametric barriers of a what-if run: one landscape per asymmetry level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParametricConfig {
    /// Mean and standard deviation of the forward barriers over the landscape's links, eV.
    pub fw_mean: f64,
    pub fw_sd: f64,
    /// Hop length, Å.
    pub hop_length: f64,
    /// Asymmetry levels a in [0, 1].
    pub asymmetry: Vec<f64>,
    /// What the dial holds fixed: `fixed_forward` (default) or `fixed_saddle`.
    #[serde(default)]
    pub dial: Dial,
}

impl ParametricConfig {
    /// The barrier source at asymmetry level `a`.
    pub fn source(&self, a: f64) -> BarrierSource {
        BarrierSource::Parametric {
            fw_mean: self.fw_mean,
            fw_sd: self.fw_sd,
            asymmetry: a,
            dial: self.dial,
            hop_length: self.hop_length,
        }
    }
}

/// Barriers harvested in a catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    pub path: PathBuf,
    /// Keep events with max displacement at least this, Å (the paper's threshold d = 1 Å).
    #[serde(default = "default_min_displacement")]
    pub min_displacement: f64,
    /// Keep only events that passed the saddle checks.
    #[serde(default = "default_true")]
    pub verified_only: bool,
}

fn default_min_displacement() -> f64 {
    1.0
}
fn default_true() -> bool {
    true
}

/// A what-if run: the form of `configs/kmc-whatif.toml`; exactly one of `parametric` and
/// `catalog` is given, unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatifConfig {
    /// Temperatures, K.
    pub temperatures: Vec<f64>,
    pub walkers: usize,
    pub hops: u64,
    pub burn_in: u64,
    /// ν, 1/ps.
    pub attempt_frequency: f64,
    /// Lattice of basins: fcc, bcc or sc.
    pub network: Lattice,
    /// Least height of a saddle above either basin, eV.
    pub min_barrier: f64,
    pub seed: u64,
    pub parametric: Option<ParametricConfig>,
    pub catalog: Option<CatalogConfig>,
}

impl Default for WhatifConfig {
    /// The shipped `configs/kmc-whatif.toml`.
    fn default() -> Self {
        WhatifConfig {
            temperatures: vec![600.0, 650.0, 700.0, 750.0, 800.0],
            walkers: 128,
            hops: 32_768,
            burn_in: 8192,
            attempt_frequency: 10.0,
            network: Lattice::Fcc,
            min_barrier: 0.01,
            seed: 1,
            parametric: Some(ParametricConfig {
                fw_mean: 0.6,
                fw_sd: 0.1,
                hop_length: 1.5,
                asymmetry: vec![0.0, 0.25, 0.5, 0.75, 1.0],
                dial: Dial::FixedForward,
            }),
            catalog: None,
        }
    }
}

impl WhatifConfig {
    fn walker_params(&self) -> WalkerParams {
        WalkerParams {
            walkers: self.walkers,
            hops: self.hops,
            burn_in: self.burn_in,
            attempt_frequency: self.attempt_frequency,
            seed: self.seed,
        }
    }

    /// Trajectory output needs exactly one asymmetry level (or the catalog) and one temperature.
    pub fn validate_trajectory(&self) -> Result<()> {
        let levels = self.parametric.as_ref().map_or(1, |p| p.asymmetry.len());
        if levels != 1 || self.temperatures.len() != 1 {
            return Err(Error::invalid(
                "trajectory output needs exactly one asymmetry level and one temperature",
            ));
        }
        Ok(())
    }

    /// Checks everything before any physics runs.
    pub fn validate(&self) -> Result<()> {
        validate_temperatures(&self.temperatures)?;
        self.walker_params().validate()?;
        match (&self.parametric, &self.catalog) {
            (Some(p), None) => {
                if p.asymmetry.is_empty() {
                    return Err(Error::invalid("no asymmetry levels given"));
                }
                for &a in &p.asymmetry {
                    Landscape::new(&p.source(a), self.network, self.min_barrier, self.seed)?;
                }
                Ok(())
            }
            (None, Some(_)) => Ok(()),
            _ => Err(Error::invalid(
                "give exactly one barrier source: [parametric] or [catalog]",
            )),
        }
    }
}

/// Results at one asymmetry level (or for the catalog).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Level {
    /// The dial a (parametric source only).
    pub asymmetry: Option<f64>,
    /// An unbiased harvest of 20,000 random links of this landscape.
    pub links: LinkStatistics,
    #[serde(flatten)]
    pub scan: Scan,
}

/// E_f at one asymmetry level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AsymmetryPoint {
    pub asymmetry: f64,
    pub e_f: f64,
    pub e_f_err: f64,
    pub e_d: f64,
    pub e_rw: f64,
}

/// Version tag of the `pelx kmc whatif` output (`schemas/kmc-whatif.schema.json`).
pub const WHATIF_SCHEMA: &str = "pelx.kmc.whatif/1";

/// The JSON document `pelx kmc whatif` prints.
#[derive(Debug, Clone, Serialize)]
pub struct WhatifReport {
    pub schema: &'static str,
    pub pelx_version: &'static str,
    pub config: WhatifConfig,
    /// "parametric" or "catalog".
    pub source: &'static str,
    /// The catalog's events and the filters applied (catalog source only).
    pub harvest: Option<HarvestSummary>,
    pub levels: Vec<Level>,
    /// E_f (and E_D, E_RW) against the asymmetry dial, when there are Arrhenius fits.
    pub e_f_vs_asymmetry: Vec<AsymmetryPoint>,
    /// pelx version, command line and the catalog's SHA-256 (if any).
    pub provenance: Provenance,
}

/// Trajectory request of a what-if run (one level, one temperature).
pub struct WhatifTrajectory<'a> {
    pub writer: &'a mut TrajectoryWriter,
    /// Simulated time between frames, ps.
    pub interval: f64,
}

/// Runs a what-if study. A trajectory needs exactly one asymmetry level and one temperature;
/// it holds every walker as one atom, from the end of the burn-in until the first walker ends.
pub fn run_whatif(config: &WhatifConfig, mut trajectory: Option<WhatifTrajectory<'_>>) -> Result<WhatifReport> {
    config.validate()?;
    let p = config.walker_params();
    let (sources, harvest, source): (Vec<(Option<f64>, BarrierSource)>, _, _) =
        match (&config.parametric, &config.catalog) {
            (Some(par), _) => (
                par.asymmetry.iter().map(|&a| (Some(a), par.source(a))).collect(),
                None,
                "parametric",
            ),
            (None, Some(cat)) => {
                let (pairs, summary) = barrier_pairs(&cat.path, cat.min_displacement, cat.verified_only)?;
                (vec![(None, BarrierSource::Samples(pairs))], Some(summary), "catalog")
            }
            (None, None) => unreachable!("validated"),
        };
    if trajectory.is_some() {
        config.validate_trajectory()?;
    }

    let mut levels = Vec::with_capacity(sources.len());
    for (asymmetry, src) in &sources {
        let landscape = Landscape::new(src, config.network, config.min_barrier, config.seed)?;
        let links = landscape.link_statistics(20_000, config.seed);
        let scan = match trajectory.as_mut() {
            None => scan(&landscape, &config.temperatures, &p)?,
            Some(t) => {
                let (point, frames) = simulate_temperature(&landscape, config.temperatures[0], &p, Some(t.interval))?;
                write_frames(t.writer, &frames, t.interval)?;
                Scan {
                    points: vec![point],
                    fits: None,
                }
            }
        };
        tracing::info!(asymmetry = ?asymmetry, "what-if level done");
        levels.push(Level {
            asymmetry: *asymmetry,
            links,
            scan,
        });
    }
    let e_f_vs_asymmetry = levels
        .iter()
        .filter_map(|l| {
            let (a, fits) = (l.asymmetry?, l.scan.fits?);
            Some(AsymmetryPoint {
                asymmetry: a,
                e_f: fits.f.energy,
                e_f_err: fits.f.energy_err,
                e_d: fits.d.energy,
                e_rw: fits.d_rw.energy,
            })
        })
        .collect();
    let inputs: Vec<&std::path::Path> = config.catalog.iter().map(|c| c.path.as_path()).collect();
    Ok(WhatifReport {
        schema: WHATIF_SCHEMA,
        pelx_version: crate::provenance::VERSION,
        config: config.clone(),
        source,
        harvest,
        levels,
        e_f_vs_asymmetry,
        provenance: Provenance::new(&inputs)?,
    })
}

/// Writes walker-major frame lists as a trajectory, up to the shortest walker.
fn write_frames(writer: &mut TrajectoryWriter, frames: &[Vec<[f64; 3]>], interval: f64) -> Result<()> {
    let n = frames.iter().map(Vec::len).min().unwrap_or(0);
    for k in 0..n {
        let pos: Vec<[f64; 3]> = frames.iter().map(|f| f[k]).collect();
        writer.write_frame(k as u64, k as f64 * interval, &FrameBox::around(&pos, 1.0), &pos)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn landscape(a: f64, sd: f64) -> Landscape {
        landscape_dial(a, sd, Dial::FixedForward)
    }

    fn landscape_dial(a: f64, sd: f64, dial: Dial) -> Landscape {
        let src = BarrierSource::Parametric {
            fw_mean: 0.6,
            fw_sd: sd,
            asymmetry: a,
            dial,
            hop_length: 1.5,
        };
        Landscape::new(&src, Lattice::Fcc, 0.0, 9).unwrap()
    }

    fn params(walkers: usize, hops: u64) -> WalkerParams {
        WalkerParams {
            walkers,
            hops,
            burn_in: hops / 5,
            attempt_frequency: 10.0,
            seed: 4,
        }
    }

    #[test]
    fn no_disorder_gives_f_one_and_the_simple_random_walk_d() {
        // Equal barriers everywhere: D = D_RW = Z k l^2 / 6 with k = ν exp(-0.6 eV / k_B T).
        let l = landscape(0.0, 0.0);
        let (pt, _) = simulate_temperature(&l, 700.0, &params(64, 2000), None).unwrap();
        assert!((pt.f - 1.0).abs() < 4.0 * pt.f_err, "f = {} ± {}", pt.f, pt.f_err);
        let k = 10.0 * (-0.6 / (KB * 700.0)).exp();
        let d_exact = 12.0 * k * 1.5 * 1.5 / 6.0;
        assert!(
            (pt.d_rw - d_exact).abs() < 4.0 * pt.d_rw_err,
            "{} vs {d_exact}",
            pt.d_rw
        );
        assert!((pt.d_rw_randomised - pt.d_rw).abs() < 4.0 * pt.d_rw_randomised_err);
        // A reversal is one exit in 12.
        assert!((pt.reversal_fraction - 1.0 / 12.0).abs() < 0.01);
    }

    /// Equilibrium hop rate of the parametric landscape: with Boltzmann weights on basins,
    /// `Γ = Z ν <exp(-E_s x)>_links / <exp(-E_i x)>_basins = Z ν exp(-μx + σ_B² x²/2 - σ_E² x²/4)`,
    /// x = 1/k_BT, so `D_RW = Γ l² / 6` exactly.
    fn d_rw_exact(sigma_b: f64, sigma_e: f64, t: f64) -> f64 {
        let x = 1.0 / (KB * t);
        let s2 = sigma_b * sigma_b / 2.0 - sigma_e * sigma_e / 4.0;
        12.0 * 10.0 * 1.5 * 1.5 / 6.0 * (-0.6 * x + s2 * x * x).exp()
    }

    #[test]
    fn random_walk_diffusion_matches_the_equilibrium_hop_rate() {
        // Checks the engine, the landscape's statistics and Boltzmann sampling at once: the hop
        // rate rises with saddle disorder and falls with basin disorder (trapping).
        for (a, dial) in [
            (0.0, Dial::FixedForward),
            (1.0, Dial::FixedForward),
            (0.5, Dial::FixedSaddle),
        ] {
            let l = landscape_dial(a, 0.1, dial);
            let (pt, _) = simulate_temperature(&l, 700.0, &params(32, 2048), None).unwrap();
            let sigma_b = if dial == Dial::FixedSaddle {
                0.1
            } else {
                0.1 * (1.0 - a).sqrt()
            };
            let exact = d_rw_exact(sigma_b, l.sigma_basin(), 700.0);
            assert!(
                (pt.d_rw - exact).abs() < 4.0 * pt.d_rw_err,
                "{dial:?} a = {a}: D_RW = {} ± {} vs {exact}",
                pt.d_rw,
                pt.d_rw_err
            );
        }
    }

    #[test]
    fn asymmetry_added_to_saddle_disorder_lowers_f() {
        // Fixed saddle disorder σ_B = 0.1 eV at 700 K: adding basin-energy disorder
        // σ_E = 0.1 eV (a = 0.5) lowers f from about 0.49 to 0.27 (results/kmc).
        let p = params(32, 4096);
        let f = |a: f64| {
            simulate_temperature(&landscape_dial(a, 0.1, Dial::FixedSaddle), 700.0, &p, None)
                .unwrap()
                .0
        };
        let (f0, f1) = (f(0.0), f(0.5));
        assert!(
            f1.f + 4.0 * (f0.f_err.powi(2) + f1.f_err.powi(2)).sqrt() < f0.f,
            "{f1:?} vs {f0:?}"
        );
    }

    /// E_f grows monotonically when asymmetry is added to fixed saddle disorder (results/kmc:
    /// 0.100, 0.151, 0.202 eV at a = 0, 0.5, 1). About a minute in release:
    /// `cargo test --release --lib kmc::whatif -- --ignored`.
    #[test]
    #[ignore]
    fn asymmetry_added_to_saddle_disorder_raises_e_f_monotonically() {
        let p = WalkerParams {
            walkers: 128,
            hops: 16_384,
            burn_in: 4096,
            attempt_frequency: 10.0,
            seed: 4,
        };
        let fits: Vec<ArrheniusFit> = [0.0, 0.5, 1.0]
            .iter()
            .map(|&a| {
                let l = landscape_dial(a, 0.1, Dial::FixedSaddle);
                scan(&l, &[600.0, 700.0, 800.0], &p).unwrap().fits.unwrap().f
            })
            .collect();
        for w in fits.windows(2) {
            let gap = (w[0].energy_err.powi(2) + w[1].energy_err.powi(2)).sqrt();
            assert!(w[1].energy - w[0].energy > 3.0 * gap, "E_f {:?} then {:?}", w[0], w[1]);
        }
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let l = landscape(0.5, 0.1);
        let p = params(8, 200);
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let a = one.install(|| simulate_temperature(&l, 650.0, &p, None).unwrap().0);
        let b = simulate_temperature(&l, 650.0, &p, None).unwrap().0;
        assert_eq!(a, b);
    }

    #[test]
    fn bad_input_is_rejected() {
        let l = landscape(0.5, 0.1);
        assert!(simulate_temperature(&l, 0.0, &params(4, 100), None)
            .unwrap_err()
            .to_string()
            .contains("temperature"));
        assert!(simulate_temperature(&l, -5.0, &params(4, 100), None).is_err());
        assert!(simulate_temperature(&l, 500.0, &params(1, 100), None).is_err());
        let c = WhatifConfig {
            temperatures: vec![600.0, 0.0],
            ..Default::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("must be positive"));
        let c = WhatifConfig {
            catalog: Some(CatalogConfig {
                path: "x".into(),
                min_displacement: 1.0,
                verified_only: true,
            }),
            ..Default::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("exactly one"));
    }
}
