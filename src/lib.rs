//! # pelx: a potential-energy-landscape explorer for glasses
//!
//! pelx turns a configuration and an interatomic potential into the physics of thermally
//! activated hops between minima: saddle searches (ART nouveau with Lanczos, climbing-image NEB),
//! event catalogs, barrier-asymmetry distributions, the Fan-Iwashita-Egami inherent-structure
//! energy model and kinetic Monte Carlo estimates of the diffusion correlation factor.
//!
//! ## Module map (the data flows down this list)
//! | module | what lives there |
//! |---|---|
//! | [`structure`] | [`structure::Cell`] (periodic, triclinic, per-axis periodicity), [`structure::Structure`], file formats (extended XYZ, LAMMPS data and dump) |
//! | [`potential`] | the [`potential::ForceField`] trait, EAM (funcfl/setfl/fs, identical to LAMMPS), Lennard-Jones, analytic 2D surfaces, neighbour lists |
//! | [`minimize`] | FIRE and the argmin-backed L-BFGS and CG, one [`minimize::Minimizer`] interface with an fmax stop |
//! | [`saddle`] | Lanczos, ART nouveau, climbing-image NEB |
//! | [`catalog`] | events, the JSON-lines catalog, merging and statistics |
//! | [`network`] | the basin network: distinct minima as nodes, saddles with both barriers as edges; JSON, GraphML, DOT |
//! | [`analysis`] | barrier asymmetry tables, FIE spectrum fits (maximum likelihood), figures |
//! | [`fie`] | the Fan-Iwashita-Egami E_IS evolution model |
//! | [`kmc`] | residence-time kinetic Monte Carlo and correlation factors |
//! | [`pipeline`] | `pelx run`: the quickstart pipeline from an ART campaign to f, with an index of its outputs |
//! | `cli` (binary only) | one file per subcommand: parsing and printing, no physics |
//!
//! ## Units
//! LAMMPS "metal" units everywhere: energies in eV, lengths in Å, forces in eV/Å, time in ps,
//! temperature in K, masses in amu. k_B = 8.617333262e-5 eV/K ([`units::KB`]).

// Index loops mirror the equations (sums over atoms i, neighbours j, components k) and keep
// the LAMMPS evaluation order visible; iterator rewrites would obscure that.
#![allow(clippy::needless_range_loop)]

pub mod error;
pub mod fie;
pub mod kmc;
pub mod minimize;
pub mod potential;
pub mod provenance;
pub mod saddle;
pub mod schema;
pub mod structure;
pub mod units;

pub mod bench;
pub mod catalog;
pub mod diffusion;

pub mod analysis;
pub mod network;
pub mod pipeline;
pub mod rearrange;

pub use error::{Error, Result};
