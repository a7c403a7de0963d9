//! Barriers of the rearrangements an MD run actually makes (Annamareddy et al. 2026, Fig. 3):
//! consecutive frames of a trajectory (inherent structures, quenched with the cache of
//! [`crate::diffusion::quench`] when asked), the pairs whose largest minimum-image atomic
//! displacement reaches a threshold, a reproducible sample of them, and a climbing-image NEB
//! ([`crate::saddle::neb`]) on each.
//!
//! - **Intermediate minima.** A pair of frames 1 ps apart may hide several elementary hops.
//!   Every interior image of the band is relaxed; one that relaxes to a minimum different
//!   from both ends (and from the minima already found) splits the path there, and NEB runs
//!   again on each segment (recursively, to [`SplitOptions::max_depth`]). The record keeps the
//!   barrier of the whole path and the elementary barriers of the segments.
//! - **Determinism.** Each pair is an independent task on its own calculators; NEB itself does
//!   not depend on the thread count; records are written in task order through a reorder
//!   buffer. Same seed, same file, whatever the number of threads.
//! - **Resume.** Records are appended and flushed one by one; `--resume` checks the run
//!   record's plan, cuts an unterminated last line and runs only the missing tasks.
//!
//! File: JSON lines, schema `schemas/rearrangements.schema.json` ([`SCHEMA`]); `pelx asym`
//! reads it through [`read_as_catalog`].

use crate::catalog::{sparse_displacements, Catalog, Displacement, Event, Failure, FailureReason, RunRecord};
use crate::diffusion::{for_each_frame, QuenchSpec, QuenchSummary, StreamStats, TrajectoryOptions};
use crate::minimize::{minimize, MinimizeOptions};
use crate::potential::{Calculator, ForceField, Workspace};
use crate::saddle::neb::{neb, NebOptions, NebResult};
use crate::structure::Structure;
use crate::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

#[cfg(test)]
mod tests;

/// Version tag of the rearrangement file.
pub const SCHEMA: &str = "pelx.rearrangements/1";

/// How intermediate minima along a band are found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitOptions {
    /// Relax the interior images and split at intermediate minima.
    pub enabled: bool,
    /// Two minima are the same when no atom is farther apart than this, Å.
    pub distinct_tol: f64,
    /// Levels of splitting (a segment may split again).
    pub max_depth: usize,
}

impl Default for SplitOptions {
    fn default() -> Self {
        SplitOptions {
            enabled: true,
            distinct_tol: 0.1,
            max_depth: 3,
        }
    }
}

/// Everything that decides which pairs are analysed and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RearrangeOptions {
    /// Pairs whose largest atomic displacement is at least this, Å (the paper: 1, 1.5, 2.5).
    pub min_disp: f64,
    /// Atoms displaced by more than this count as moved, Å.
    pub moved_threshold: f64,
    /// Analyse this many pairs drawn without replacement (None: all that pass).
    pub sample: Option<usize>,
    /// Seed of the draw.
    pub seed: u64,
    pub neb: NebOptions,
    pub split: SplitOptions,
}

impl Default for RearrangeOptions {
    fn default() -> Self {
        RearrangeOptions {
            min_disp: 1.0,
            moved_threshold: 0.5,
            sample: None,
            seed: 0,
            neb: NebOptions::default(),
            split: SplitOptions::default(),
        }
    }
}

impl RearrangeOptions {
    /// Checks every option; the message names the offending one.
    pub fn validate(&self) -> Result<()> {
        if !(self.min_disp >= 0.0 && self.min_disp.is_finite()) {
            return Err(Error::invalid(format!(
                "--min-disp must be >= 0 Å, got {}",
                self.min_disp
            )));
        }
        if !(self.moved_threshold > 0.0 && self.moved_threshold.is_finite()) {
            return Err(Error::invalid(format!(
                "the moved-atom threshold must be positive, got {} Å",
                self.moved_threshold
            )));
        }
        if self.sample == Some(0) {
            return Err(Error::invalid(
                "--sample 0 analyses nothing; give at least 1 (or leave it out for all pairs)",
            ));
        }
        if !(self.split.distinct_tol > 0.0 && self.split.distinct_tol.is_finite()) {
            return Err(Error::invalid("the distinct-minimum tolerance must be positive"));
        }
        self.neb.validate()
    }
}

/// A pair of consecutive analysed frames that passed the displacement filter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    /// Index of the first frame among the analysed frames (0-based); the second is the next.
    pub frame: usize,
    /// Trajectory ticks (dump TIMESTEP, or frame index) of both frames.
    pub ticks: [u64; 2],
    /// Largest minimum-image displacement between the frames, Å.
    pub max_displacement: f64,
    /// The atom that moves most (0-based).
    pub most_displaced_atom: usize,
    /// Atoms displaced by more than the moved threshold.
    pub n_moved: usize,
}

