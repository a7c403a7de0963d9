//! Embedded-atom method, evaluated exactly as LAMMPS `pair_style eam`, `eam/alloy` and `eam/fs`.
//!
//! E = Σ_i F_{t_i}(ρ_i) + ½ Σ_{i≠j} φ_{t_i t_j}(r_ij), with ρ_i = Σ_{j≠i} f_{t_j}(r_ij) for
//! funcfl/setfl and ρ_i = Σ_{j≠i} f_{t_j t_i}(r_ij) for Finnis-Sinclair tables
//! (`../shared/science.md` §2). Tables hold r·φ(r) (setfl, fs) or Z(r) (funcfl, with
//! φ = 27.2·0.529·Z_i Z_j / r). Every table is interpolated the way LAMMPS does it: per-interval
//! cubics whose slopes come from a five-point finite-difference formula, the density index
//! clamped to the table, and a linear continuation of F beyond ρ_max. Funcfl tables are first
//! resampled onto one grid with LAMMPS's four-point Lagrange formula. Results therefore agree
//! with LAMMPS to rounding on the same file and geometry.

mod local;
mod read;

pub(crate) use local::LocalState;

pub use read::{read_funcfl, read_setfl, Funcfl, Setfl};

use super::{ForceField, Workspace};
use crate::structure::Structure;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The three table formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EamStyle {
    /// DYNAMO single-element funcfl (`pair_style eam`).
    Funcfl,
    /// DYNAMO multi-element setfl (`pair_style eam/alloy`).
    Setfl,
    /// Finnis-Sinclair setfl variant (`pair_style eam/fs`).
    Fs,
}

impl EamStyle {
    /// The style a file name implies: `.fs` → fs, `.alloy`/`.setfl` → setfl, `.eam` → funcfl.
    /// Any other name is an error that lists these, rather than a guess at a format whose
    /// parser would then stumble on the first line.
    pub fn from_path(path: &Path) -> Result<EamStyle> {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".fs") {
            Ok(EamStyle::Fs)
        } else if name.ends_with(".alloy") || name.ends_with(".setfl") {
            Ok(EamStyle::Setfl)
        } else if name.ends_with(".eam") {
            Ok(EamStyle::Funcfl)
        } else {
            Err(Error::invalid(format!(
                "{}: unknown potential format; pelx reads EAM tables named *.eam (funcfl, pair_style eam), \
                 *.eam.alloy or *.setfl (eam/alloy) and *.eam.fs (eam/fs)",
                path.display()
            )))
        }
    }
    /// The LAMMPS pair style name.
    pub fn lammps_name(self) -> &'static str {
        match self {
            EamStyle::Funcfl => "eam",
            EamStyle::Setfl => "eam/alloy",
            EamStyle::Fs => "eam/fs",
        }
    }
}

/// Cubic spline table in the LAMMPS layout: for interval m, `[c0, c1, c2]` give the derivative
/// (per unit of the argument) and `[c3, c4, c5, c6]` the value as polynomials in the fraction p.
type Spline = Vec<[f64; 7]>;

/// An EAM potential ready to evaluate.
#[derive(Debug, Clone)]
pub struct Eam {
    style: EamStyle,
    files: Vec<PathBuf>,
    elements: Vec<String>,
    masses: Vec<f64>,
    nr: usize,
    nrho: usize,
    rdr: f64,
    rdrho: f64,
    rhomax: f64,
    cut: f64,
    cutsq: f64,
    frho: Vec<Spline>,
    rhor: Vec<Spline>,
    z2r: Vec<Spline>,
    /// rhor table of (donor element a, receiving element b): LAMMPS `type2rhor[a][b]`.
    rhor_idx: Vec<Vec<usize>>,
    /// z2r table of the element pair: LAMMPS `type2z2r`.
    z2r_idx: Vec<Vec<usize>>,
    /// Per ordered element pair (t_i, t_j), interleaved value coefficients of the three
    /// functions a pair needs at interval m: f_{t_j→t_i}, f_{t_i→t_j} and r·φ, so that one
    /// memory access serves a pair (the hot loop is bound by table look-ups).
    pair_tables: Vec<Vec<[f64; 12]>>,
}

/// Chemical symbols by atomic number (1-based), for funcfl files that name elements by Z.
const SYMBOLS: [&str; 103] = [
    "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar", "K", "Ca",
    "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",
    "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce",
    "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir",
    "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm",
    "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr",
];

