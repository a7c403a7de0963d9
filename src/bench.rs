//! Timing of force calls, the pelx side of the speed ratios against LAMMPS.
//!
//! The protocol mirrors `scripts/lammps_force_bench.py`: before every call each atom moves by a
//! small random amount, so every call is a real evaluation and the neighbour list is rebuilt
//! only when the skin requires it, as in a minimization or a saddle search.

use crate::potential::Calculator;
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