/// The candidate pairs of a trajectory, with the frames they need.
pub struct Pairs {
    /// Every pair that passed the filter, in trajectory order.
    pub candidates: Vec<Pair>,
    /// Consecutive frame pairs seen.
    pub pairs_total: usize,
    /// The frames of the candidates, by index.
    frames: BTreeMap<usize, Arc<Structure>>,
    pub stream: StreamStats,
    pub quench: Option<QuenchSummary>,
    pub natoms: usize,
    pub species: Vec<String>,
}

/// Reads the frames at `interval` (quenched when `quench` is given), compares consecutive
/// frames and keeps the pairs whose largest displacement is at least `opts.min_disp`. Only
/// the frames of kept pairs stay in memory. Errors: fewer than two frames, frames with
/// different atoms, and no pair passing the filter (with the largest displacement seen).
pub fn find_pairs(
    path: &Path,
    topts: &TrajectoryOptions,
    interval: f64,
    quench: Option<&QuenchSpec>,
    opts: &RearrangeOptions,
) -> Result<Pairs> {
    opts.validate()?;
    let mut prev: Option<(u64, Arc<Structure>)> = None;
    let mut index = 0usize;
    let mut candidates = Vec::new();
    let mut frames = BTreeMap::new();
    let mut largest = 0.0f64;
    let mut first: Option<Structure> = None;
    let (stream, qsum) = for_each_frame(path, topts, interval, quench, |sf| {
        let s = &sf.frame.structure;
        match &first {
            None => first = Some(s.clone()),
            Some(f) => same_atoms(f, s, sf.frame.line, path)?,
        }
        let cur = Arc::new(s.clone());
        if let Some((tick0, a)) = prev.take() {
            let d = cur.displacements_from(&a);
            let (mut imax, mut dmax, mut moved) = (0, 0.0f64, 0);
            for (i, v) in d.iter().enumerate() {
                let l = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
                if l > dmax {
                    (imax, dmax) = (i, l);
                }
                moved += (l > opts.moved_threshold) as usize;
            }
            largest = largest.max(dmax);
            if dmax >= opts.min_disp && dmax > 0.0 {
                candidates.push(Pair {
                    frame: index - 1,
                    ticks: [tick0, sf.tick],
                    max_displacement: dmax,
                    most_displaced_atom: imax,
                    n_moved: moved,
                });
                frames.insert(index - 1, a);
                frames.insert(index, cur.clone());
            }
        }
        prev = Some((sf.tick, cur));
        index += 1;
        Ok(())
    })?;
    let source = path.display();
    if index < 2 {
        return Err(Error::invalid(format!(
            "{source}: {index} frame(s) at the interval {interval} ps; rearrangements need at least two"
        )));
    }
    if candidates.is_empty() {
        return Err(Error::invalid(format!(
            "{source}: none of the {} frame pairs has an atom displaced by >= {} Å (largest displacement {largest:.3} Å); \
             lower --min-disp, lengthen --interval, or check that the frames are inherent structures",
            index - 1,
            opts.min_disp
        )));
    }
    let first = first.expect("at least two frames");
    Ok(Pairs {
        candidates,
        pairs_total: index - 1,
        frames,
        stream,
        quench: qsum,
        natoms: first.len(),
        species: first.species.clone(),
    })
}

/// Frames of a trajectory must hold the same atoms (count and species, atom by atom).
fn same_atoms(first: &Structure, s: &Structure, line: usize, path: &Path) -> Result<()> {
    if s.len() != first.len() {
        return Err(Error::invalid(format!(
            "{}: the frame at line {line} holds {} atoms, the first frame {}; rearrangements need the same atoms in every frame",
            path.display(),
            s.len(),
            first.len()
        )));
    }
    if let Some(i) = (0..s.len()).find(|&i| s.symbol(i) != first.symbol(i)) {
        return Err(Error::invalid(format!(
            "{}: atom {} is {} in the frame at line {line} and {} in the first frame",
            path.display(),
            i + 1,
            s.symbol(i),
            first.symbol(i)
        )));
    }
    Ok(())
}

