//! Limited-memory BFGS steps for forces that need not be a gradient: the NEB force of a band,
//! the min-mode (dimer) force of an ART saddle search. There is no energy to search along, so
//! the quasi-Newton step is taken as it is and capped by the caller (Nocedal, Math. Comp. 35,
//! 773 (1980); as a NEB optimizer: Sheppard, Terrell & Henkelman, J. Chem. Phys. 128, 134106
//! (2008); for min-mode following: Kästner & Sherwood, J. Chem. Phys. 128, 014106 (2008)).

use std::collections::VecDeque;

/// The L-BFGS history and the rule that drops it.
///
/// Pairs (s, y = F_old - F_new) with s · y ≤ 0 (no positive curvature seen) are skipped, and
/// the history is dropped when the step and the force make an angle above arccos(`min_cosine`):
/// for a force that is no gradient the inverse-Hessian estimate can turn steps far from it.
#[derive(Debug, Clone)]
pub struct LbfgsStepper {
    memory: usize,
    min_cosine: f64,
    initial_curvature: f64,
    s: VecDeque<Vec<f64>>,
    y: VecDeque<Vec<f64>>,
    /// Coordinates and force at the last step, for the next pair (their buffers become it).
    last: Option<(Vec<f64>, Vec<f64>)>,
}

impl LbfgsStepper {
    /// `memory` pairs at most; `initial_curvature` (eV/Å²) sets the first step and the step
    /// after a reset, F / `initial_curvature`.
    pub fn new(memory: usize, min_cosine: f64, initial_curvature: f64) -> Self {
        LbfgsStepper {
            memory: memory.max(1),
            min_cosine,
            initial_curvature,
            s: VecDeque::new(),
            y: VecDeque::new(),
            last: None,
        }
    }

    /// Forgets the history (the next step is F / `initial_curvature`).
    pub fn reset(&mut self) {
        self.s.clear();
        self.y.clear();
        self.last = None;
    }

    /// Number of pairs held.
    pub fn len(&self) -> usize {
        self.s.len()
    }

    /// Whether no pair is held.
    pub fn is_empty(&self) -> bool {
        self.s.is_empty()
    }

    /// The uncapped step d = H F from coordinates `x` with force `f`, H the inverse-Hessian
    /// estimate of the two-loop recursion scaled by s·y / y·y of the newest pair. Records
    /// (`x`, `f`) so that the next call can form a new pair.
    pub fn direction(&mut self, x: &[f64], f: &[f64]) -> Vec<f64> {
        // Buffers for the next `last`: the pair that leaves the history, when one does.
        let mut spare = None;
        if let Some((mut s, mut y)) = self.last.take() {
            // In place: s = x - x_old, y = f_old - f.
            s.iter_mut().zip(x).for_each(|(a, b)| *a = b - *a);
            y.iter_mut().zip(f).for_each(|(a, b)| *a -= b);
            if dot(&s, &y) > 0.0 {
                if self.s.len() == self.memory {
                    spare = self.s.pop_front().zip(self.y.pop_front());
                }
                self.s.push_back(s);
                self.y.push_back(y);
            } else {
                spare = Some((s, y));
            }
        }
        let mut d = f.to_vec();
        let k = self.s.len();
        let mut a = vec![0.0; k];
        for i in (0..k).rev() {
            a[i] = dot(&self.s[i], &d) / dot(&self.s[i], &self.y[i]);
            d.iter_mut().zip(&self.y[i]).for_each(|(q, y)| *q -= a[i] * y);
        }
        let gamma = match (self.s.back(), self.y.back()) {
            (Some(s), Some(y)) => dot(s, y) / dot(y, y),
            _ => 1.0 / self.initial_curvature,
        };
        d.iter_mut().for_each(|q| *q *= gamma);
        for i in 0..k {
            let b = dot(&self.y[i], &d) / dot(&self.s[i], &self.y[i]);
            d.iter_mut().zip(&self.s[i]).for_each(|(q, s)| *q += (a[i] - b) * s);
        }
        if dot(&d, f) <= self.min_cosine * dot(&d, &d).sqrt() * dot(f, f).sqrt() {
            self.s.clear();
            self.y.clear();
            d.iter_mut().zip(f).for_each(|(q, fi)| *q = fi / self.initial_curvature);
        }
        self.last = Some(match spare {
            Some((mut a, mut b)) if a.len() == x.len() && b.len() == f.len() => {
                a.copy_from_slice(x);
                b.copy_from_slice(f);
                (a, b)
            }
            _ => (x.to_vec(), f.to_vec()),
        });
        d
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Scales `d` so that no atom (3 consecutive coordinates) moves more than `max_step`; returns
/// the factor applied (1 when already within it).
pub fn cap_atom_step(d: &mut [f64], max_step: f64) -> f64 {
    let longest = d
        .chunks_exact(3)
        .map(|c| c[0] * c[0] + c[1] * c[1] + c[2] * c[2])
        .fold(0.0, f64::max)
        .sqrt();
    if longest > max_step {
        let k = max_step / longest;
        d.iter_mut().for_each(|q| *q *= k);
        k
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a quadratic bowl E = ½ Σ k_i x_i² the history recovers the curvatures: after a few
    /// steps the step from any point lands on the minimum.
    #[test]
    fn recovers_a_quadratic_minimum() {
        let k = [1.0, 4.0, 9.0, 2.0, 0.5, 3.0];
        let force = |x: &[f64]| -> Vec<f64> { x.iter().zip(&k).map(|(a, b)| -a * b).collect() };
        let mut x = vec![0.3, -0.2, 0.1, 0.25, -0.4, 0.05];
        let mut q = LbfgsStepper::new(10, 0.0, 10.0);
        for _ in 0..30 {
            let f = force(&x);
            let d = q.direction(&x, &f);
            x.iter_mut().zip(&d).for_each(|(a, b)| *a += b);
        }
        let r = x.iter().map(|a| a.abs()).fold(0.0, f64::max);
        assert!(r < 1e-10, "not at the minimum: {x:?}");
    }

    #[test]
    fn caps_the_longest_atom_step() {
        let mut d = vec![0.3, 0.4, 0.0, 0.01, 0.0, 0.0];
        let k = cap_atom_step(&mut d, 0.1);
        assert!((k - 0.2).abs() < 1e-15);
        assert!((d[0] - 0.06).abs() < 1e-15 && (d[1] - 0.08).abs() < 1e-15);
        let mut e = vec![0.01, 0.0, 0.0];
        assert_eq!(cap_atom_step(&mut e, 0.1), 1.0);
    }
}