/// The chemical symbol of atomic number `z`.
pub fn element_symbol(z: u32) -> Option<&'static str> {
    SYMBOLS.get((z as usize).checked_sub(1)?).copied()
}

/// LAMMPS `PairEAM::interpolate`: spline coefficients for `f` sampled every `delta`.
fn spline(f: &[f64], delta: f64) -> Spline {
    let n = f.len();
    let mut s = vec![[0.0f64; 7]; n];
    for m in 0..n {
        s[m][6] = f[m];
    }
    s[0][5] = s[1][6] - s[0][6];
    s[1][5] = 0.5 * (s[2][6] - s[0][6]);
    s[n - 2][5] = 0.5 * (s[n - 1][6] - s[n - 3][6]);
    s[n - 1][5] = s[n - 1][6] - s[n - 2][6];
    for m in 2..n - 2 {
        s[m][5] = ((s[m - 2][6] - s[m + 2][6]) + 8.0 * (s[m + 1][6] - s[m - 1][6])) / 12.0;
    }
    for m in 0..n - 1 {
        s[m][4] = 3.0 * (s[m + 1][6] - s[m][6]) - 2.0 * s[m][5] - s[m + 1][5];
        s[m][3] = s[m][5] + s[m + 1][5] - 2.0 * (s[m + 1][6] - s[m][6]);
    }
    s[n - 1][4] = 0.0;
    s[n - 1][3] = 0.0;
    for c in s.iter_mut() {
        c[2] = c[5] / delta;
        c[1] = 2.0 * c[4] / delta;
        c[0] = 3.0 * c[3] / delta;
    }
    s
}

/// LAMMPS `file2array` resampling of a funcfl table (`table`, spacing `dt`) at point `x`:
/// four-point Lagrange interpolation on the file's grid.
fn lagrange(table: &[f64], dt: f64, x: f64) -> f64 {
    let n = table.len() as i64;
    let sixth = 1.0 / 6.0;
    let mut p = x / dt + 1.0;
    let mut k = p as i64;
    k = k.min(n - 2);
    k = k.max(2);
    p -= k as f64;
    p = p.min(2.0);
    let cof1 = -sixth * p * (p - 1.0) * (p - 2.0);
    let cof2 = 0.5 * (p * p - 1.0) * (p - 2.0);
    let cof3 = -0.5 * p * (p + 1.0) * (p - 2.0);
    let cof4 = sixth * p * (p * p - 1.0);
    // LAMMPS arrays are 1-based: file[k-1..=k+2] are table[k-2..=k+1].
    let k = k as usize;
    cof1 * table[k - 2] + cof2 * table[k - 1] + cof3 * table[k] + cof4 * table[k + 1]
}

/// Index of the lower-triangular pair table of elements (a, b), LAMMPS `type2z2r`.
fn z2r_index(a: usize, b: usize) -> usize {
    let (row, col) = if a < b { (b, a) } else { (a, b) };
    row * (row + 1) / 2 + col
}

impl Eam {
    /// Loads a potential file, choosing the format from its name (see [`EamStyle::from_path`]).
    pub fn from_file(path: &Path) -> Result<Self> {
        match EamStyle::from_path(path)? {
            EamStyle::Funcfl => Eam::from_funcfl_files(&[path]),
            style => Eam::from_setfl_file(path, style),
        }
    }

    /// Loads a setfl (`eam/alloy`) or Finnis-Sinclair (`eam/fs`) file.
    pub fn from_setfl_file(path: &Path, style: EamStyle) -> Result<Self> {
        let fs = style == EamStyle::Fs;
        let t = read_setfl(path, fs)?;
        let ne = t.elements.len();
        let frho = t.frho.iter().map(|f| spline(f, t.drho)).collect();
        let mut rhor = Vec::new();
        for per in &t.rhor {
            for f in per {
                rhor.push(spline(f, t.dr));
            }
        }
        let z2r = t.z2r.iter().map(|f| spline(f, t.dr)).collect();
        let rhor_idx = (0..ne)
            .map(|a| (0..ne).map(|b| if fs { a * ne + b } else { a }).collect())
            .collect();
        let z2r_idx = (0..ne).map(|a| (0..ne).map(|b| z2r_index(a, b)).collect()).collect();
        Ok(Eam::finish(Eam {
            style: if fs { EamStyle::Fs } else { EamStyle::Setfl },
            files: vec![path.to_path_buf()],
            elements: t.elements,
            masses: t.masses,
            nr: t.nr,
            nrho: t.nrho,
            rdr: 1.0 / t.dr,
            rdrho: 1.0 / t.drho,
            rhomax: (t.nrho - 1) as f64 * t.drho,
            cut: t.cut,
            cutsq: t.cut * t.cut,
            frho,
            rhor,
            z2r,
            rhor_idx,
            z2r_idx,
            pair_tables: Vec::new(),
        }))
    }