/// The pairs to analyse: all candidates, or `n` drawn without replacement with a ChaCha8
/// stream seeded by `seed`, in trajectory order. Indices into `candidates`.
pub fn sample_pairs(n_candidates: usize, sample: Option<usize>, seed: u64) -> Vec<usize> {
    match sample {
        Some(n) if n < n_candidates => {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut idx = rand::seq::index::sample(&mut rng, n_candidates, n).into_vec();
            idx.sort_unstable();
            idx
        }
        _ => (0..n_candidates).collect(),
    }
}

/// One elementary hop: a segment of a split path between two consecutive minima.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Elementary {
    /// Energies of the segment's minima and saddle, eV.
    pub e_initial: f64,
    pub e_saddle: f64,
    pub e_final: f64,
    /// Forward and reverse barriers, eV.
    pub e_fw: f64,
    pub e_rev: f64,
    /// Largest displacement between the segment's minima, Å.
    pub max_displacement: f64,
    pub converged: bool,
    /// One negative curvature at the climbing image (None: not checked).
    pub saddle_confirmed: Option<bool>,
}

/// The outcome of the NEB on one frame pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rearrangement {
    /// Position in the task list (the sampled pairs in trajectory order).
    pub task: u64,
    #[serde(flatten)]
    pub pair: Pair,
    /// Energies of the relaxed endpoints and of the highest point of the band, eV.
    pub e_initial: f64,
    pub e_saddle: f64,
    pub e_final: f64,
    /// Barriers of the whole band: E_saddle - E_initial and E_saddle - E_final, eV. When the
    /// path is split, the band runs through intermediate minima and these are for inspection
    /// only: [`Rearrangement::path_barrier`] gives the path's barriers from its elementary hops.
    pub e_fw: f64,
    pub e_rev: f64,
    /// Band converged (and every segment's band, when split).
    pub converged: bool,
    /// One negative curvature at the climbing image of the whole band (None: not checked).
    pub saddle_confirmed: Option<bool>,
    /// Largest NEB force at the end, eV/Å, and band steps, of the whole band.
    pub max_force: f64,
    pub steps: usize,
    /// Minima found between the ends (0: an elementary hop).
    pub intermediate_minima: usize,
    /// The elementary hops in path order (empty when there is no intermediate minimum).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elementary: Vec<Elementary>,
    /// All force calls: NEB bands, endpoint and image relaxations, curvature checks.
    pub force_calls: u64,
    /// Sparse displacements of the final minimum from the initial one (atoms moved more than
    /// the moved threshold).
    pub final_displacements: Vec<Displacement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The barriers of a path as a sequence of hops: its highest saddle and the convergence of
/// every band that defines it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathBarrier {
    /// Highest saddle along the path, eV.
    pub e_saddle: f64,
    /// E_saddle - E_initial and E_saddle - E_final, eV.
    pub e_fw: f64,
    pub e_rev: f64,
    /// The bands behind these numbers converged.
    pub converged: bool,
    /// Every saddle behind them has one negative curvature (None: not checked).
    pub saddle_confirmed: Option<bool>,
}

impl Rearrangement {
    /// The barriers of the path MD took. An elementary hop: those of its band. A path split at
    /// intermediate minima: the highest elementary saddle above the end minima, converged when
    /// every segment's band converged or has no barrier (no image above both of its minima:
    /// a climbing image cannot converge there, and such a segment never holds the highest
    /// saddle of a path that has one). The climbing image of a band through several minima
    /// does not converge onto a saddle (it often runs away), so the whole band's own numbers
    /// (`e_saddle`, `e_fw`, `e_rev`, `converged` of the record) are kept for inspection only.
    pub fn path_barrier(&self) -> PathBarrier {
        if self.elementary.is_empty() {
            return PathBarrier {
                e_saddle: self.e_saddle,
                e_fw: self.e_fw,
                e_rev: self.e_rev,
                converged: self.converged,
                saddle_confirmed: self.saddle_confirmed,
            };
        }
        let e_saddle = self
            .elementary
            .iter()
            .map(|h| h.e_saddle)
            .fold(f64::NEG_INFINITY, f64::max);
        let confirmed: Option<Vec<bool>> = self.elementary.iter().map(|h| h.saddle_confirmed).collect();
        PathBarrier {
            e_saddle,
            e_fw: e_saddle - self.e_initial,
            e_rev: e_saddle - self.e_final,
            converged: self
                .elementary
                .iter()
                .all(|h| h.converged || h.e_fw.min(h.e_rev) <= 0.0),
            saddle_confirmed: confirmed.map(|c| c.iter().all(|&x| x)),
        }
    }
}

/// A pair whose NEB could not run (the reason is kept, the pair is never dropped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairFailure {
    pub task: u64,
    #[serde(flatten)]
    pub pair: Pair,
    /// The error text.
    pub reason: String,
    /// Force calls spent before the error (with a failing force field, those of the band
    /// step's other images, evaluated in parallel, may be included).
    pub force_calls: u64,
}

