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
                    pos.push([
                        a * (i as f64 + b[0]),
                        a * (j as f64 + b[1]),
                        a * (k as f64 + b[2]),
                    ]);
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