    /// Loads one or more funcfl files (one element each), combined as LAMMPS does with
    /// `pair_coeff i i file`: all tables resampled onto the coarsest grid, the largest cutoff,
    /// and cross pair terms φ_ij = 27.2·0.529·Z_i Z_j / r.
    pub fn from_funcfl_files(paths: &[&Path]) -> Result<Self> {
        if paths.is_empty() {
            return Err(Error::invalid("no funcfl file given"));
        }
        let files: Vec<Funcfl> = paths.iter().map(|p| read_funcfl(p)).collect::<Result<_>>()?;
        for (k, f) in files.iter().enumerate() {
            if files[..k].iter().any(|g| g.element == f.element) {
                return Err(Error::invalid(format!(
                    "{}: element {} is given by two funcfl files",
                    paths[k].display(),
                    f.element
                )));
            }
        }
        let (mut dr, mut drho, mut rmax, mut rhomax) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for f in &files {
            dr = dr.max(f.dr);
            drho = drho.max(f.drho);
            rmax = rmax.max((f.nr - 1) as f64 * f.dr);
            rhomax = rhomax.max((f.nrho - 1) as f64 * f.drho);
        }
        let nr = (rmax / dr + 0.5) as usize;
        let nrho = (rhomax / drho + 0.5) as usize;
        if nr < 5 || nrho < 5 {
            return Err(Error::invalid("funcfl tables are too short to interpolate"));
        }
        let resample = |table: &[f64], dt: f64, n: usize, step: f64| -> Vec<f64> {
            (0..n).map(|m| lagrange(table, dt, m as f64 * step)).collect()
        };
        let frho = files
            .iter()
            .map(|f| spline(&resample(&f.frho, f.drho, nrho, drho), drho))
            .collect();
        let rhor = files
            .iter()
            .map(|f| spline(&resample(&f.rhor, f.dr, nr, dr), dr))
            .collect();
        let mut z2r = Vec::new();
        for i in 0..files.len() {
            for j in 0..=i {
                let zi = resample(&files[i].zr, files[i].dr, nr, dr);
                let zj = resample(&files[j].zr, files[j].dr, nr, dr);
                let z: Vec<f64> = zi.iter().zip(&zj).map(|(a, b)| 27.2 * 0.529 * a * b).collect();
                z2r.push(spline(&z, dr));
            }
        }
        let ne = files.len();
        let cut = files.iter().map(|f| f.cut).fold(0.0, f64::max);
        Ok(Eam::finish(Eam {
            style: EamStyle::Funcfl,
            files: paths.iter().map(|p| p.to_path_buf()).collect(),
            elements: files.iter().map(|f| f.element.clone()).collect(),
            masses: files.iter().map(|f| f.mass).collect(),
            nr,
            nrho,
            rdr: 1.0 / dr,
            rdrho: 1.0 / drho,
            rhomax,
            cut,
            cutsq: cut * cut,
            frho,
            rhor,
            z2r,
            rhor_idx: (0..ne).map(|a| vec![a; ne]).collect(),
            z2r_idx: (0..ne).map(|a| (0..ne).map(|b| z2r_index(a, b)).collect()).collect(),
            pair_tables: Vec::new(),
        }))
    }

    /// Builds the interleaved pair tables from the splines.
    fn finish(mut self) -> Self {
        let ne = self.elements.len();
        self.pair_tables = (0..ne * ne)
            .map(|k| {
                let (ti, tj) = (k / ne, k % ne);
                let a = &self.rhor[self.rhor_idx[tj][ti]];
                let b = &self.rhor[self.rhor_idx[ti][tj]];
                let z = &self.z2r[self.z2r_idx[ti][tj]];
                (0..self.nr)
                    .map(|m| {
                        [
                            a[m][3], a[m][4], a[m][5], a[m][6], b[m][3], b[m][4], b[m][5], b[m][6], z[m][3], z[m][4],
                            z[m][5], z[m][6],
                        ]
                    })
                    .collect()
            })
            .collect();
        self
    }