/// The first line of the file: inputs, options and plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub schema: String,
    pub pelx_version: String,
    pub trajectory: String,
    pub trajectory_sha256: String,
    pub natoms: usize,
    pub species: Vec<String>,
    pub potential: String,
    pub potential_sha256: Vec<String>,
    /// Time between compared frames, ps.
    pub interval: f64,
    /// Frames read and analysed, and pairs seen.
    pub frames_read: usize,
    pub frames_analysed: usize,
    pub pairs_total: usize,
    /// Pairs that passed the displacement filter, and the tasks drawn from them.
    pub candidates: usize,
    pub tasks: usize,
    pub options: RearrangeOptions,
    /// The quench of the frames (None: used as read).
    pub quench: Option<QuenchSummary>,
    /// Command line, host, time (not part of the plan).
    #[serde(default)]
    pub provenance: serde_json::Value,
}

impl RunInfo {
    /// The fields in which `other` plans a different run (what `--resume` must match).
    pub fn differences(&self, other: &RunInfo) -> Vec<&'static str> {
        let mut d = Vec::new();
        let mut check = |same: bool, name: &'static str| {
            if !same {
                d.push(name);
            }
        };
        check(self.schema == other.schema, "schema");
        check(self.trajectory_sha256 == other.trajectory_sha256, "trajectory_sha256");
        check(self.natoms == other.natoms, "natoms");
        check(self.species == other.species, "species");
        check(self.frames_analysed == other.frames_analysed, "frames_analysed");
        check(self.pairs_total == other.pairs_total, "pairs_total");
        check(self.potential_sha256 == other.potential_sha256, "potential_sha256");
        check(self.interval == other.interval, "interval");
        check(self.candidates == other.candidates, "candidates");
        check(self.tasks == other.tasks, "tasks");
        check(self.options == other.options, "options");
        let key = |q: &Option<QuenchSummary>| q.as_ref().map(|q| q.key.clone());
        check(key(&self.quench) == key(&other.quench), "quench");
        d
    }
}

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Line {
    Run(Box<RunInfo>),
    Rearrangement(Box<Rearrangement>),
    Failure(PairFailure),
}

impl Line {
    fn task(&self) -> Option<u64> {
        match self {
            Line::Run(_) => None,
            Line::Rearrangement(r) => Some(r.task),
            Line::Failure(f) => Some(f.task),
        }
    }
}

/// Fraction of the way to its lower neighbour an image moves before it is relaxed.
const NUDGE: f64 = 0.05;

/// A band's path analysed: whole-path numbers and the elementary hops.
struct PathOutcome {
    whole: NebResult,
    elementary: Vec<Elementary>,
    intermediate: usize,
    force_calls: u64,
    converged: bool,
    warnings: Vec<String>,
}

