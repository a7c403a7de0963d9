//! Timing of force calls, the pelx side of the speed ratios against LAMMPS, and of ART searches
//! at two system sizes (`pelx bench art-scale`, pelx issue 9).
//!
//! The protocol mirrors `scripts/lammps_force_bench.py`: before every call each atom moves by a
//! small random amount, so every call is a real evaluation and the neighbour list is rebuilt
//! only when the skin requires it, as in a minimization or a saddle search.

use crate::potential::Calculator;
use crate::saddle::art::{search, ArtConfig, InitialMinimum, SearchOutcome};
use crate::saddle::campaign::search_seed;
use crate::structure::Structure;
use crate::Result;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::time::Instant;

/// Timing of one series of force calls.
#[derive(Debug, Clone, Serialize)]
pub struct ForceTiming {
    pub atoms: usize,
    pub calls: usize,
    pub repeats: usize,
    /// Best and median over the repeats, microseconds per call.
    pub us_per_call_best: f64,
    pub us_per_call_median: f64,
    /// Best microseconds per call divided by the atom count.
    pub us_per_atom_call_best: f64,
    pub neighbor_builds: u64,
    pub threads: usize,
}

/// Times `calls` energy+force evaluations, `repeats` times, moving every atom by up to
/// `jitter` Å (uniform per component) before each call. Deterministic in `seed`.
pub fn time_force_calls(
    calc: &mut Calculator,
    s: &Structure,
    calls: usize,
    repeats: usize,
    jitter: f64,
    seed: u64,
) -> Result<ForceTiming> {
    let mut s = s.clone();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut f = Vec::new();
    calc.compute(&s, &mut f)?; // warm-up: neighbour list and buffers
    let builds0 = calc.neighbor_builds();
    let mut per_call = Vec::with_capacity(repeats);
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        for _ in 0..calls.max(1) {
            for p in s.positions.iter_mut() {
                for x in p.iter_mut() {
                    *x += rng.random_range(-jitter..=jitter);
                }
            }
            calc.compute(&s, &mut f)?;
        }
        per_call.push(t.elapsed().as_secs_f64() * 1e6 / calls.max(1) as f64);
    }
    per_call.sort_by(f64::total_cmp);
    let best = per_call[0];
    Ok(ForceTiming {
        atoms: s.len(),
        calls,
        repeats: per_call.len(),
        us_per_call_best: best,
        us_per_call_median: per_call[per_call.len() / 2],
        us_per_atom_call_best: best / s.len() as f64,
        neighbor_builds: calc.neighbor_builds() - builds0,
        threads: rayon::current_num_threads(),
    })
}

/// Full against local evaluation when only some atoms move (pelx issue 9).
#[derive(Debug, Clone, Serialize)]
pub struct LocalForceTiming {
    pub atoms: usize,
    /// Atoms jittered before each call.
    pub moved: usize,
    pub calls: usize,
    /// Microseconds per call, full and local evaluation of the same positions.
    pub us_per_call_full: f64,
    pub us_per_call_local: f64,
    /// Full over local time.
    pub speedup: f64,
    /// Calls the local calculator evaluated locally (the rest fell back to full).
    pub local_calls: u64,
    /// Largest force difference between the two over all calls, eV/Å.
    pub max_force_difference: f64,
}

/// Times `calls` evaluations of `s` with only the atoms `moved` jittered by up to `jitter` Å
/// before each call, with a full and a local calculator on the same positions (interleaved,
/// so that both see the same machine load), both copies of `template` (its force field and
/// skin). Deterministic in `seed`.
pub fn time_local_force_calls(
    template: &Calculator,
    s: &Structure,
    moved: &[usize],
    calls: usize,
    jitter: f64,
    seed: u64,
) -> Result<LocalForceTiming> {
    let mut s = s.clone();
    let mut full = template.clone().with_local(false);
    let mut local = template.clone().with_local(true);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (mut ff_, mut fl) = (Vec::new(), Vec::new());
    full.compute(&s, &mut ff_)?;
    local.compute(&s, &mut fl)?;
    let local0 = local.local_calls();
    let (mut t_full, mut t_local, mut worst) = (0.0, 0.0, 0.0f64);
    for _ in 0..calls.max(1) {
        for &i in moved {
            for x in s.positions[i].iter_mut() {
                *x += rng.random_range(-jitter..=jitter);
            }
        }
        let t = Instant::now();
        full.compute(&s, &mut ff_)?;
        t_full += t.elapsed().as_secs_f64();
        let t = Instant::now();
        local.compute(&s, &mut fl)?;
        t_local += t.elapsed().as_secs_f64();
        for (a, b) in ff_.iter().zip(&fl) {
            for k in 0..3 {
                worst = worst.max((a[k] - b[k]).abs());
            }
        }
    }
    let n = calls.max(1) as f64;
    Ok(LocalForceTiming {
        atoms: s.len(),
        moved: moved.len(),
        calls: calls.max(1),
        us_per_call_full: t_full * 1e6 / n,
        us_per_call_local: t_local * 1e6 / n,
        speedup: t_full / t_local.max(1e-12),
        local_calls: local.local_calls() - local0,
        max_force_difference: worst,
    })
}

