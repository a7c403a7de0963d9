//! Analytic test surfaces with known minima, saddles and Hessians, for testing minimizers and
//! saddle searches: the Müller-Brown surface, a symmetric double well, and a quadratic
//! [`Harmonic`] well (or saddle) with a prescribed Hessian.
//!
//! [`MullerBrown`] and [`DoubleWell`] are external fields: every atom feels the same surface of
//! its own coordinates, so a one-atom structure is a point on the surface. Energies and lengths
//! are in the surfaces' own units, read as eV and Å.

use super::{ForceField, Workspace};
use crate::structure::{Cell, Structure};
use crate::{Error, Result};
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

/// A one-atom structure (species "X") at `(x, y, z)` in an open box, the usual argument of the
/// external fields of this module. Errors if a coordinate is not finite.
pub fn point(x: f64, y: f64, z: f64) -> Result<Structure> {
    let p = vec![[x, y, z]];
    let cell = Cell::open_box(&p, 5.0)?;
    Structure::new(cell, vec!["X".into()], vec![0], p)
}

/// The Müller-Brown surface (Müller & Brown, Theor. Chim. Acta 53, 75 (1979)):
///
/// V(x, y) = Σ_k A_k exp[a_k (x - x0_k)² + b_k (x - x0_k)(y - y0_k) + c_k (y - y0_k)²]
///
/// with A = (-200, -100, -170, 15), a = (-1, -1, -6.5, 0.7), b = (0, 0, 11, 0.6),
/// c = (-10, -10, -6.5, 0.7), x0 = (1, 0, -0.5, -1), y0 = (0, 0.5, 1.5, 1). Each atom
/// contributes V of its (x, y); z neither adds energy nor feels a force.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MullerBrown;

impl MullerBrown {
    const A: [f64; 4] = [-200.0, -100.0, -170.0, 15.0];
    const AA: [f64; 4] = [-1.0, -1.0, -6.5, 0.7];
    const B: [f64; 4] = [0.0, 0.0, 11.0, 0.6];
    const C: [f64; 4] = [-10.0, -10.0, -6.5, 0.7];
    const X0: [f64; 4] = [1.0, 0.0, -0.5, -1.0];
    const Y0: [f64; 4] = [0.0, 0.5, 1.5, 1.0];

    /// The three minima A, B, C as (x, y, V) (`science.md` §10).
    pub const MINIMA: [(f64, f64, f64); 3] = [
        (-0.558224, 1.441726, -146.699517),
        (0.623499, 0.028038, -108.166724),
        (-0.050011, 0.466694, -80.767818),
    ];
    /// The two saddles S1 (between A and C) and S2 (between C and B) as (x, y, V).
    pub const SADDLES: [(f64, f64, f64); 2] = [(-0.822002, 0.624313, -40.664844), (0.212487, 0.292988, -72.248940)];

    /// V and its gradient (dV/dx, dV/dy) at (x, y).
    pub fn value_gradient(x: f64, y: f64) -> (f64, [f64; 2]) {
        let mut v = 0.0;
        let mut g = [0.0; 2];
        for k in 0..4 {
            let (dx, dy) = (x - Self::X0[k], y - Self::Y0[k]);
            let t = Self::A[k] * (Self::AA[k] * dx * dx + Self::B[k] * dx * dy + Self::C[k] * dy * dy).exp();
            v += t;
            g[0] += t * (2.0 * Self::AA[k] * dx + Self::B[k] * dy);
            g[1] += t * (Self::B[k] * dx + 2.0 * Self::C[k] * dy);
        }
        (v, g)
    }

    /// The Hessian [[V_xx, V_xy], [V_xy, V_yy]] at (x, y).
    pub fn hessian(x: f64, y: f64) -> [[f64; 2]; 2] {
        let mut h = [[0.0; 2]; 2];
        for k in 0..4 {
            let (dx, dy) = (x - Self::X0[k], y - Self::Y0[k]);
            let t = Self::A[k] * (Self::AA[k] * dx * dx + Self::B[k] * dx * dy + Self::C[k] * dy * dy).exp();
            let gx = 2.0 * Self::AA[k] * dx + Self::B[k] * dy;
            let gy = Self::B[k] * dx + 2.0 * Self::C[k] * dy;
            h[0][0] += t * (gx * gx + 2.0 * Self::AA[k]);
            h[0][1] += t * (gx * gy + Self::B[k]);
            h[1][1] += t * (gy * gy + 2.0 * Self::C[k]);
        }
        h[1][0] = h[0][1];
        h
    }
}