/// Climbing-image NEB between `a` and `b`, then the split at intermediate minima.
fn analyse_path(
    a: &Structure,
    b: &Structure,
    ff: &Arc<dyn ForceField>,
    opts: &RearrangeOptions,
    neb_opts: &NebOptions,
    depth: usize,
) -> Result<PathOutcome> {
    let whole = neb(a, b, ff.clone(), neb_opts)?;
    let fc = &whole.force_calls;
    let mut force_calls = fc.total + fc.endpoints.iter().sum::<u64>() + fc.curvature_check;
    let mut warnings = whole.warnings.clone();
    let mut converged = whole.converged;
    let n = whole.structures.len();
    let ends = [&whole.structures[0], &whole.structures[n - 1]];
    let mut minima: Vec<(Structure, f64)> = Vec::new();
    if opts.split.enabled && depth < opts.split.max_depth {
        let mopts = MinimizeOptions {
            fmax: neb_opts.relax_fmax,
            max_iterations: neb_opts.relax_max_steps as u64,
            ..MinimizeOptions::default()
        };
        // Each image starts 5 % of the way towards its lower neighbour, so that the climbing
        // image, at the saddle where the force vanishes, does not stay there.
        let relaxed: Vec<Result<(Structure, f64, bool, u64)>> = (1..n - 1)
            .into_par_iter()
            .map(|i| {
                let e = |k: usize| whole.images[k].energy;
                let j = if e(i - 1) < e(i + 1) { i - 1 } else { i + 1 };
                let mut s = whole.structures[i].clone();
                let to = whole.structures[j].flat().to_vec();
                for (x, y) in s.flat_mut().iter_mut().zip(to) {
                    *x += NUDGE * (y - *x);
                }
                let mut calc = Calculator::new(ff.clone()).with_skin(neb_opts.skin);
                let r = minimize(neb_opts.relax_method, &mut s, &mut calc, &mopts)?;
                Ok((s, r.energy, r.converged, r.force_calls))
            })
            .collect();
        let tol = opts.split.distinct_tol;
        let mut last: &Structure = ends[0];
        for (k, r) in relaxed.into_iter().enumerate() {
            let (s, e, ok, calls) = r?;
            force_calls += calls;
            if !ok {
                warnings.push(format!("image {} did not relax to fmax {}", k + 1, neb_opts.relax_fmax));
                continue;
            }
            let same = |m: &Structure| s.max_displacement_from(m) < tol;
            if same(last) || same(ends[1]) || same(ends[0]) || minima.iter().any(|(m, _)| same(m)) {
                continue;
            }
            minima.push((s, e));
            last = &minima.last().expect("just pushed").0;
        }
    }
    let mut elementary = Vec::new();
    let intermediate = minima.len();
    if minima.is_empty() {
        elementary.push(elementary_of(&whole));
    } else {
        let seg_opts = NebOptions {
            relax_ends: false,
            ..neb_opts.clone()
        };
        let mut nodes: Vec<&Structure> = vec![ends[0]];
        nodes.extend(minima.iter().map(|(m, _)| m));
        nodes.push(ends[1]);
        for w in nodes.windows(2) {
            let seg = analyse_path(w[0], w[1], ff, opts, &seg_opts, depth + 1)?;
            force_calls += seg.force_calls;
            converged &= seg.converged;
            warnings.extend(seg.warnings);
            elementary.extend(seg.elementary);
        }
    }
    Ok(PathOutcome {
        whole,
        elementary,
        intermediate,
        force_calls,
        converged,
        warnings,
    })
}

fn elementary_of(r: &NebResult) -> Elementary {
    let n = r.structures.len();
    Elementary {
        e_initial: r.energy_initial,
        e_saddle: r.saddle_energy,
        e_final: r.energy_final,
        e_fw: r.barrier_forward,
        e_rev: r.barrier_reverse,
        max_displacement: r.structures[n - 1].max_displacement_from(&r.structures[0]),
        converged: r.converged,
        saddle_confirmed: r.saddle_confirmed,
    }
}

/// A force field that counts its evaluations: a failed pair reports the force calls it spent
/// before the error (the NEB error paths return no count of their own).
#[derive(Debug)]
struct Counted {
    inner: Arc<dyn ForceField>,
    calls: AtomicU64,
}

impl ForceField for Counted {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn cutoff(&self) -> f64 {
        self.inner.cutoff()
    }
    fn elements(&self) -> Vec<String> {
        self.inner.elements()
    }
    fn compute(
        &self,
        s: &Structure,
        species_map: &[usize],
        ws: &mut Workspace,
        forces: &mut [[f64; 3]],
        per_atom: Option<&mut [f64]>,
    ) -> Result<f64> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.compute(s, species_map, ws, forces, per_atom)
    }
}

/// The record of one pair: NEB between its frames, split at intermediate minima. Errors of
/// the NEB (endpoints relaxing to the same minimum, a force-field failure) become a
/// [`PairFailure`] with the reason and the force calls spent until then.
pub fn analyse_pair(
    task: u64,
    pair: &Pair,
    a: &Structure,
    b: &Structure,
    ff: &Arc<dyn ForceField>,
    opts: &RearrangeOptions,
) -> Line {
    let counted = Arc::new(Counted {
        inner: ff.clone(),
        calls: AtomicU64::new(0),
    });
    let counted_ff: Arc<dyn ForceField> = counted.clone();
    match analyse_path(a, b, &counted_ff, opts, &opts.neb, 0) {
        Ok(p) => {
            let w = &p.whole;
            let n = w.structures.len();
            let d = w.structures[n - 1].displacements_from(&w.structures[0]);
            // A single hop: its elementary list is the whole path, not repeated.
            let elementary = if p.intermediate == 0 { Vec::new() } else { p.elementary };
            Line::Rearrangement(Box::new(Rearrangement {
                task,
                pair: *pair,
                e_initial: w.energy_initial,
                e_saddle: w.saddle_energy,
                e_final: w.energy_final,
                e_fw: w.barrier_forward,
                e_rev: w.barrier_reverse,
                converged: p.converged,
                saddle_confirmed: w.saddle_confirmed,
                max_force: w.max_force,
                steps: w.steps,
                intermediate_minima: p.intermediate,
                elementary,
                force_calls: p.force_calls,
                final_displacements: sparse_displacements(&d, opts.moved_threshold),
                warnings: p.warnings,
            }))
        }
        Err(e) => Line::Failure(PairFailure {
            task,
            pair: *pair,
            reason: e.to_string(),
            force_calls: counted.calls.load(Ordering::Relaxed),
        }),
    }
}

