//! Periodic simulation cells: orthorhombic or triclinic, periodic or not along each axis.

use crate::{Error, Result};
use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};

/// A simulation cell: three edge vectors (the columns of `h`, Å), an origin (the LAMMPS
/// `boxlo`, Å) and a periodicity flag per axis.
///
/// LAMMPS orients triclinic boxes as a = (lx, 0, 0), b = (xy, ly, 0), c = (xz, yz, lz); pelx
/// accepts any right-handed cell and keeps the LAMMPS form when the file came from LAMMPS.
/// Along a non-periodic axis the edge only sets the box drawn around the atoms (a slab with
/// vacuum along z has `pbc = [true, true, false]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    h: Matrix3<f64>,
    h_inv: Matrix3<f64>,
    origin: Vector3<f64>,
    pbc: [bool; 3],
}

impl Cell {
    /// A cell from its edge vectors `a`, `b`, `c` (Å), origin and periodicity.
    pub fn new(a: [f64; 3], b: [f64; 3], c: [f64; 3], origin: [f64; 3], pbc: [bool; 3]) -> Result<Self> {
        let h = Matrix3::from_columns(&[Vector3::from(a), Vector3::from(b), Vector3::from(c)]);
        if h.iter().any(|x| !x.is_finite()) || origin.iter().any(|x| !x.is_finite()) {
            return Err(Error::invalid("cell has non-finite edge vectors or origin"));
        }
        let det = h.determinant();
        if det.abs() < 1e-12 {
            return Err(Error::invalid(format!("cell is degenerate (volume {det:.3e} Å^3)")));
        }
        let h_inv = h
            .try_inverse()
            .ok_or_else(|| Error::invalid("cell matrix is singular"))?;
        Ok(Cell {
            h,
            h_inv,
            origin: Vector3::from(origin),
            pbc,
        })
    }

    /// An orthorhombic periodic box with edges `lx`, `ly`, `lz` (Å) and origin 0.
    pub fn orthorhombic(lx: f64, ly: f64, lz: f64) -> Result<Self> {
        Cell::new([lx, 0.0, 0.0], [0.0, ly, 0.0], [0.0, 0.0, lz], [0.0; 3], [true; 3])
    }

    /// A LAMMPS box: bounds lo/hi per axis and tilt factors xy, xz, yz.
    pub fn from_lammps(lo: [f64; 3], hi: [f64; 3], tilt: [f64; 3], pbc: [bool; 3]) -> Result<Self> {
        let [xy, xz, yz] = tilt;
        Cell::new(
            [hi[0] - lo[0], 0.0, 0.0],
            [xy, hi[1] - lo[1], 0.0],
            [xz, yz, hi[2] - lo[2]],
            lo,
            pbc,
        )
    }