/// Shared evaluation of a per-atom external field `v(x) -> (energy, gradient)`.
fn external_field(
    s: &Structure,
    forces: &mut [[f64; 3]],
    mut per_atom: Option<&mut [f64]>,
    v: impl Fn([f64; 3]) -> (f64, [f64; 3]),
) -> f64 {
    let mut e = 0.0;
    for (i, p) in s.positions.iter().enumerate() {
        let (ei, g) = v(*p);
        forces[i] = [-g[0], -g[1], -g[2]];
        if let Some(pa) = per_atom.as_deref_mut() {
            pa[i] = ei;
        }
        e += ei;
    }
    e
}

impl ForceField for MullerBrown {
    fn describe(&self) -> String {
        "Müller-Brown surface".into()
    }
    fn cutoff(&self) -> f64 {
        0.0
    }
    fn elements(&self) -> Vec<String> {
        Vec::new()
    }
    fn compute(
        &self,
        s: &Structure,
        _species_map: &[usize],
        _ws: &mut Workspace,
        forces: &mut [[f64; 3]],
        per_atom: Option<&mut [f64]>,
    ) -> Result<f64> {
        Ok(external_field(s, forces, per_atom, |p| {
            let (v, g) = MullerBrown::value_gradient(p[0], p[1]);
            (v, [g[0], g[1], 0.0])
        }))
    }
}

/// A symmetric double well along x with harmonic confinement across it:
///
/// V = h [(x/w)² - 1]² + ½ k (y² + z²).
///
/// Minima at (±w, 0, 0) with V = 0 and Hessian diag(8h/w², k, k); a first-order saddle at the
/// origin with V = h and Hessian diag(-4h/w², k, k).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoubleWell {
    /// Barrier height h (eV).
    pub barrier: f64,
    /// Half distance w between the minima (Å).
    pub half_width: f64,
    /// Transverse curvature k (eV/Å²).
    pub transverse: f64,
}

impl DoubleWell {
    /// A double well with barrier `barrier` (eV), minima at x = ±`half_width` (Å) and
    /// transverse curvature `transverse` (eV/Å²).
    pub fn new(barrier: f64, half_width: f64, transverse: f64) -> Result<Self> {
        let ok = |v: f64| v.is_finite() && v > 0.0;
        if !(ok(barrier) && ok(half_width) && ok(transverse)) {
            return Err(Error::invalid(
                "double well: barrier, half width and curvature must be positive",
            ));
        }
        Ok(DoubleWell {
            barrier,
            half_width,
            transverse,
        })
    }
}

impl ForceField for DoubleWell {
    fn describe(&self) -> String {
        format!(
            "double well (barrier {} eV, half width {} Å, transverse {} eV/Å^2)",
            self.barrier, self.half_width, self.transverse
        )
    }
    fn cutoff(&self) -> f64 {
        0.0
    }
    fn elements(&self) -> Vec<String> {
        Vec::new()
    }
    fn compute(
        &self,
        s: &Structure,
        _species_map: &[usize],
        _ws: &mut Workspace,
        forces: &mut [[f64; 3]],
        per_atom: Option<&mut [f64]>,
    ) -> Result<f64> {
        let (h, w, k) = (self.barrier, self.half_width, self.transverse);
        Ok(external_field(s, forces, per_atom, |p| {
            let u = (p[0] / w).powi(2) - 1.0;
            let v = h * u * u + 0.5 * k * (p[1] * p[1] + p[2] * p[2]);
            (v, [4.0 * h * u * p[0] / (w * w), k * p[1], k * p[2]])
        }))
    }
}

/// A quadratic surface in all 3N coordinates: E = ½ (x - x0)ᵀ H (x - x0), with x the flat
/// positions (x1, y1, z1, x2, ...). With a positive definite H it is a well, with one negative
/// eigenvalue a first-order saddle; either way its spectrum is known exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Harmonic {
    center: DVector<f64>,
    hessian: DMatrix<f64>,
}

impl Harmonic {
    /// A quadratic surface centred at `center` with the symmetric 3N × 3N `hessian` (eV/Å²).
    pub fn new(center: &[[f64; 3]], hessian: DMatrix<f64>) -> Result<Self> {
        let n = 3 * center.len();
        if n == 0 || hessian.nrows() != n || hessian.ncols() != n {
            return Err(Error::invalid(format!(
                "harmonic surface: the Hessian is {}x{} for {} coordinates",
                hessian.nrows(),
                hessian.ncols(),
                n
            )));
        }
        if hessian.iter().chain(center.as_flattened()).any(|x| !x.is_finite()) {
            return Err(Error::invalid("harmonic surface: non-finite centre or Hessian"));
        }
        let scale = hessian.abs().max();
        if (0..n).any(|i| (0..i).any(|j| (hessian[(i, j)] - hessian[(j, i)]).abs() > 1e-12 * scale)) {
            return Err(Error::invalid("harmonic surface: the Hessian is not symmetric"));
        }
        Ok(Harmonic {
            center: DVector::from_column_slice(center.as_flattened()),
            hessian,
        })
    }