/// Whether to start a new file or continue one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    Create,
    Resume,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub tasks: usize,
    pub already_done: usize,
    pub analysed: usize,
    pub failures: usize,
    pub not_converged: usize,
    pub split: usize,
    pub force_calls: u64,
    pub threads: usize,
    pub wall_seconds: f64,
}

/// The run record of an analysis (without provenance).
pub fn run_info(
    pairs: &Pairs,
    trajectory: &Path,
    interval: f64,
    ff: &dyn ForceField,
    potential_sha256: Vec<String>,
    opts: &RearrangeOptions,
    tasks: usize,
) -> RunInfo {
    RunInfo {
        schema: SCHEMA.to_string(),
        pelx_version: crate::provenance::VERSION.to_string(),
        trajectory: trajectory.display().to_string(),
        trajectory_sha256: pairs.stream.sha256.clone(),
        natoms: pairs.natoms,
        species: pairs.species.clone(),
        potential: ff.describe(),
        potential_sha256,
        interval,
        frames_read: pairs.stream.frames_read,
        frames_analysed: pairs.stream.frames_kept,
        pairs_total: pairs.pairs_total,
        candidates: pairs.candidates.len(),
        tasks,
        options: opts.clone(),
        quench: pairs.quench.clone(),
        provenance: serde_json::Value::Null,
    }
}

/// Runs NEB on the sampled pairs (those not yet in `out` when resuming) on `threads` worker
/// threads (0: rayon's default) and writes one line per pair, in task order, each flushed
/// as soon as every earlier one is written. `on_line` sees every record written.
pub fn run(
    pairs: &Pairs,
    run: &RunInfo,
    ff: Arc<dyn ForceField>,
    out: &Path,
    mode: OutputMode,
    threads: usize,
    on_line: &mut dyn FnMut(&Line),
) -> Result<RunSummary> {
    let start = std::time::Instant::now();
    let opts = &run.options;
    let chosen = sample_pairs(pairs.candidates.len(), opts.sample, opts.seed);
    if chosen.len() != run.tasks {
        return Err(Error::invalid("the run record's task count does not match the sample"));
    }
    let mut done = HashSet::new();
    let mut file = match mode {
        OutputMode::Create => {
            let mut f = std::fs::File::create(out).map_err(|e| Error::io(out, e))?;
            write_line(&mut f, &Line::Run(Box::new(run.clone())), out)?;
            f
        }
        OutputMode::Resume => {
            let (old, lines) = read_lines(out)?;
            let diff = old.differences(run);
            if !diff.is_empty() {
                return Err(Error::invalid(format!(
                    "--resume: {} is not a run of this analysis (different {}); start a new file or give the same \
                     trajectory, potential, options and seed",
                    out.display(),
                    diff.join(", ")
                )));
            }
            for l in &lines {
                let t = l.task().expect("records have a task");
                if t as usize >= run.tasks || !done.insert(t) {
                    return Err(Error::invalid(format!(
                        "--resume: {} holds task {t} twice or outside this run's {} tasks",
                        out.display(),
                        run.tasks
                    )));
                }
            }
            open_for_append(out)?
        }
    };
    let todo: Vec<(u64, usize)> = chosen
        .iter()
        .enumerate()
        .map(|(t, &c)| (t as u64, c))
        .filter(|(t, _)| !done.contains(t))
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::invalid(format!("cannot start the worker threads: {e}")))?;
    let mut summary = RunSummary {
        tasks: run.tasks,
        already_done: done.len(),
        analysed: 0,
        failures: 0,
        not_converged: 0,
        split: 0,
        force_calls: 0,
        threads: pool.current_num_threads(),
        wall_seconds: 0.0,
    };
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Line)>();
    let mut write_result = Ok(());
    std::thread::scope(|scope| {
        let todo = &todo;
        let ff = &ff;
        scope.spawn(move || {
            // Each worker takes the next task in order (not rayon's halving split), so that
            // the records finish nearly in task order: an interrupted run has written almost
            // every task it finished. The NEBs inside still use the whole pool.
            let next = AtomicUsize::new(0);
            let workers = pool.current_num_threads();
            pool.scope(|sc| {
                for _ in 0..workers {
                    let (tx, next) = (tx.clone(), &next);
                    sc.spawn(move |_| loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(t, c)) = todo.get(k) else { break };
                        let p = &pairs.candidates[c];
                        let (a, b) = (&pairs.frames[&p.frame], &pairs.frames[&(p.frame + 1)]);
                        if tx.send((k, analyse_pair(t, p, a, b, ff, opts))).is_err() {
                            break;
                        }
                    });
                }
            });
            drop(tx);
        });
        let mut pending: BTreeMap<usize, Line> = BTreeMap::new();
        let mut next = 0usize;
        for (k, line) in rx.iter() {
            pending.insert(k, line);
            while let Some(line) = pending.remove(&next) {
                if write_result.is_ok() {
                    write_result = write_line(&mut file, &line, out);
                }
                tally(&mut summary, &line);
                on_line(&line);
                next += 1;
            }
        }
    });
    write_result?;
    summary.wall_seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}

