//! Builders for crystalline test structures (fcc, bcc, simple cubic) in LAMMPS orientation.

use super::{Cell, Structure};
use crate::Result;

/// Lattice types known to the builders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lattice {
    /// Face-centred cubic, 4 atoms per conventional cell.
    Fcc,
    /// Body-centred cubic, 2 atoms per conventional cell.
    Bcc,
    /// Simple cubic, 1 atom per cell.
    Sc,
}

impl Lattice {
    fn basis(self) -> &'static [[f64; 3]] {
        match self {
            Lattice::Fcc => &[[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]],
            Lattice::Bcc => &[[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]],
            Lattice::Sc => &[[0.0, 0.0, 0.0]],
        }
    }
}

/// A periodic cubic crystal of `element` with conventional lattice constant `a` (Å),
/// replicated `n` times along x, y, z. Atoms are ordered cell by cell, basis atom last.
pub fn cubic(lattice: Lattice, element: &str, a: f64, n: [usize; 3]) -> Result<Structure> {
    let cell = Cell::orthorhombic(a * n[0] as f64, a * n[1] as f64, a * n[2] as f64)?;
    let mut pos = Vec::new();
    for i in 0..n[0] {
        for j in 0..n[1] {
            for k in 0..n[2] {
                for b in lattice.basis() {
                    pos.push([a * (i as f64 + b[0]), a * (j as f64 + b[1]), a * (k as f64 + b[2])]);
                }
            }
        }
    }
    let nat = pos.len();
    Structure::new(cell, vec![element.to_string()], vec![0; nat], pos)
}

/// Removes atom `index` (a vacancy), keeping the order of the others.
pub fn with_vacancy(s: &Structure, index: usize) -> Result<Structure> {
    let mut t = s.clone();
    t.positions.remove(index);
    t.types.remove(index);
    t.validate()?;
    Ok(t)
}

/// The structure repeated `n[k]` times along each cell edge k (a periodic supercell), atoms
/// ordered image by image. Only periodic axes can be repeated: `n[k]` must be 1 along an open
/// one.
pub fn replicate(s: &Structure, n: [usize; 3]) -> Result<Structure> {
    if n.contains(&0) {
        return Err(crate::Error::invalid("replication counts must be at least 1"));
    }
    if let Some(k) = (0..3).find(|&k| n[k] > 1 && !s.cell.pbc()[k]) {
        return Err(crate::Error::invalid(format!(
            "cannot replicate along cell edge {k}: it is not periodic"
        )));
    }
    let mut pos = Vec::with_capacity(s.len() * n[0] * n[1] * n[2]);
    let mut types = Vec::with_capacity(pos.capacity());
    for a in 0..n[0] {
        for b in 0..n[1] {
            for c in 0..n[2] {
                let sh = s.cell.frac_to_vector([a as f64, b as f64, c as f64]);
                for (p, t) in s.positions.iter().zip(&s.types) {
                    pos.push([p[0] + sh[0], p[1] + sh[1], p[2] + sh[2]]);
                    types.push(*t);
                }
            }
        }
    }
    let e = |k: usize| {
        let v = s.cell.edge(k);
        let f = n[k] as f64;
        [v[0] * f, v[1] * f, v[2] * f]
    };
    let cell = Cell::new(e(0), e(1), e(2), s.cell.origin(), s.cell.pbc())?;
    Structure::new(cell, s.species.clone(), types, pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_has_the_same_energy_per_atom_geometry() {
        let s = cubic(Lattice::Fcc, "Cu", 3.6, [2, 2, 2]).unwrap();
        let r = replicate(&s, [2, 1, 3]).unwrap();
        assert_eq!(r.len(), s.len() * 6);
        assert!((r.cell.volume() - 6.0 * s.cell.volume()).abs() < 1e-9);
        let big = cubic(Lattice::Fcc, "Cu", 3.6, [4, 2, 6]).unwrap();
        // Same set of points (order differs).
        let key = |p: &[f64; 3]| {
            (
                (p[0] * 1e6).round() as i64,
                (p[1] * 1e6).round() as i64,
                (p[2] * 1e6).round() as i64,
            )
        };
        let mut a: Vec<_> = r.positions.iter().map(key).collect();
        let mut b: Vec<_> = big.positions.iter().map(key).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn replicate_copies_every_atom_along_periodic_axes_only() {
        let cell = Cell::new(
            [3.0, 0.0, 0.0],
            [1.0, 3.0, 0.0],
            [0.0, 0.0, 3.0],
            [0.0; 3],
            [true, true, false],
        )
        .unwrap();
        let s = Structure::from_symbols(cell, &["Cu", "Zr"], vec![[0.1, 0.2, 0.3], [1.5, 1.5, 1.5]]).unwrap();
        let big = replicate(&s, [2, 3, 1]).unwrap();
        assert_eq!(big.len(), 12);
        assert_eq!(big.cell.edge(1), [3.0, 9.0, 0.0]);
        assert_eq!(big.cell.edge(2), [0.0, 0.0, 3.0]);
        assert_eq!(big.positions[2], [1.1, 3.2, 0.3]);
        assert_eq!(big.symbol(3), "Zr");
        let err = replicate(&s, [2, 3, 4]).unwrap_err().to_string();
        assert!(err.contains("edge 2") && err.contains("not periodic"), "{err}");
        assert!(replicate(&s, [0, 1, 1]).is_err());
    }
}
