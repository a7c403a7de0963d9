//! The residence-time algorithm (Bortz, Kalos & Lebowitz 1975; Gillespie 1976).
//!
//! From a state with escape rates k_1..k_n (total K), one step picks escape j with probability
//! k_j / K and advances the clock by an exponential residence time of mean 1 / K. Every escape
//! happens, none is rejected, so the cost per step does not depend on how slow the process is.
//!
//! A model implements [`Process`] (the rates out of its current state and what an escape does
//! to the tracer); [`Kmc`] drives it with a seeded ChaCha8 stream and keeps the tracer record:
//! unwrapped displacement, number and length of its hops, and simulated time.

use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Index `j` with `sum_{i<j} rates[i] <= u * total < sum_{i<=j} rates[i]`: the escape chosen by
/// a uniform number `u` in [0, 1). `total` must be the sum of `rates`.
pub fn select(rates: &[f64], total: f64, u: f64) -> usize {
    let target = u * total;
    let mut acc = 0.0;
    for (j, &r) in rates.iter().enumerate() {
        acc += r;
        if target < acc {
            return j;
        }
    }
    // Round-off put the target at the very end: take the last escape that can happen.
    rates.iter().rposition(|&r| r > 0.0).unwrap_or(0)
}

/// Residence time `-ln(u) / total` for `u` uniform in (0, 1]: exponential with mean 1 / total.
pub fn residence_time(total: f64, u: f64) -> f64 {
    -u.ln() / total
}

/// A uniform number in (0, 1], safe to take the logarithm of.
pub fn open_unit(rng: &mut impl Rng) -> f64 {
    1.0 - rng.random::<f64>()
}

/// A state space explored by the residence-time algorithm.
pub trait Process {
    /// Writes the rate (1/ps) of every escape from the current state into `rates`, replacing
    /// what was there.
    fn rates(&mut self, rates: &mut Vec<f64>);
    /// Carries out escape `j` of the list last written by [`Process::rates`] and returns the
    /// tracer's displacement (Å); a zero vector when the escape does not move the tracer.
    fn take(&mut self, j: usize) -> [f64; 3];
}

/// What a tracer has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Tracer {
    /// Unwrapped displacement from the start, Å.
    pub displacement: [f64; 3],
    /// Number of hops (escapes that moved it).
    pub hops: u64,
    /// Sum of hop lengths, Å.
    pub path_length: f64,
    /// Sum of squared hop lengths, Å^2 (the mean squared displacement of the same hops taken
    /// in independent random directions).
    pub sum_sq_length: f64,
}

impl Tracer {
    /// Adds one hop `h` (Å); a zero vector is not a hop.
    pub fn record(&mut self, h: [f64; 3]) {
        let l2 = h[0] * h[0] + h[1] * h[1] + h[2] * h[2];
        if l2 == 0.0 {
            return;
        }
        for (d, x) in self.displacement.iter_mut().zip(h) {
            *d += x;
        }
        self.hops += 1;
        self.path_length += l2.sqrt();
        self.sum_sq_length += l2;
    }

    /// Squared displacement, Å^2.
    pub fn msd(&self) -> f64 {
        self.displacement.iter().map(|x| x * x).sum()
    }
}

/// One residence-time step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// The escape taken.
    pub escape: usize,
    /// Time spent in the state before leaving it, ps.
    pub dt: f64,
    /// The tracer's hop, Å (zero when it did not move).
    pub hop: [f64; 3],
}

/// Residence-time KMC driver of a [`Process`] with one tracer.
#[derive(Debug, Clone)]
pub struct Kmc<P> {
    /// The model; public so that callers can inspect its state between steps.
    pub process: P,
    /// Simulated time, ps.
    pub time: f64,
    /// Steps taken.
    pub steps: u64,
    /// The tracer's record.
    pub tracer: Tracer,
    rng: ChaCha8Rng,
    rates: Vec<f64>,
}

impl<P: Process> Kmc<P> {
    /// A driver at time zero whose random stream is `ChaCha8Rng::seed_from_u64(seed)`.
    pub fn new(process: P, seed: u64) -> Self {
        Kmc {
            process,
            time: 0.0,
            steps: 0,
            tracer: Tracer::default(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            rates: Vec::new(),
        }
    }

    /// Takes one step. Fails when the state has no escape or a rate is not a finite,
    /// non-negative number.
    pub fn step(&mut self) -> Result<Step> {
        self.process.rates(&mut self.rates);
        let mut total = 0.0;
        for &r in &self.rates {
            if !(r >= 0.0 && r.is_finite()) {
                return Err(Error::invalid(format!(
                    "KMC: escape rate {r} is not a finite non-negative number"
                )));
            }
            total += r;
        }
        if total <= 0.0 {
            return Err(Error::invalid(format!(
                "KMC: no escape from the current state ({} escapes, total rate {total}); the temperature may be too low for the barriers",
                self.rates.len()
            )));
        }
        let escape = select(&self.rates, total, self.rng.random::<f64>());
        let dt = residence_time(total, open_unit(&mut self.rng));
        let hop = self.process.take(escape);
        self.time += dt;
        self.steps += 1;
        self.tracer.record(hop);
        Ok(Step { escape, dt, hop })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_follows_the_cumulative_rates() {
        let r = [1.0, 0.0, 3.0];
        assert_eq!(select(&r, 4.0, 0.0), 0);
        assert_eq!(select(&r, 4.0, 0.2499), 0);
        assert_eq!(select(&r, 4.0, 0.25), 2);
        assert_eq!(select(&r, 4.0, 0.9999), 2);
        // A target at the total from round-off never returns a zero-rate escape.
        assert_eq!(select(&[1.0, 2.0, 0.0], 3.0, 1.0), 1);
    }

    /// Two states 0 and 1 on a line, rates a (0 -> 1, hop +1 Å) and b (1 -> 0, hop -1 Å).
    struct TwoState {
        at_one: bool,
        a: f64,
        b: f64,
    }

    impl Process for TwoState {
        fn rates(&mut self, rates: &mut Vec<f64>) {
            rates.clear();
            rates.push(if self.at_one { self.b } else { self.a });
        }
        fn take(&mut self, _: usize) -> [f64; 3] {
            self.at_one = !self.at_one;
            [if self.at_one { 1.0 } else { -1.0 }, 0.0, 0.0]
        }
    }

    #[test]
    fn residence_times_give_the_equilibrium_occupation() {
        // Time fraction in state 1 is a / (a + b) = 0.8; the mean residence times are 1/a, 1/b.
        let mut kmc = Kmc::new(
            TwoState {
                at_one: false,
                a: 4.0,
                b: 1.0,
            },
            11,
        );
        let (mut t1, n) = (0.0, 200_000);
        for _ in 0..n {
            let was_one = kmc.process.at_one;
            let s = kmc.step().unwrap();
            if was_one {
                t1 += s.dt;
            }
        }
        let frac = t1 / kmc.time;
        // 1e5 cycles of Exp(4) then Exp(1) residence: the delta method gives sigma = 7.2e-4.
        assert!((frac - 0.8).abs() < 0.003, "{frac}");
        assert_eq!(kmc.tracer.hops, n);
        assert!(kmc.tracer.msd() == 0.0 && kmc.tracer.sum_sq_length == n as f64);
    }

    #[test]
    fn a_state_without_escape_is_an_error() {
        let mut kmc = Kmc::new(
            TwoState {
                at_one: false,
                a: 0.0,
                b: 1.0,
            },
            1,
        );
        assert!(kmc.step().unwrap_err().to_string().contains("no escape"));
    }
}