fn tally(s: &mut RunSummary, line: &Line) {
    match line {
        Line::Rearrangement(r) => {
            s.analysed += 1;
            s.not_converged += !r.converged as usize;
            s.split += (r.intermediate_minima > 0) as usize;
            s.force_calls += r.force_calls;
        }
        Line::Failure(_) => s.failures += 1,
        Line::Run(_) => {}
    }
}

/// One line and its newline in one write, so that a killed run leaves at most one
/// unterminated line.
fn write_line(f: &mut std::fs::File, line: &Line, path: &Path) -> Result<()> {
    let mut text = serde_json::to_string(line).map_err(|e| Error::invalid(format!("serializing a record: {e}")))?;
    text.push('\n');
    f.write_all(text.as_bytes()).map_err(|e| Error::io(path, e))
}

/// Opens a file for appending after cutting an unterminated last line.
fn open_for_append(path: &Path) -> Result<std::fs::File> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |k| k + 1);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    f.set_len(keep as u64).map_err(|e| Error::io(path, e))?;
    use std::io::Seek;
    f.seek(std::io::SeekFrom::End(0)).map_err(|e| Error::io(path, e))?;
    Ok(f)
}

/// Reads a rearrangement file: the run record and the complete records (an unterminated last
/// line, from a killed run, is ignored with a warning).
pub fn read_lines(path: &Path) -> Result<(RunInfo, Vec<Line>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |k| k + 1);
    if bytes[complete..].iter().any(|b| !b.is_ascii_whitespace()) {
        tracing::warn!("{}: incomplete last record ignored (interrupted run)", path.display());
    }
    let text =
        std::str::from_utf8(&bytes[..complete]).map_err(|e| Error::parse(path, 0, format!("not UTF-8 text: {e}")))?;
    let mut run = None;
    let mut lines = Vec::new();
    for (k, text) in text.lines().enumerate() {
        if text.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(text)
            .map_err(|e| Error::parse(path, k + 1, format!("not a rearrangement record: {e}")))?;
        match line {
            Line::Run(r) if run.is_none() && lines.is_empty() => {
                if r.schema != SCHEMA {
                    return Err(Error::parse(
                        path,
                        k + 1,
                        format!("schema {} is not {SCHEMA}", r.schema),
                    ));
                }
                run = Some(*r);
            }
            Line::Run(_) => return Err(Error::parse(path, k + 1, "a second run record")),
            _ if run.is_none() => return Err(Error::parse(path, k + 1, "the first line must be the run record")),
            l => lines.push(l),
        }
    }
    let run = run.ok_or_else(|| Error::parse(path, 0, "empty file (no run record)"))?;
    Ok((run, lines))
}

/// Whether a file's first line is a rearrangement run record.
pub fn is_rearrangement_file(path: &Path) -> bool {
    use std::io::BufRead;
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut first = String::new();
    if std::io::BufReader::new(f).read_line(&mut first).is_err() {
        return false;
    }
    first.contains(&format!("\"schema\":\"{SCHEMA}\""))
}

