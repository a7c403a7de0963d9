//! Readers for the three DYNAMO/LAMMPS EAM table formats: funcfl (`pair_style eam`), setfl
//! (`eam/alloy`) and Finnis-Sinclair (`eam/fs`).
//!
//! Layout as documented for LAMMPS `pair_style eam`: header lines, then arrays of values that
//! may span any number of lines. As in LAMMPS, each array starts on a new line; `#` starts a
//! comment and blank lines are skipped inside the numeric blocks.

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// A funcfl file: one element, F(rho), Z(r) and rho(r) tables.
#[derive(Debug, Clone)]
pub struct Funcfl {
    pub element: String,
    pub mass: f64,
    pub nrho: usize,
    pub drho: f64,
    pub nr: usize,
    pub dr: f64,
    pub cut: f64,
    pub frho: Vec<f64>,
    pub zr: Vec<f64>,
    pub rhor: Vec<f64>,
}

/// A setfl or Finnis-Sinclair file. For setfl, `rhor[i]` has one table (density of element i);
/// for fs, `rhor[i][j]` is the density function of element i at a site of element j.
#[derive(Debug, Clone)]
pub struct Setfl {
    pub elements: Vec<String>,
    pub masses: Vec<f64>,
    pub nrho: usize,
    pub drho: f64,
    pub nr: usize,
    pub dr: f64,
    pub cut: f64,
    pub frho: Vec<Vec<f64>>,
    pub rhor: Vec<Vec<Vec<f64>>>,
    /// r·phi(r) for element pairs (i, j <= i) in row order.
    pub z2r: Vec<Vec<f64>>,
}

/// Line-oriented reader that tracks line numbers for error messages.
struct Lines {
    path: PathBuf,
    lines: Vec<String>,
    pos: usize,
}

impl Lines {
    fn open(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Ok(Lines {
            path: path.to_path_buf(),
            lines: text.lines().map(str::to_string).collect(),
            pos: 0,
        })
    }
    fn err(&self, line: usize, reason: impl Into<String>) -> Error {
        Error::parse(&self.path, line, reason)
    }
    /// The next raw line (header lines are taken as they are).
    fn raw(&mut self, what: &str) -> Result<(usize, String)> {
        if self.pos >= self.lines.len() {
            return Err(self.err(self.lines.len(), format!("file ends before the {what} (truncated?)")));
        }
        self.pos += 1;
        Ok((self.pos, self.lines[self.pos - 1].clone()))
    }
    /// The next line with content after stripping `#` comments.
    fn content(&mut self, what: &str) -> Result<(usize, Vec<String>)> {
        loop {
            let (n, l) = self.raw(what)?;
            let body = l.split('#').next().unwrap_or("");
            let words: Vec<String> = body.split_whitespace().map(str::to_string).collect();
            if !words.is_empty() {
                return Ok((n, words));
            }
        }
    }
    /// `n` numbers starting on the next content line.
    fn values(&mut self, n: usize, what: &str) -> Result<Vec<f64>> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let (line, words) = match self.content(what) {
                Ok(x) => x,
                Err(_) => {
                    return Err(self.err(
                        self.lines.len(),
                        format!(
                            "file ends after {} of the {n} values of the {what} (truncated?)",
                            out.len()
                        ),
                    ))
                }
            };
            for w in words {
                if out.len() == n {
                    break;
                }
                let v: f64 = w
                    .parse()
                    .map_err(|_| self.err(line, format!("'{w}' in the {what} is not a number")))?;
                if !v.is_finite() {
                    return Err(self.err(line, format!("'{w}' in the {what} is not finite")));
                }
                out.push(v);
            }
        }
        Ok(out)
    }
}

fn parse<T: std::str::FromStr>(l: &Lines, line: usize, word: Option<&String>, what: &str) -> Result<T> {
    let w = word.ok_or_else(|| l.err(line, format!("missing {what}")))?;
    w.parse()
        .map_err(|_| l.err(line, format!("'{w}' is not a valid {what}")))
}

/// A mass must be positive: pelx only reports it, but a zero or negative one marks a broken file.
fn positive_mass(l: &Lines, line: usize, mass: f64, of: &str) -> Result<()> {
    if mass > 0.0 && mass.is_finite() {
        Ok(())
    } else {
        Err(l.err(line, format!("mass {mass} of {of} must be positive, g/mol")))
    }
}