    /// The table format.
    pub fn style(&self) -> EamStyle {
        self.style
    }
    /// Masses of the elements (amu), in file order.
    pub fn masses(&self) -> &[f64] {
        &self.masses
    }
    /// The files this potential was read from.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Embedding energy F and its derivative at density `rho` for element `t` (LAMMPS rules).
    #[inline]
    fn embed(&self, t: usize, rho: f64) -> (f64, f64) {
        let mut p = rho * self.rdrho + 1.0;
        let m = (p as i64).min(self.nrho as i64 - 1).max(1);
        p -= m as f64;
        p = p.min(1.0);
        let c = &self.frho[t][m as usize - 1];
        let fp = (c[0] * p + c[1]) * p + c[2];
        let mut phi = ((c[3] * p + c[4]) * p + c[5]) * p + c[6];
        if rho > self.rhomax {
            phi += fp * (rho - self.rhomax);
        }
        (phi, fp)
    }
}

impl ForceField for Eam {
    fn describe(&self) -> String {
        let names: Vec<String> = self
            .files
            .iter()
            .map(|p| {
                p.file_name()
                    .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
            })
            .collect();
        format!("{} {}", self.style.lammps_name(), names.join(" "))
    }
    fn cutoff(&self) -> f64 {
        self.cut
    }
    fn elements(&self) -> Vec<String> {
        self.elements.clone()
    }

    fn compute(
        &self,
        s: &Structure,
        species_map: &[usize],
        ws: &mut Workspace,
        forces: &mut [[f64; 3]],
        per_atom: Option<&mut [f64]>,
    ) -> Result<f64> {
        if ws.local {
            self.compute_local(s, species_map, ws, forces, per_atom)
        } else {
            self.compute_full(s, species_map, ws, forces, per_atom)
        }
    }
}

