//! Force fields: the [`ForceField`] trait, EAM, Lennard-Jones, analytic test surfaces and
//! neighbour lists.
//!
//! A force field is pure and shareable (`Send + Sync`, `&self`): the neighbour list and scratch
//! buffers live in a [`Workspace`] owned by whoever evaluates, so rayon workers and NEB images
//! share one potential. A [`Calculator`] bundles a shared force field with one workspace and a
//! count of force calls: it is what minimizers and saddle searches hold.

pub mod analytic;
pub mod conformance;
pub mod eam;
pub mod lj;
pub mod neighbor;

pub use neighbor::NeighborList;

use crate::structure::Structure;
use crate::{Error, Result};
use std::sync::Arc;

/// Default Verlet skin, Å (as LAMMPS `neighbor 1.0 bin` in metal units).
pub const DEFAULT_SKIN: f64 = 1.0;
/// Largest Verlet skin accepted, Å: a longer one saves no rebuilds and makes the neighbour
/// list grow as the cube of cutoff + skin (a 100 Å skin on 500 atoms takes gigabytes).
pub const MAX_SKIN: f64 = 5.0;

/// Checks a Verlet skin (Å): finite, between 0 and [`MAX_SKIN`].
pub fn check_skin(skin: f64) -> Result<()> {
    if (0.0..=MAX_SKIN).contains(&skin) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "Verlet skin {skin} Å must be between 0 and {MAX_SKIN} Å (default {DEFAULT_SKIN})"
        )))
    }
}

/// An interatomic potential: energy and forces of a structure in one pass.
pub trait ForceField: Send + Sync + std::fmt::Debug {
    /// A short description (style and file), for logs and provenance.
    fn describe(&self) -> String;
    /// Interaction range, Å (0 for fields that need no neighbour list).
    fn cutoff(&self) -> f64;
    /// Element names this field knows; empty means any species is accepted.
    fn elements(&self) -> Vec<String>;
    /// Total energy (eV); fills `forces` (eV/Å, one entry per atom) and, when given,
    /// `per_atom` energies (eV, summing to the total). `species_map[t]` is this field's
    /// element index for the structure's species `t`.
    fn compute(
        &self,
        s: &Structure,
        species_map: &[usize],
        ws: &mut Workspace,
        forces: &mut [[f64; 3]],
        per_atom: Option<&mut [f64]>,
    ) -> Result<f64>;
}

/// Scratch space for evaluating a force field on one structure: the neighbour list and the
/// per-atom and per-pair buffers, reused across calls so that a force call allocates nothing.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Verlet skin of the neighbour list, Å.
    pub skin: f64,
    /// The Verlet list, built lazily on the first call.
    pub nlist: Option<NeighborList>,
    /// Per-atom buffers (EAM densities and embedding derivatives).
    pub per_atom: [Vec<f64>; 2],
    /// Pairs found inside the cutoff by a first pass, (j, shift index), with per-atom starts:
    /// the second pass of a many-body field then skips the skin pairs.
    pub inner_pairs: Vec<(u32, u32)>,
    /// Start of each atom's run in `inner_pairs` (length N + 1).
    pub inner_starts: Vec<u32>,
    /// Evaluate locally: recompute only what changed near the atoms that moved since the
    /// previous call (force fields that support it; the others ignore the flag).
    pub local: bool,
    /// A local call is made only when its estimated cost is below this fraction of a full
    /// call's (see `eam::local`; the default 1 follows the measured cost model, tests of the
    /// local path raise it).
    pub local_max_cost: f64,
    /// Cached per-atom state of the previous EAM call, for local evaluation.
    pub(crate) eam_local: Option<Box<eam::LocalState>>,
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace {
            skin: DEFAULT_SKIN,
            nlist: None,
            per_atom: [Vec::new(), Vec::new()],
            inner_pairs: Vec::new(),
            inner_starts: Vec::new(),
            local: false,
            local_max_cost: 1.0,
            eam_local: None,
        }
    }
}

impl Workspace {
    /// The neighbour list for `cutoff` (and the workspace's skin), updated for `s`.
    pub fn neighbor_list(&mut self, s: &Structure, cutoff: f64) -> &NeighborList {
        let skin = self.skin;
        let fresh = match &self.nlist {
            Some(nl) => nl.cutoff() != cutoff || nl.skin() != skin,
            None => true,
        };
        if fresh {
            self.nlist = Some(NeighborList::new(cutoff, skin));
            // The local-evaluation cache is keyed on the list's build count, which restarts
            // with a new list: drop it so a stale full list can never be reused.
            self.eam_local = None;
        }
        let nl = self.nlist.as_mut().expect("set above");
        nl.update(s);
        nl
    }
}

/// Maps the structure's species names onto a force field's element indices.
pub fn bind_species(ff: &dyn ForceField, species: &[String]) -> Result<Vec<usize>> {
    let elements = ff.elements();
    if elements.is_empty() {
        return Ok((0..species.len()).collect());
    }
    species
        .iter()
        .map(|s| {
            elements.iter().position(|e| e == s).ok_or_else(|| {
                Error::Potential(format!(
                    "species {s} is not in {} (it has {})",
                    ff.describe(),
                    elements.join(", ")
                ))
            })
        })
        .collect()
}

/// A force field with its own workspace and a count of force calls.
#[derive(Debug, Clone)]
pub struct Calculator {
    ff: Arc<dyn ForceField>,
    ws: Workspace,
    skin: f64,
    species_key: Vec<String>,
    species_map: Vec<usize>,
    calls: u64,
}

