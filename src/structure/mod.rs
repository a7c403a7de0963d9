//! Atomic structures: a [`Cell`], species and positions, and the file formats that carry them.

pub mod build;
mod cell;
pub mod io;

pub use cell::Cell;
pub(crate) use cell::{norm2, sub};

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// An atomic configuration.
///
/// Species are element names (`"Cu"`, `"Zr"`); `types[i]` indexes `species` for atom `i`.
/// Positions are Cartesian (Å) and need not be wrapped into the cell: unwrapped coordinates
/// keep their continuity across a relaxation or a saddle search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Structure {
    pub cell: Cell,
    /// Distinct species names, in the order their type index refers to.
    pub species: Vec<String>,
    /// Species index of each atom.
    pub types: Vec<usize>,
    /// Cartesian positions, Å.
    pub positions: Vec<[f64; 3]>,
}

impl Structure {
    /// A structure, checked: as many types as positions, valid type indices, finite
    /// coordinates, at least one atom.
    pub fn new(cell: Cell, species: Vec<String>, types: Vec<usize>, positions: Vec<[f64; 3]>) -> Result<Self> {
        let s = Structure {
            cell,
            species,
            types,
            positions,
        };
        s.validate()?;
        Ok(s)
    }

    /// A structure from per-atom element names.
    pub fn from_symbols(cell: Cell, symbols: &[&str], positions: Vec<[f64; 3]>) -> Result<Self> {
        let mut species: Vec<String> = Vec::new();
        let mut types = Vec::with_capacity(symbols.len());
        for s in symbols {
            let t = match species.iter().position(|x| x == s) {
                Some(t) => t,
                None => {
                    species.push(s.to_string());
                    species.len() - 1
                }
            };
            types.push(t);
        }
        Structure::new(cell, species, types, positions)
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.positions.len()
    }
    /// Whether the structure holds no atom.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }
    /// Element name of atom `i`.
    pub fn symbol(&self, i: usize) -> &str {
        &self.species[self.types[i]]
    }

    /// Checks the invariants: at least one atom, consistent lengths, finite coordinates.
    pub fn validate(&self) -> Result<()> {
        if self.positions.is_empty() {
            return Err(Error::invalid("structure has no atoms"));
        }
        if self.types.len() != self.positions.len() {
            return Err(Error::invalid(format!(
                "structure has {} species entries for {} atoms",
                self.types.len(),
                self.positions.len()
            )));
        }
        if let Some((i, _)) = self.types.iter().enumerate().find(|(_, &t)| t >= self.species.len()) {
            return Err(Error::invalid(format!("atom {} has an undefined species index", i + 1)));
        }
        if let Some(i) = self.positions.iter().position(|p| p.iter().any(|x| !x.is_finite())) {
            return Err(Error::invalid(format!("atom {} has a non-finite coordinate", i + 1)));
        }
        Ok(())
    }

    /// Positions as one flat slice of 3N coordinates (x1, y1, z1, x2, ...).
    pub fn flat(&self) -> &[f64] {
        self.positions.as_flattened()
    }
    /// Mutable flat view of the positions.
    pub fn flat_mut(&mut self) -> &mut [f64] {
        self.positions.as_flattened_mut()
    }

    /// Minimum-image displacement of every atom from `other` (same atoms in the same order).
    pub fn displacements_from(&self, other: &Structure) -> Vec<[f64; 3]> {
        self.positions
            .iter()
            .zip(&other.positions)
            .map(|(a, b)| self.cell.minimum_image(sub(*a, *b)))
            .collect()
    }

    /// Largest minimum-image displacement of any atom from `other` (Å).
    pub fn max_displacement_from(&self, other: &Structure) -> f64 {
        self.displacements_from(other)
            .iter()
            .map(|d| norm2(*d))
            .fold(0.0, f64::max)
            .sqrt()
    }

    /// Checks that no two atoms sit closer than `rmin` Å (minimum image); returns the first
    /// offending pair (1-based indices) as an error. O(N) with a cell list.
    pub fn check_overlaps(&self, rmin: f64) -> Result<()> {
        if let Some((i, j, r)) = crate::potential::neighbor::closest_pair_below(self, rmin) {
            return Err(Error::invalid(format!(
                "atoms {} and {} are {:.3e} Å apart (closer than {} Å): duplicated atom?",
                i + 1,
                j + 1,
                r,
                rmin
            )));
        }
        Ok(())
    }

    /// SHA-256 of the structure's content (species, cell, positions at full precision), a
    /// stable identity recorded in catalogs so that `--resume` refuses a different structure.
    pub fn content_hash(&self) -> String {
        let mut bytes = Vec::with_capacity(self.len() * 32 + 128);
        for s in &self.species {
            bytes.extend_from_slice(s.as_bytes());
            bytes.push(0);
        }
        for t in &self.types {
            bytes.extend_from_slice(&(*t as u64).to_le_bytes());
        }
        for k in 0..3 {
            for x in self.cell.edge(k) {
                bytes.extend_from_slice(&x.to_le_bytes());
            }
            bytes.push(self.cell.pbc()[k] as u8);
        }
        for p in &self.positions {
            for x in p {
                bytes.extend_from_slice(&x.to_le_bytes());
            }
        }
        crate::provenance::sha256_hex(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_structure_is_rejected() {
        let c = Cell::orthorhombic(5.0, 5.0, 5.0).unwrap();
        let e = Structure::new(c, vec!["Cu".into()], vec![], vec![]).unwrap_err();
        assert!(e.to_string().contains("no atoms"), "{e}");
    }

    #[test]
    fn nan_coordinate_is_rejected() {
        let c = Cell::orthorhombic(5.0, 5.0, 5.0).unwrap();
        let e = Structure::from_symbols(c, &["Cu", "Cu"], vec![[0.0; 3], [1.0, f64::NAN, 0.0]]).unwrap_err();
        assert!(e.to_string().contains("atom 2"), "{e}");
    }

    #[test]
    fn overlapping_atoms_are_found_across_the_boundary() {
        let c = Cell::orthorhombic(5.0, 5.0, 5.0).unwrap();
        let s = Structure::from_symbols(
            c,
            &["Cu", "Cu", "Cu"],
            vec![[0.0; 3], [2.5, 2.5, 2.5], [4.99999, 0.0, 0.0]],
        )
        .unwrap();
        let e = s.check_overlaps(0.1).unwrap_err();
        assert!(e.to_string().contains("atoms 1 and 3"), "{e}");
        assert!(s.check_overlaps(1e-6).is_ok());
    }
}