    /// A surface with the given `eigenvalues` (3N of them, eV/Å²) along eigenvectors that are
    /// the columns of a random orthogonal matrix drawn from `seed`.
    pub fn from_spectrum(center: &[[f64; 3]], eigenvalues: &[f64], seed: u64) -> Result<Self> {
        let n = 3 * center.len();
        if eigenvalues.len() != n {
            return Err(Error::invalid(format!(
                "harmonic surface: {} eigenvalues for {} coordinates",
                eigenvalues.len(),
                n
            )));
        }
        let q = random_orthogonal(n, seed);
        let h = &q * DMatrix::from_diagonal(&DVector::from_column_slice(eigenvalues)) * q.transpose();
        // Symmetrise away the rounding of the product.
        let h = 0.5 * (&h + h.transpose());
        Harmonic::new(center, h)
    }

    /// The Hessian (eV/Å²).
    pub fn hessian(&self) -> &DMatrix<f64> {
        &self.hessian
    }
    /// The stationary point as flat coordinates (Å).
    pub fn center(&self) -> &DVector<f64> {
        &self.center
    }
}

/// A random orthogonal n × n matrix: the Q factor of a Gaussian matrix, signs fixed so that
/// the distribution is uniform (Haar).
pub(crate) fn random_orthogonal(n: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let g = DMatrix::from_fn(n, n, |_, _| StandardNormal.sample(&mut rng));
    let qr = g.qr();
    let mut q = qr.q();
    let r = qr.r();
    for j in 0..n {
        if r[(j, j)] < 0.0 {
            q.column_mut(j).neg_mut();
        }
    }
    q
}