impl Calculator {
    /// A calculator for `ff` with the default skin.
    pub fn new(ff: Arc<dyn ForceField>) -> Self {
        Calculator {
            ff,
            ws: Workspace::default(),
            skin: DEFAULT_SKIN,
            species_key: Vec::new(),
            species_map: Vec::new(),
            calls: 0,
        }
    }
    /// Sets the Verlet skin (Å).
    pub fn with_skin(mut self, skin: f64) -> Self {
        self.skin = skin.max(0.0);
        self
    }
    /// Switches local evaluation on or off: when only a few atoms moved since the previous
    /// call, only the densities, energies and forces within reach of them are recomputed
    /// (pelx issue 9). Results equal a full evaluation to rounding (1e-10 eV/Å is tested).
    pub fn with_local(mut self, local: bool) -> Self {
        self.ws.local = local;
        self
    }
    /// Switches local evaluation on or off in place (see [`Calculator::with_local`]).
    pub fn set_local(&mut self, local: bool) {
        self.ws.local = local;
    }
    /// Sets the cost threshold of local calls (see [`Workspace::local_max_cost`]).
    pub fn set_local_max_cost(&mut self, c: f64) {
        self.ws.local_max_cost = c;
    }
    /// Whether local evaluation is on.
    pub fn is_local(&self) -> bool {
        self.ws.local
    }
    /// Forgets cached state so that the next call is a full evaluation (use at the start and
    /// end of a search to keep reported energies exact to the last digit).
    pub fn reset_local(&mut self) {
        if let Some(st) = self.ws.eam_local.as_mut() {
            st.invalidate();
        }
    }
    /// Calls that were evaluated locally so far (the rest were full evaluations).
    pub fn local_calls(&self) -> u64 {
        self.ws.eam_local.as_ref().map_or(0, |l| l.local_calls)
    }
    /// The Verlet skin, Å.
    pub fn skin(&self) -> f64 {
        self.skin
    }
    /// The shared force field.
    pub fn force_field(&self) -> &Arc<dyn ForceField> {
        &self.ff
    }
    /// Number of energy+force evaluations so far.
    pub fn calls(&self) -> u64 {
        self.calls
    }
    /// Number of neighbour-list builds so far.
    pub fn neighbor_builds(&self) -> u64 {
        self.ws.nlist.as_ref().map_or(0, |n| n.builds())
    }

    fn bind(&mut self, s: &Structure) -> Result<()> {
        if self.species_key != s.species {
            self.species_map = bind_species(self.ff.as_ref(), &s.species)?;
            self.species_key = s.species.clone();
        }
        Ok(())
    }

    /// Energy (eV) and forces written into `forces` (resized to the atom count).
    pub fn compute(&mut self, s: &Structure, forces: &mut Vec<[f64; 3]>) -> Result<f64> {
        self.bind(s)?;
        forces.resize(s.len(), [0.0; 3]);
        self.calls += 1;
        self.ws.skin = self.skin;
        let e = self.ff.compute(s, &self.species_map, &mut self.ws, forces, None)?;
        check_finite(e, forces)?;
        Ok(e)
    }

    /// Energy and forces as new values.
    pub fn energy_forces(&mut self, s: &Structure) -> Result<(f64, Vec<[f64; 3]>)> {
        let mut f = Vec::new();
        let e = self.compute(s, &mut f)?;
        Ok((e, f))
    }

    /// Energy, forces and per-atom energies.
    pub fn energy_forces_per_atom(&mut self, s: &Structure) -> Result<(f64, Vec<[f64; 3]>, Vec<f64>)> {
        self.bind(s)?;
        let mut f = vec![[0.0; 3]; s.len()];
        let mut pa = vec![0.0; s.len()];
        self.calls += 1;
        self.ws.skin = self.skin;
        let e = self
            .ff
            .compute(s, &self.species_map, &mut self.ws, &mut f, Some(&mut pa))?;
        check_finite(e, &f)?;
        Ok((e, f, pa))
    }
}

fn check_finite(e: f64, f: &[[f64; 3]]) -> Result<()> {
    if !e.is_finite() {
        return Err(Error::Potential(format!("energy is not finite ({e})")));
    }
    if let Some(i) = f.iter().position(|v| v.iter().any(|x| !x.is_finite())) {
        return Err(Error::Potential(format!("force on atom {} is not finite", i + 1)));
    }
    Ok(())
}

/// Loads a force field from files, choosing by extension: `*.fs` (eam/fs), `*.alloy` or
/// `*.setfl` (eam/alloy), anything else as DYNAMO funcfl (`pair_style eam`; one file per
/// element, several allowed).
pub fn load(paths: &[&std::path::Path]) -> Result<Arc<dyn ForceField>> {
    use eam::{Eam, EamStyle};
    let Some(first) = paths.first() else {
        return Err(Error::invalid("no potential file given"));
    };
    for p in paths {
        if !p.exists() {
            return Err(Error::invalid(format!("{}: potential file not found", p.display())));
        }
    }
    let styles = paths
        .iter()
        .map(|p| EamStyle::from_path(p))
        .collect::<Result<Vec<EamStyle>>>()?;
    if styles.iter().all(|s| *s == EamStyle::Funcfl) {
        return Ok(Arc::new(Eam::from_funcfl_files(paths)?));
    }
    if paths.len() > 1 {
        return Err(Error::invalid(
            "only funcfl (*.eam) potentials combine several files; eam/alloy and eam/fs tables hold all elements in one",
        ));
    }
    Ok(Arc::new(Eam::from_setfl_file(first, styles[0])?))
}

/// Largest per-atom force magnitude, eV/Å.
pub fn fmax(forces: &[[f64; 3]]) -> f64 {
    forces
        .iter()
        .map(|f| f[0] * f[0] + f[1] * f[1] + f[2] * f[2])
        .fold(0.0, f64::max)
        .sqrt()
}