impl Eam {
    /// Full evaluation over the half neighbour list, in the order of LAMMPS `PairEAM::compute`.
    fn compute_full(
        &self,
        s: &Structure,
        species_map: &[usize],
        ws: &mut Workspace,
        forces: &mut [[f64; 3]],
        mut per_atom: Option<&mut [f64]>,
    ) -> Result<f64> {
        let n = s.len();
        ws.neighbor_list(s, self.cut);
        let Workspace {
            nlist,
            per_atom: bufs,
            inner_pairs,
            inner_starts,
            ..
        } = ws;
        inner_pairs.clear();
        inner_starts.clear();
        inner_starts.push(0);
        let (starts, entries, shifts) = nlist.as_ref().expect("built above").raw();
        let [rho, fp] = bufs;
        rho.clear();
        rho.resize(n, 0.0);
        fp.clear();
        fp.resize(n, 0.0);
        if let Some(pa) = per_atom.as_deref_mut() {
            pa.iter_mut().for_each(|e| *e = 0.0);
        }
        let x = &s.positions;
        let ne = self.elements.len();
        let nr1 = self.nr - 1;
        let rdr = self.rdr;
        let mut energy = 0.0;

        // Pass 1: densities (LAMMPS PairEAM::compute, first loop).
        for i in 0..n {
            let xi = x[i];
            let ti = species_map[s.types[i]];
            let mut rho_i = 0.0;
            for &(j, sh_idx) in &entries[starts[i] as usize..starts[i + 1] as usize] {
                let j = j as usize;
                let sh = &shifts[sh_idx as usize];
                let d = [
                    x[j][0] + sh[0] - xi[0],
                    x[j][1] + sh[1] - xi[1],
                    x[j][2] + sh[2] - xi[2],
                ];
                let rsq = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                if rsq >= self.cutsq {
                    continue;
                }
                if rsq < 1e-20 {
                    return Err(Error::Potential(format!(
                        "atoms {} and {} sit at the same position",
                        i.min(j) + 1,
                        i.max(j) + 1
                    )));
                }
                let tj = species_map[s.types[j]];
                let mut p = rsq.sqrt() * rdr + 1.0;
                let m = (p as usize).min(nr1);
                p -= m as f64;
                p = p.min(1.0);
                let c = &self.pair_tables[ti * ne + tj][m - 1];
                rho_i += ((c[0] * p + c[1]) * p + c[2]) * p + c[3];
                rho[j] += ((c[4] * p + c[5]) * p + c[6]) * p + c[7];
                inner_pairs.push((j as u32, sh_idx));
            }
            rho[i] += rho_i;
            inner_starts.push(inner_pairs.len() as u32);
        }

        // Pass 2: embedding energies and their derivatives.
        for i in 0..n {
            let (phi, d) = self.embed(species_map[s.types[i]], rho[i]);
            fp[i] = d;
            energy += phi;
            if let Some(pa) = per_atom.as_deref_mut() {
                pa[i] += phi;
            }
        }

        // Pass 3: pair energies and forces (LAMMPS second loop). The derivative of a value
        // spline (c3 p^3 + c4 p^2 + c5 p + c6) is (3 c3 p + 2 c4) p + c5 per interval.
        forces.iter_mut().for_each(|f| *f = [0.0; 3]);
        for i in 0..n {
            let xi = x[i];
            let ti = species_map[s.types[i]];
            let fpi = fp[i];
            let mut fi = [0.0; 3];
            for &(j, sh) in &inner_pairs[inner_starts[i] as usize..inner_starts[i + 1] as usize] {
                let j = j as usize;
                let sh = &shifts[sh as usize];
                let d = [
                    x[j][0] + sh[0] - xi[0],
                    x[j][1] + sh[1] - xi[1],
                    x[j][2] + sh[2] - xi[2],
                ];
                let rsq = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                let tj = species_map[s.types[j]];
                let r = rsq.sqrt();
                let mut p = r * rdr + 1.0;
                let m = (p as usize).min(nr1);
                p -= m as f64;
                p = p.min(1.0);
                let c = &self.pair_tables[ti * ne + tj][m - 1];
                let rhojp = ((3.0 * c[0] * p + 2.0 * c[1]) * p + c[2]) * rdr;
                let rhoip = ((3.0 * c[4] * p + 2.0 * c[5]) * p + c[6]) * rdr;
                let z2p = ((3.0 * c[8] * p + 2.0 * c[9]) * p + c[10]) * rdr;
                let z2 = ((c[8] * p + c[9]) * p + c[10]) * p + c[11];
                let recip = 1.0 / r;
                let phi = z2 * recip;
                let phip = z2p * recip - phi * recip;
                let psip = fpi * rhojp + fp[j] * rhoip + phip;
                // LAMMPS: fpair = -psip/r applied to del = x_i - x_j = -d.
                let fpair = psip * recip;
                let f = [d[0] * fpair, d[1] * fpair, d[2] * fpair];
                fi[0] += f[0];
                fi[1] += f[1];
                fi[2] += f[2];
                forces[j][0] -= f[0];
                forces[j][1] -= f[1];
                forces[j][2] -= f[2];
                energy += phi;
                if let Some(pa) = per_atom.as_deref_mut() {
                    pa[i] += 0.5 * phi;
                    pa[j] += 0.5 * phi;
                }
            }
            forces[i][0] += fi[0];
            forces[i][1] += fi[1];
            forces[i][2] += fi[2];
        }
        Ok(energy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spline_reproduces_a_cubic_in_the_interior() {
        // The five-point slope formula is exact for cubics, so the spline is exact too.
        let f: Vec<f64> = (0..20)
            .map(|k| (k as f64 * 0.1).powi(3) - 2.0 * (k as f64 * 0.1))
            .collect();
        let s = spline(&f, 0.1);
        let x = 0.83;
        let m = (x / 0.1) as usize;
        let p = x / 0.1 - m as f64;
        let c = s[m];
        let v = ((c[3] * p + c[4]) * p + c[5]) * p + c[6];
        let d = (c[0] * p + c[1]) * p + c[2];
        assert!((v - (x * x * x - 2.0 * x)).abs() < 1e-12);
        assert!((d - (3.0 * x * x - 2.0)).abs() < 1e-10);
    }

    #[test]
    fn lagrange_resampling_on_the_same_grid_returns_the_table() {
        let t: Vec<f64> = (0..30).map(|k| (k as f64).sin()).collect();
        for m in 0..29 {
            assert!((lagrange(&t, 0.5, m as f64 * 0.5) - t[m]).abs() < 1e-12);
        }
    }

    #[test]
    fn element_symbols() {
        assert_eq!(element_symbol(29), Some("Cu"));
        assert_eq!(element_symbol(40), Some("Zr"));
        assert_eq!(element_symbol(0), None);
    }
}

#[cfg(test)]
mod physics_tests {
    use super::*;
    use crate::potential::Calculator;
    use crate::structure::build::{cubic, Lattice};
    use std::sync::Arc;

    fn pot(name: &str) -> Arc<dyn ForceField> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("potentials").join(name);
        Arc::new(Eam::from_file(&p).unwrap())
    }

    /// Cohesive energies of fcc Cu at a = 3.615 Å: -3.54 eV/atom is the fitted value of both
    /// the Foiles universal-3 table (PRB 33, 7983) and Mishin's Cu1 (PRB 63, 224106).
    #[test]
    fn fcc_cu_cohesive_energy() {
        for (name, ecoh) in [("Cu_u3.eam", -3.54), ("Cu_mishin1.eam.alloy", -3.54)] {
            let s = cubic(Lattice::Fcc, "Cu", 3.615, [3, 3, 3]).unwrap();
            let mut c = Calculator::new(pot(name));
            let (e, f) = c.energy_forces(&s).unwrap();
            let per = e / s.len() as f64;
            assert!((per - ecoh).abs() < 5e-3, "{name}: {per}");
            assert!(crate::potential::fmax(&f) < 1e-10, "{name}: perfect crystal has forces");
        }
    }

    #[test]
    fn forces_are_minus_gradient_cuzr() {
        let mut s = cubic(Lattice::Fcc, "Cu", 4.0, [2, 2, 2]).unwrap();
        s.species.push("Zr".into());
        for i in (0..s.len()).step_by(3) {
            s.types[i] = 1;
        }
        for (i, p) in s.positions.iter_mut().enumerate() {
            let t = i as f64;
            p[0] += 0.11 * (1.3 * t).sin();
            p[1] += 0.09 * (0.7 * t).cos();
            p[2] += 0.1 * (2.1 * t).sin();
        }
        let mut c = Calculator::new(pot("CuZr_mm.eam.fs"));
        let (_, f) = c.energy_forces(&s).unwrap();
        let h = 1e-5;
        for i in [0, 5, 17] {
            for k in 0..3 {
                let mut a = s.clone();
                a.positions[i][k] += h;
                let mut b = s.clone();
                b.positions[i][k] -= h;
                let fd = -(c.energy_forces(&a).unwrap().0 - c.energy_forces(&b).unwrap().0) / (2.0 * h);
                assert!((fd - f[i][k]).abs() < 1e-6, "atom {i} comp {k}: {fd} vs {}", f[i][k]);
            }
        }
    }
}

#[cfg(test)]
mod brute_force_tests {
    use super::*;
    use crate::potential::Calculator;
    use crate::structure::Cell;
    use rand::{Rng, SeedableRng};
    use std::sync::Arc;