impl ForceField for Harmonic {
    fn describe(&self) -> String {
        format!("harmonic surface in {} coordinates", self.center.len())
    }
    fn cutoff(&self) -> f64 {
        0.0
    }
    fn elements(&self) -> Vec<String> {
        Vec::new()
    }
    fn compute(
        &self,
        s: &Structure,
        _species_map: &[usize],
        _ws: &mut Workspace,
        forces: &mut [[f64; 3]],
        per_atom: Option<&mut [f64]>,
    ) -> Result<f64> {
        let n = self.center.len();
        if 3 * s.len() != n {
            return Err(Error::Potential(format!(
                "harmonic surface defined for {} atoms, structure has {}",
                n / 3,
                s.len()
            )));
        }
        let dx = DVector::from_column_slice(s.flat()) - &self.center;
        let g = &self.hessian * &dx;
        for (i, f) in forces.iter_mut().enumerate() {
            *f = [-g[3 * i], -g[3 * i + 1], -g[3 * i + 2]];
        }
        if let Some(pa) = per_atom {
            for (i, e) in pa.iter_mut().enumerate() {
                *e = 0.5 * (0..3).map(|k| dx[3 * i + k] * g[3 * i + k]).sum::<f64>();
            }
        }
        Ok(0.5 * dx.dot(&g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::conformance::{check_force_field, ConformanceOptions};
    use crate::potential::Calculator;
    use std::sync::Arc;

    #[test]
    fn muller_brown_reproduces_the_published_stationary_points() {
        // Coordinates are given to 1e-6, so V agrees to ~1e-6 times the gradient scale, and the
        // gradient vanishes to the curvature times 1e-6.
        for &(x, y, v) in MullerBrown::MINIMA.iter().chain(&MullerBrown::SADDLES) {
            let (val, g) = MullerBrown::value_gradient(x, y);
            assert!((val - v).abs() < 2e-6, "V({x}, {y}) = {val}, expected {v}");
            assert!(g[0].abs() < 5e-3 && g[1].abs() < 5e-3, "gradient at ({x}, {y}) = {g:?}");
        }
        let index = |x: f64, y: f64| {
            let h = MullerBrown::hessian(x, y);
            let (tr, det) = (h[0][0] + h[1][1], h[0][0] * h[1][1] - h[0][1] * h[1][0]);
            (tr, det)
        };
        for &(x, y, _) in &MullerBrown::MINIMA {
            let (tr, det) = index(x, y);
            assert!(det > 0.0 && tr > 0.0, "minimum ({x}, {y}) is not positive definite");
        }
        for &(x, y, _) in &MullerBrown::SADDLES {
            assert!(index(x, y).1 < 0.0, "saddle ({x}, {y}) has no negative eigenvalue");
        }
    }

    #[test]
    fn muller_brown_hessian_matches_differences_of_the_gradient() {
        let (x, y, h) = (-0.3, 0.9, 1e-6);
        let hs = MullerBrown::hessian(x, y);
        let g = |x, y| MullerBrown::value_gradient(x, y).1;
        let (gxp, gxm, gyp, gym) = (g(x + h, y), g(x - h, y), g(x, y + h), g(x, y - h));
        for k in 0..2 {
            let dx = (gxp[k] - gxm[k]) / (2.0 * h);
            let dy = (gyp[k] - gym[k]) / (2.0 * h);
            assert!(
                (dx - hs[0][k]).abs() < 1e-5 * hs[0][k].abs().max(1.0),
                "{dx} vs {}",
                hs[0][k]
            );
            assert!(
                (dy - hs[1][k]).abs() < 1e-5 * hs[1][k].abs().max(1.0),
                "{dy} vs {}",
                hs[1][k]
            );
        }
    }

    #[test]
    fn conformance_muller_brown() {
        let opts = ConformanceOptions::default().external_field();
        for (x, y) in [(-0.822, 0.624), (0.3, 0.9), (-1.2, 1.7)] {
            check_force_field(Arc::new(MullerBrown), &point(x, y, 0.37).unwrap(), &opts)
                .unwrap()
                .assert_passed();
        }
    }

    #[test]
    fn double_well_stationary_points_and_conformance() {
        let dw = DoubleWell::new(0.5, 1.2, 3.0).unwrap();
        let mut c = Calculator::new(Arc::new(dw));
        let (e, f) = c.energy_forces(&point(1.2, 0.0, 0.0).unwrap()).unwrap();
        assert!(e.abs() < 1e-15 && f[0].iter().all(|x| x.abs() < 1e-15));
        let (e, f) = c.energy_forces(&point(0.0, 0.0, 0.0).unwrap()).unwrap();
        assert!((e - 0.5).abs() < 1e-15 && f[0].iter().all(|x| x.abs() < 1e-15));
        // The curvature along x at the saddle is -4h/w² (second difference of V).
        let h = 1e-4;
        let ep = c.energy_forces(&point(h, 0.0, 0.0).unwrap()).unwrap().0;
        let em = c.energy_forces(&point(-h, 0.0, 0.0).unwrap()).unwrap().0;
        let curv = (ep + em - 2.0 * 0.5) / (h * h);
        assert!((curv + 4.0 * 0.5 / 1.44).abs() < 1e-5, "{curv}");
        let opts = ConformanceOptions::default().external_field();
        check_force_field(Arc::new(dw), &point(0.4, -0.3, 0.2).unwrap(), &opts)
            .unwrap()
            .assert_passed();
        assert!(DoubleWell::new(0.0, 1.0, 1.0).is_err());
    }

    #[test]
    fn harmonic_has_the_prescribed_spectrum_and_passes_conformance() {
        let center = [[0.1, 0.2, 0.3], [1.5, -0.4, 0.0]];
        let eig = [-0.7, 0.5, 1.0, 2.0, 3.0, 8.0];
        let hm = Harmonic::from_spectrum(&center, &eig, 5).unwrap();
        let mut got: Vec<f64> = hm.hessian().clone().symmetric_eigenvalues().iter().copied().collect();
        got.sort_by(f64::total_cmp);
        for (a, b) in got.iter().zip(&eig) {
            assert!((a - b).abs() < 1e-12, "{got:?}");
        }
        let positions = vec![[0.3, 0.1, 0.2], [1.2, -0.5, 0.4]];
        let s = Structure::new(
            Cell::open_box(&positions, 3.0).unwrap(),
            vec!["X".into()],
            vec![0, 0],
            positions,
        )
        .unwrap();
        let opts = ConformanceOptions::default().external_field();
        check_force_field(Arc::new(hm.clone()), &s, &opts)
            .unwrap()
            .assert_passed();
        // Energy at the centre is zero; the wrong atom count is an error.
        let s0 = Structure::new(
            Cell::open_box(&center, 3.0).unwrap(),
            vec!["X".into()],
            vec![0, 0],
            center.to_vec(),
        )
        .unwrap();
        assert!(
            Calculator::new(Arc::new(hm.clone()))
                .energy_forces(&s0)
                .unwrap()
                .0
                .abs()
                < 1e-15
        );
        let err = Calculator::new(Arc::new(hm))
            .energy_forces(&point(0.0, 0.0, 0.0).unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("defined for 2 atoms"), "{err}");
        let err = Harmonic::new(&center, DMatrix::from_fn(6, 6, |i, j| (i + 2 * j) as f64)).unwrap_err();
        assert!(err.to_string().contains("not symmetric"), "{err}");
    }
}