/// A catalog file, or a rearrangement file seen as a catalog, so that `pelx asym` compares the
/// barriers MD crosses with those ART finds. Each rearrangement whose path converged
/// ([`Rearrangement::path_barrier`]: its band, or every segment's band when split) becomes an
/// event with the barriers of the path (task, most displaced atom as the central atom,
/// `reconnects: true`, `verified` = every saddle confirmed, flag `md_rearrangement`, plus
/// `intermediate_minima` when split); unconverged paths and NEB failures become failures. The "structure" is the trajectory (its hash), and `e_initial`
/// of the run record the initial energy of the first record (each pair has its own).
pub fn read_as_catalog(path: &Path) -> Result<Catalog> {
    if !is_rearrangement_file(path) {
        return Catalog::read(path);
    }
    let (run, lines) = read_lines(path)?;
    let mut events = Vec::new();
    let mut failures = Vec::new();
    for l in lines {
        match l {
            Line::Rearrangement(r) if r.path_barrier().converged => {
                let b = r.path_barrier();
                let mut flags = vec!["md_rearrangement".to_string()];
                if r.intermediate_minima > 0 {
                    flags.push("intermediate_minima".to_string());
                }
                events.push(Event {
                    task: r.task,
                    central_atom: r.pair.most_displaced_atom,
                    attempt: 0,
                    seed: run.options.seed,
                    e_initial: r.e_initial,
                    e_saddle: b.e_saddle,
                    e_final: r.e_final,
                    e_fw: b.e_fw,
                    e_rev: b.e_rev,
                    eigenvalue: f64::NAN,
                    saddle_fmax: r.max_force,
                    max_displacement: r.pair.max_displacement,
                    n_moved: r.pair.n_moved,
                    reconnects: true,
                    verified: b.saddle_confirmed == Some(true),
                    force_calls_saddle: r.force_calls,
                    force_calls_total: r.force_calls,
                    calls: Default::default(),
                    check: None,
                    saddle_displacements: Vec::new(),
                    final_displacements: r.final_displacements,
                    other_minimum: None,
                    flags,
                });
            }
            Line::Rearrangement(r) => failures.push(Failure {
                // The path did not converge (its band, or a segment's band when split).
                task: r.task,
                central_atom: r.pair.most_displaced_atom,
                attempt: 0,
                seed: run.options.seed,
                reason: FailureReason::SaddleNotConverged,
                detail: if r.elementary.is_empty() {
                    format!("NEB band not converged (max force {:.3e} eV/Å)", r.max_force)
                } else {
                    let n = r.elementary.iter().filter(|h| !h.converged).count();
                    format!("{n} of {} segment bands not converged", r.elementary.len())
                },
                force_calls_total: r.force_calls,
                calls: Default::default(),
            }),
            Line::Failure(f) => failures.push(Failure {
                task: f.task,
                central_atom: f.pair.most_displaced_atom,
                attempt: 0,
                seed: run.options.seed,
                reason: FailureReason::PotentialError,
                detail: f.reason,
                force_calls_total: f.force_calls,
                calls: Default::default(),
            }),
            Line::Run(_) => unreachable!("rejected by read_lines"),
        }
    }
    let e_initial = events.first().map_or(0.0, |e| e.e_initial);
    Ok(Catalog {
        path: path.to_path_buf(),
        run: RunRecord {
            schema: crate::catalog::SCHEMA.to_string(),
            pelx_version: run.pelx_version,
            structure: run.trajectory,
            structure_sha256: run.trajectory_sha256,
            natoms: run.natoms,
            potential: run.potential,
            potential_sha256: run.potential_sha256,
            e_initial,
            seed: run.options.seed,
            parameters: serde_json::to_value(&run.options).unwrap_or_default(),
            sampling: serde_json::json!({"rearrangements": run.tasks, "candidates": run.candidates}),
            input_relaxation: None,
            shard: None,
        },
        events,
        failures,
        truncated_tail: false,
    })
}

/// The time between the first two frames of a trajectory, ps: the default interval, so that
/// every frame is compared with the next. Dump frames (and extended XYZ frames with a
/// `timestep=` key) are `Δtimestep x md_timestep` apart; frames without a timestep are
/// `frame_spacing` apart (1 when not given). Errors when the file holds fewer than two frames.
pub fn first_spacing(path: &Path, topts: &TrajectoryOptions) -> Result<f64> {
    let mut frames = crate::structure::io::read_frames(path, &topts.read)?;
    let mut tick = |what: &str| -> Result<Option<u64>> {
        let f = frames.next().ok_or_else(|| {
            Error::invalid(format!(
                "{}: no {what} frame; rearrangements need at least two frames",
                path.display()
            ))
        })??;
        // The trajectory reader's own rule, so that a malformed `timestep=` is an error here too.
        crate::diffusion::trajectory::frame_tick(&f)
    };
    let (a, b) = (tick("first")?, tick("second")?);
    match (a, b) {
        (Some(a), Some(b)) if b > a => Ok((b - a) as f64 * topts.md_timestep),
        (Some(_), Some(_)) => Err(Error::invalid(format!(
            "{}: the second frame's timestep does not follow the first's",
            path.display()
        ))),
        _ => Ok(topts.frame_spacing.unwrap_or(1.0)),
    }
}