    /// A box that is non-periodic in every direction, large enough to hold `positions` with
    /// `margin` Å of vacuum on each side (for molecules, clusters and 2D test surfaces).
    pub fn open_box(positions: &[[f64; 3]], margin: f64) -> Result<Self> {
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for p in positions {
            for k in 0..3 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        if positions.is_empty() {
            lo = [0.0; 3];
            hi = [0.0; 3];
        }
        let l: Vec<f64> = (0..3).map(|k| hi[k] - lo[k] + 2.0 * margin.max(0.5)).collect();
        Cell::new(
            [l[0], 0.0, 0.0],
            [0.0, l[1], 0.0],
            [0.0, 0.0, l[2]],
            [
                lo[0] - margin.max(0.5),
                lo[1] - margin.max(0.5),
                lo[2] - margin.max(0.5),
            ],
            [false; 3],
        )
    }

    /// The cell matrix with the edge vectors as columns (Å).
    pub fn matrix(&self) -> &Matrix3<f64> {
        &self.h
    }
    /// Edge vector `k` (0 = a, 1 = b, 2 = c).
    pub fn edge(&self, k: usize) -> [f64; 3] {
        let c = self.h.column(k);
        [c[0], c[1], c[2]]
    }
    /// The origin (LAMMPS boxlo), Å.
    pub fn origin(&self) -> [f64; 3] {
        [self.origin.x, self.origin.y, self.origin.z]
    }
    /// Periodicity per axis.
    pub fn pbc(&self) -> [bool; 3] {
        self.pbc
    }
    /// Whether any axis is periodic.
    pub fn any_periodic(&self) -> bool {
        self.pbc.iter().any(|&p| p)
    }
    /// Volume, Å^3.
    pub fn volume(&self) -> f64 {
        self.h.determinant().abs()
    }
    /// Distance between the two faces of the cell normal to edge `k` (Å): the width that
    /// decides how many periodic images a cutoff reaches.
    pub fn perpendicular_width(&self, k: usize) -> f64 {
        let a = self.h.column((k + 1) % 3).into_owned();
        let b = self.h.column((k + 2) % 3).into_owned();
        self.volume() / a.cross(&b).norm()
    }
    /// Whether the cell has the LAMMPS orientation (a along x, b in the xy plane).
    pub fn is_lammps_oriented(&self) -> bool {
        let h = &self.h;
        let scale = h.abs().max();
        h[(1, 0)].abs() <= 1e-12 * scale
            && h[(2, 0)].abs() <= 1e-12 * scale
            && h[(2, 1)].abs() <= 1e-12 * scale
            && h[(0, 0)] > 0.0
            && h[(1, 1)] > 0.0
            && h[(2, 2)] > 0.0
    }
    /// Whether the cell is orthorhombic and axis-aligned.
    pub fn is_orthorhombic(&self) -> bool {
        let h = &self.h;
        let scale = h.abs().max();
        (0..3).all(|i| (0..3).all(|j| i == j || h[(i, j)].abs() <= 1e-12 * scale))
    }
    /// LAMMPS box description: (lo, hi, [xy, xz, yz]). Only meaningful for LAMMPS-oriented cells.
    pub fn lammps_bounds(&self) -> ([f64; 3], [f64; 3], [f64; 3]) {
        let o = self.origin();
        let h = &self.h;
        (
            o,
            [o[0] + h[(0, 0)], o[1] + h[(1, 1)], o[2] + h[(2, 2)]],
            [h[(0, 1)], h[(0, 2)], h[(1, 2)]],
        )
    }

    /// Fractional coordinates of a Cartesian point (relative to the origin).
    #[inline]
    pub fn fractional(&self, x: [f64; 3]) -> [f64; 3] {
        let s = self.h_inv * (Vector3::from(x) - self.origin);
        [s.x, s.y, s.z]
    }
    /// Cartesian point of fractional coordinates.
    #[inline]
    pub fn cartesian(&self, s: [f64; 3]) -> [f64; 3] {
        let x = self.h * Vector3::from(s) + self.origin;
        [x.x, x.y, x.z]
    }
    /// Cartesian vector of a fractional displacement (no origin).
    #[inline]
    pub fn frac_to_vector(&self, s: [f64; 3]) -> [f64; 3] {
        let x = self.h * Vector3::from(s);
        [x.x, x.y, x.z]
    }
    /// Fractional components of a Cartesian displacement (no origin).
    #[inline]
    pub fn vector_to_frac(&self, d: [f64; 3]) -> [f64; 3] {
        let s = self.h_inv * Vector3::from(d);
        [s.x, s.y, s.z]
    }

    /// The point `x` mapped into the cell along periodic axes, with the integer image it came
    /// from (x = wrapped + image · edges).
    pub fn wrap_with_image(&self, x: [f64; 3]) -> ([f64; 3], [i64; 3]) {
        let mut s = self.fractional(x);
        let mut img = [0i64; 3];
        for k in 0..3 {
            if self.pbc[k] {
                let f = s[k].floor();
                s[k] -= f;
                if s[k] >= 1.0 {
                    // floor rounding on values like -1e-17
                    s[k] -= 1.0;
                    img[k] += 1;
                }
                img[k] += f as i64;
            }
        }
        (self.cartesian(s), img)
    }
    /// The point `x` mapped into the cell along periodic axes.
    pub fn wrap(&self, x: [f64; 3]) -> [f64; 3] {
        self.wrap_with_image(x).0
    }

    /// The shortest periodic image of the displacement `d` (Å), exact for any cell shape
    /// (the fractional reduction is followed by a search over the neighbouring images).
    pub fn minimum_image(&self, d: [f64; 3]) -> [f64; 3] {
        if !self.any_periodic() {
            return d;
        }
        let mut s = self.vector_to_frac(d);
        for k in 0..3 {
            if self.pbc[k] {
                s[k] -= s[k].round();
            }
        }
        let base = self.frac_to_vector(s);
        if self.is_orthorhombic() {
            return base;
        }
        let mut best = base;
        let mut best_r2 = norm2(base);
        let range = |k: usize| if self.pbc[k] { -1..=1 } else { 0..=0 };
        for i in range(0) {
            for j in range(1) {
                for l in range(2) {
                    if i == 0 && j == 0 && l == 0 {
                        continue;
                    }
                    let shift = self.frac_to_vector([i as f64, j as f64, l as f64]);
                    let c = [base[0] + shift[0], base[1] + shift[1], base[2] + shift[2]];
                    let r2 = norm2(c);
                    if r2 < best_r2 {
                        best_r2 = r2;
                        best = c;
                    }
                }
            }
        }
        best
    }

    /// Minimum-image distance between two points (Å).
    pub fn distance(&self, a: [f64; 3], b: [f64; 3]) -> f64 {
        norm2(self.minimum_image(sub(b, a))).sqrt()
    }
}

#[inline]
pub(crate) fn norm2(a: [f64; 3]) -> f64 {
    a[0] * a[0] + a[1] * a[1] + a[2] * a[2]
}
#[inline]
pub(crate) fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_and_minimum_image_orthorhombic() {
        let c = Cell::orthorhombic(10.0, 12.0, 14.0).unwrap();
        let (w, img) = c.wrap_with_image([-1.0, 25.0, 7.0]);
        assert!((w[0] - 9.0).abs() < 1e-12 && (w[1] - 1.0).abs() < 1e-12);
        assert_eq!(img, [-1, 2, 0]);
        let d = c.minimum_image([9.0, -7.0, 6.0]);
        assert!((d[0] + 1.0).abs() < 1e-12 && (d[1] - 5.0).abs() < 1e-12 && (d[2] - 6.0).abs() < 1e-12);
    }