    /// EAM by explicit enumeration of every atom pair and every periodic image within reach
    /// (no neighbour list, no cell list): the reference for the neighbour-list evaluation.
    fn brute_force(eam: &Eam, s: &Structure, map: &[usize]) -> (f64, Vec<[f64; 3]>) {
        let n = s.len();
        let reach = |k: usize| {
            if s.cell.pbc()[k] {
                (eam.cut / s.cell.perpendicular_width(k)).ceil() as i64 + 1
            } else {
                0
            }
        };
        let (ra, rb, rc) = (reach(0), reach(1), reach(2));
        // All (i, j, d) with d = x_j + shift - x_i inside the cutoff, i != j or shift != 0.
        let mut pairs = Vec::new();
        for i in 0..n {
            for j in 0..n {
                for a in -ra..=ra {
                    for b in -rb..=rb {
                        for c in -rc..=rc {
                            if i == j && (a, b, c) == (0, 0, 0) {
                                continue;
                            }
                            let sh = s.cell.frac_to_vector([a as f64, b as f64, c as f64]);
                            let d = [
                                s.positions[j][0] + sh[0] - s.positions[i][0],
                                s.positions[j][1] + sh[1] - s.positions[i][1],
                                s.positions[j][2] + sh[2] - s.positions[i][2],
                            ];
                            let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                            if r2 < eam.cutsq {
                                pairs.push((i, j, d, r2.sqrt()));
                            }
                        }
                    }
                }
            }
        }
        let look = |r: f64| {
            let mut p = r * eam.rdr + 1.0;
            let m = (p as usize).min(eam.nr - 1);
            p -= m as f64;
            (m - 1, p.min(1.0))
        };
        let val = |c: &[f64; 7], p: f64| ((c[3] * p + c[4]) * p + c[5]) * p + c[6];
        let der = |c: &[f64; 7], p: f64| (c[0] * p + c[1]) * p + c[2];
        let t = |i: usize| map[s.types[i]];
        let mut rho = vec![0.0; n];
        for &(i, j, _, r) in &pairs {
            let (m, p) = look(r);
            rho[i] += val(&eam.rhor[eam.rhor_idx[t(j)][t(i)]][m], p);
        }
        let mut e = 0.0;
        let mut fp = vec![0.0; n];
        for i in 0..n {
            let (phi, d) = eam.embed(t(i), rho[i]);
            e += phi;
            fp[i] = d;
        }
        let mut f = vec![[0.0; 3]; n];
        for &(i, j, d, r) in &pairs {
            let (m, p) = look(r);
            let z = &eam.z2r[eam.z2r_idx[t(i)][t(j)]][m];
            let phi = val(z, p) / r;
            let phip = der(z, p) / r - phi / r;
            e += 0.5 * phi;
            // dE/dr_ij from this ordered pair: embedding of i through f_{j->i}, half the pair term.
            let dfi = fp[i] * der(&eam.rhor[eam.rhor_idx[t(j)][t(i)]][m], p) + 0.5 * phip;
            for k in 0..3 {
                f[i][k] += dfi * d[k] / r;
                f[j][k] -= dfi * d[k] / r;
            }
        }
        (e, f)
    }