/// Grid line "Nrho drho Nr dr cutoff", checked.
fn grid(l: &mut Lines) -> Result<(usize, f64, usize, f64, f64)> {
    let (n, w) = l.content("grid line (Nrho drho Nr dr cutoff)")?;
    let nrho: usize = parse(l, n, w.first(), "Nrho (integer)")?;
    let drho: f64 = parse(l, n, w.get(1), "drho")?;
    let nr: usize = parse(l, n, w.get(2), "Nr (integer)")?;
    let dr: f64 = parse(l, n, w.get(3), "dr")?;
    let cut: f64 = parse(l, n, w.get(4), "cutoff")?;
    if nrho < 5 || nr < 5 {
        return Err(l.err(n, format!("tables need at least 5 points (Nrho = {nrho}, Nr = {nr})")));
    }
    if !(drho > 0.0 && dr > 0.0 && cut > 0.0 && drho.is_finite() && dr.is_finite() && cut.is_finite()) {
        return Err(l.err(n, "drho, dr and the cutoff must be positive"));
    }
    // The r tables end at Nr dr (LAMMPS holds their last value beyond it). Files put the cutoff
    // at or just inside that end; one well past it is a typo, and a wild one would make the
    // neighbour lists huge. The 1 % margin spares files that round their header.
    let reach = nr as f64 * dr;
    if cut > 1.01 * reach {
        return Err(l.err(
            n,
            format!("cutoff {cut} Å lies beyond the tabulated range Nr dr = {reach} Å of the r tables"),
        ));
    }
    Ok((nrho, drho, nr, dr, cut))
}

/// Reads a DYNAMO funcfl file (LAMMPS `pair_style eam`).
pub fn read_funcfl(path: &Path) -> Result<Funcfl> {
    let mut l = Lines::open(path)?;
    l.raw("comment line")?;
    let (n, w) = l.content("element line (atomic number, mass)")?;
    let z: u32 = parse(&l, n, w.first(), "atomic number")?;
    let mass: f64 = parse(&l, n, w.get(1), "mass")?;
    positive_mass(&l, n, mass, "the element")?;
    let element = super::element_symbol(z)
        .ok_or_else(|| l.err(n, format!("atomic number {z} is not an element")))?
        .to_string();
    let (nrho, drho, nr, dr, cut) = grid(&mut l)?;
    let frho = l.values(nrho, "embedding function F(rho)")?;
    let zr = l.values(nr, "effective charge Z(r)")?;
    let rhor = l.values(nr, "density function rho(r)")?;
    Ok(Funcfl {
        element,
        mass,
        nrho,
        drho,
        nr,
        dr,
        cut,
        frho,
        zr,
        rhor,
    })
}

/// Reads a setfl (`fs = false`, LAMMPS `eam/alloy`) or Finnis-Sinclair (`fs = true`,
/// LAMMPS `eam/fs`) file.
pub fn read_setfl(path: &Path, fs: bool) -> Result<Setfl> {
    let mut l = Lines::open(path)?;
    for _ in 0..3 {
        l.raw("three comment lines")?;
    }
    let (n, w) = l.content("element line (count and names)")?;
    let ne: usize = parse(&l, n, w.first(), "element count")?;
    if ne == 0 {
        return Err(l.err(n, "element count is zero"));
    }
    if w.len() < ne + 1 {
        return Err(l.err(n, format!("{ne} elements announced but {} names given", w.len() - 1)));
    }
    let elements: Vec<String> = w[1..=ne].to_vec();
    if let Some((k, e)) = elements.iter().enumerate().find(|(k, e)| elements[..*k].contains(e)) {
        return Err(l.err(
            n,
            format!(
                "element {e} is named twice (positions {} and {})",
                elements.iter().position(|x| x == e).unwrap() + 1,
                k + 1
            ),
        ));
    }
    let (nrho, drho, nr, dr, cut) = grid(&mut l)?;
    let mut masses = Vec::new();
    let mut frho = Vec::new();
    let mut rhor = Vec::new();
    for e in &elements {
        let (n, w) = l.content(&format!("header line of element {e}"))?;
        let _z: f64 = parse(&l, n, w.first(), &format!("atomic number of {e}"))?;
        let mass: f64 = parse(&l, n, w.get(1), &format!("mass of {e}"))?;
        positive_mass(&l, n, mass, e)?;
        masses.push(mass);
        frho.push(l.values(nrho, &format!("embedding function F(rho) of {e}"))?);
        let nfun = if fs { ne } else { 1 };
        let mut r = Vec::with_capacity(nfun);
        for k in 0..nfun {
            let what = if fs {
                format!("density function of {e} at {}", elements[k])
            } else {
                format!("density function of {e}")
            };
            r.push(l.values(nr, &what)?);
        }
        rhor.push(r);
    }
    let mut z2r = Vec::new();
    for i in 0..ne {
        for j in 0..=i {
            z2r.push(l.values(
                nr,
                &format!("pair function r*phi(r) of {}-{}", elements[i], elements[j]),
            )?);
        }
    }
    Ok(Setfl {
        elements,
        masses,
        nrho,
        drho,
        nr,
        dr,
        cut,
        frho,
        rhor,
        z2r,
    })
}