    #[test]
    fn minimum_image_triclinic_is_shortest() {
        // A strongly tilted cell where fractional rounding alone is not enough.
        let c = Cell::new([10.0, 0.0, 0.0], [7.0, 8.0, 0.0], [3.0, 2.0, 9.0], [0.0; 3], [true; 3]).unwrap();
        let d = [4.0, 5.0, 1.0];
        let m = c.minimum_image(d);
        let r = norm2(m).sqrt();
        // brute force over many images
        let mut best = f64::INFINITY;
        for i in -3..=3 {
            for j in -3..=3 {
                for k in -3..=3 {
                    let s = c.frac_to_vector([i as f64, j as f64, k as f64]);
                    best = best.min(norm2([d[0] + s[0], d[1] + s[1], d[2] + s[2]]).sqrt());
                }
            }
        }
        assert!((r - best).abs() < 1e-12, "{r} vs {best}");
    }

    #[test]
    fn non_periodic_axis_is_left_alone() {
        let c = Cell::new(
            [10.0, 0.0, 0.0],
            [0.0, 10.0, 0.0],
            [0.0, 0.0, 10.0],
            [0.0; 3],
            [true, true, false],
        )
        .unwrap();
        let d = c.minimum_image([6.0, 0.0, 8.0]);
        assert!(
            (d[0] + 4.0).abs() < 1e-12 && d[1].abs() < 1e-12 && (d[2] - 8.0).abs() < 1e-12,
            "{d:?}"
        );
        let w = c.wrap([11.0, 1.0, 25.0]);
        assert!((w[0] - 1.0).abs() < 1e-12 && (w[1] - 1.0).abs() < 1e-12 && (w[2] - 25.0).abs() < 1e-12);
    }

    #[test]
    fn perpendicular_width_of_tilted_cell() {
        let c = Cell::new(
            [10.0, 0.0, 0.0],
            [5.0, 10.0, 0.0],
            [0.0, 0.0, 10.0],
            [0.0; 3],
            [true; 3],
        )
        .unwrap();
        // Faces normal to a are planes spanned by b and c: distance = V / |b x c|.
        assert!((c.perpendicular_width(0) - 1000.0 / (125.0f64).sqrt() / 10.0).abs() < 1e-12);
        assert!((c.perpendicular_width(1) - 10.0).abs() < 1e-12);
    }

    #[test]
    fn degenerate_cell_is_an_error() {
        assert!(Cell::new([1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0; 3], [true; 3]).is_err());
    }
}