    fn check(name: &str, s: &Structure) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("potentials").join(name);
        let eam = Eam::from_file(&path).unwrap();
        let map = crate::potential::bind_species(&eam, &s.species).unwrap();
        let (eb, fb) = brute_force(&eam, s, &map);
        let mut calc = Calculator::new(Arc::new(eam));
        let (e, f) = calc.energy_forces(s).unwrap();
        assert!((e - eb).abs() < 1e-9 * s.len() as f64, "{name}: {e} vs {eb}");
        let df = f
            .iter()
            .zip(&fb)
            .flat_map(|(a, b)| (0..3).map(move |k| (a[k] - b[k]).abs()))
            .fold(0.0, f64::max);
        assert!(df < 1e-10, "{name}: forces differ by {df}");
    }

    fn random_alloy(cell: Cell, n: usize, seed: u64, zfrac: (f64, f64)) -> Structure {
        // Random positions with a hard-core rejection at 2.2 Å (minimum image over all images).
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut pos: Vec<[f64; 3]> = Vec::new();
        let mut symbols = Vec::new();
        while pos.len() < n {
            let x = cell.cartesian([rng.random(), rng.random(), rng.random_range(zfrac.0..zfrac.1)]);
            if pos.iter().all(|p| cell.distance(*p, x) > 2.2) {
                pos.push(x);
                symbols.push(if rng.random::<f64>() < 0.5 { "Cu" } else { "Zr" });
            }
        }
        Structure::from_symbols(cell, &symbols, pos).unwrap()
    }

    #[test]
    fn neighbour_list_equals_brute_force_in_a_small_triclinic_cell() {
        // Cutoff 7.6 Å against a cell about 9 Å wide: many images of every atom interact.
        let cell = Cell::new([9.0, 0.0, 0.0], [2.0, 8.5, 0.0], [-1.5, 1.0, 9.5], [0.0; 3], [true; 3]).unwrap();
        check("CuZr_mm.eam.fs", &random_alloy(cell, 30, 1, (0.0, 1.0)));
    }

    #[test]
    fn neighbour_list_equals_brute_force_in_a_slab() {
        let cell = Cell::new(
            [11.0, 0.0, 0.0],
            [0.0, 11.0, 0.0],
            [0.0, 0.0, 30.0],
            [0.0; 3],
            [true, true, false],
        )
        .unwrap();
        // A 10 Å thick film in the middle of 30 Å: vacuum above and below.
        let mut s = random_alloy(cell, 40, 2, (1.0 / 3.0, 2.0 / 3.0));
        check("CuZr_mm.eam.fs", &s);
        s.species = vec!["Cu".into(), "Cu".into()];
        check("Cu_mishin1.eam.alloy", &s);
        check("Cu_u3.eam", &s);
    }
}