/// The `k` atoms nearest to atom `center` (minimum image), `center` first.
pub fn nearest_atoms(s: &Structure, center: usize, k: usize) -> Vec<usize> {
    let c = s.positions[center];
    let mut d: Vec<(f64, usize)> = s
        .positions
        .iter()
        .enumerate()
        .map(|(j, p)| (if j == center { -1.0 } else { s.cell.distance(c, *p) }, j))
        .collect();
    d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    d.into_iter().take(k).map(|(_, j)| j).collect()
}

/// ART searches on one structure, one after the other on the calling thread.
#[derive(Debug, Clone, Serialize)]
pub struct SearchTiming {
    pub atoms: usize,
    pub searches: usize,
    pub seconds: f64,
    pub seconds_per_search: f64,
    pub force_calls_per_search: f64,
    /// Force calls that were evaluated locally, per search.
    pub local_calls_per_search: f64,
    /// Searches that ended at a converged saddle (an event, verified or not).
    pub saddles: usize,
    pub verified: usize,
    /// Total force calls over converged saddles (the cost of one saddle).
    pub force_calls_per_saddle: Option<f64>,
    pub seconds_per_call_us: f64,
    /// Per search: "event", "verified" or the failure reason, and the saddle energy above the
    /// initial minimum (eV) when there is one.
    pub outcomes: Vec<(usize, String, Option<f64>)>,
}

/// Runs one search per central atom (seeds from [`search_seed`](crate::saddle::campaign::search_seed)
/// with `master_seed`), each with a clone of `template`, and times them.
pub fn time_searches(
    init: &InitialMinimum,
    cfg: &ArtConfig,
    template: &Calculator,
    centrals: &[usize],
    master_seed: u64,
) -> SearchTiming {
    let t = Instant::now();
    let (mut calls, mut local, mut saddles, mut verified) = (0u64, 0u64, 0, 0);
    let mut outcomes = Vec::new();
    for &c in centrals {
        let mut calc = template.clone();
        let l0 = calc.local_calls();
        let out = search(init, cfg, &mut calc, c, search_seed(master_seed, c, 0));
        local += calc.local_calls() - l0;
        match out {
            SearchOutcome::Event(ev) => {
                calls += ev.calls.total();
                saddles += 1;
                verified += usize::from(ev.verified);
                let tag = if ev.verified { "verified" } else { "event" };
                outcomes.push((c, tag.to_string(), Some(ev.e_saddle - init.energy)));
            }
            SearchOutcome::Failure(f) => {
                calls += f.calls.total();
                outcomes.push((c, format!("{:?}", f.reason), None));
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let n = centrals.len().max(1) as f64;
    SearchTiming {
        atoms: init.structure.len(),
        searches: centrals.len(),
        seconds: secs,
        seconds_per_search: secs / n,
        force_calls_per_search: calls as f64 / n,
        local_calls_per_search: local as f64 / n,
        saddles,
        verified,
        force_calls_per_saddle: (saddles > 0).then(|| calls as f64 / saddles as f64),
        seconds_per_call_us: secs * 1e6 / calls.max(1) as f64,
        outcomes,
    }
}

/// Throughput of a small campaign on a rayon pool of `threads` threads.
#[derive(Debug, Clone, Serialize)]
pub struct ThroughputTiming {
    pub threads: usize,
    pub searches: usize,
    pub seconds: f64,
    pub searches_per_second: f64,
    pub force_calls: u64,
}

/// Runs one search per entry of `centrals` on a pool of `threads` threads (each search with a
/// clone of `template`, as `pelx art` does) and measures searches per second.
pub fn time_throughput(
    init: &InitialMinimum,
    cfg: &ArtConfig,
    template: &Calculator,
    centrals: &[usize],
    master_seed: u64,
    threads: usize,
) -> Result<ThroughputTiming> {
    use rayon::prelude::*;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| crate::Error::invalid(format!("cannot start the worker threads: {e}")))?;
    let t = Instant::now();
    let calls: u64 = pool.install(|| {
        centrals
            .par_iter()
            .with_max_len(1)
            .map(|&c| {
                let mut calc = template.clone();
                match search(init, cfg, &mut calc, c, search_seed(master_seed, c, 0)) {
                    SearchOutcome::Event(ev) => ev.calls.total(),
                    SearchOutcome::Failure(f) => f.calls.total(),
                }
            })
            .sum()
    });
    let secs = t.elapsed().as_secs_f64();
    Ok(ThroughputTiming {
        threads: threads.max(1),
        searches: centrals.len(),
        seconds: secs,
        searches_per_second: centrals.len() as f64 / secs.max(1e-12),
        force_calls: calls,
    })
}
