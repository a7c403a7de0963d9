//! LAMMPS data files (`read_data`, `write_data`) for `atom_style atomic`.
//!
//! The header gives `N atoms`, `T atom types`, `xlo xhi`, `ylo yhi`, `zlo zhi` and, for a
//! triclinic box, `xy xz yz`; other header lines (bonds, ...) are ignored. Of the sections,
//! `Masses` (`type mass # Element`) and `Atoms` are read, the others (`Velocities`,
//! `Pair Coeffs`, ...) skipped. Atom lines are `id type x y z` with optional image flags
//! `ix iy iz`, which are applied: positions come back unwrapped, sorted by id. An
//! `Atoms # style` hint of `charge`, `molecular`, `bond`, `angle`, `full` or `sphere` selects
//! that style's columns (only positions and types are kept).
//!
//! A data file does not say which axes are periodic: they all are, unless the title line
//! holds `pbc="T T F"` as pelx writes it.

use super::lines::{finite, int, parse_pbc, pbc_string, strip_comment, LineReader, Real};
use super::species::{element_from_mass, TypeNames};
use crate::structure::{Cell, Structure};
use crate::units::atomic_mass;
use crate::{Error, Result};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// Columns of an Atoms line: where the type and x sit and how many there are (without image
/// flags).
#[derive(Debug, Clone, Copy)]
struct Layout {
    ncols: usize,
    type_col: usize,
    x_col: usize,
}

impl Layout {
    fn of_style(style: &str) -> Option<Layout> {
        let (ncols, type_col, x_col) = match style {
            "atomic" => (5, 1, 2),
            "charge" => (6, 1, 3),
            "molecular" | "bond" | "angle" => (6, 2, 3),
            "full" => (7, 2, 4),
            "sphere" => (7, 1, 4),
            _ => return None,
        };
        Some(Layout { ncols, type_col, x_col })
    }
}

/// A section header line: its name, the word after `#` (the style hint) and its line.
struct SectionHead {
    name: String,
    hint: String,
    line: usize,
}

/// One atom as read: id, type, position (already unwrapped later), image, line.
struct AtomLine {
    id: u64,
    ty: usize,
    x: [f64; 3],
    image: [i64; 3],
    line: usize,
}

/// Reads a LAMMPS data file. `species[t - 1]` names type `t`; without a list the Masses
/// comments (`1 63.546 # Cu`) name the types, and failing those the masses are matched to
/// [`atomic_mass`] with a warning. Atoms are sorted by id, image flags applied.
pub fn read<R: BufRead>(reader: R, name: impl Into<PathBuf>, species: Option<&[String]>) -> Result<Structure> {
    let mut lines = LineReader::new(reader, name.into());
    if !lines.advance_nonblank()? {
        return Err(lines.err_at(0, "empty file"));
    }
    let title_pbc = title_pbc(lines.text());

    // Header.
    let mut natoms: Option<(usize, usize)> = None;
    let mut ntypes: Option<(usize, usize)> = None;
    let mut bounds: [Option<(f64, f64)>; 3] = [None; 3];
    let mut bounds_line = 0;
    let mut tilt = [0.0; 3];
    let mut next = None;
    while lines.advance()? {
        let body = strip_comment(lines.text()).trim();
        if body.is_empty() {
            continue;
        }
        if body.starts_with(|c: char| c.is_ascii_alphabetic()) {
            next = Some(section_head(&lines));
            break;
        }
        let toks: Vec<&str> = body.split_ascii_whitespace().collect();
        let k = toks
            .iter()
            .position(|t| t.starts_with(|c: char| c.is_ascii_alphabetic()))
            .unwrap_or(toks.len());
        let (nums, words) = toks.split_at(k);
        let keyword = words.join(" ");
        let want = |n: usize| {
            if nums.len() == n {
                Ok(())
            } else {
                Err(lines.err(format!(
                    "'{keyword}' needs {n} number{} before it",
                    if n == 1 { "" } else { "s" }
                )))
            }
        };
        let err = |e: String| lines.err(e);
        match keyword.as_str() {
            "atoms" => {
                want(1)?;
                natoms = Some((int(nums[0], "the number of atoms").map_err(err)?, lines.line()));
            }
            "atom types" => {
                want(1)?;
                ntypes = Some((int(nums[0], "the number of atom types").map_err(err)?, lines.line()));
            }
            "xlo xhi" | "ylo yhi" | "zlo zhi" => {
                want(2)?;
                let axis = (keyword.as_bytes()[0] - b'x') as usize;
                let lo = finite(nums[0], &format!("{}lo", &keyword[..1])).map_err(err)?;
                let hi = finite(nums[1], &format!("{}hi", &keyword[..1])).map_err(err)?;
                if hi <= lo {
                    return Err(lines.err(format!("'{keyword}': hi ({hi}) must exceed lo ({lo})")));
                }
                bounds[axis] = Some((lo, hi));
                bounds_line = lines.line();
            }
            "xy xz yz" => {
                want(3)?;
                for (t, (tok, what)) in tilt.iter_mut().zip(nums.iter().zip(["xy", "xz", "yz"])) {
                    *t = finite(tok, what).map_err(err)?;
                }
            }
            "avec" | "bvec" | "cvec" | "abc origin" => {
                return Err(lines.err(
                    "general triclinic boxes (avec, bvec, cvec) are not supported; write the file with LAMMPS's restricted triclinic form (xy xz yz)",
                ))
            }
            "" => return Err(lines.err(format!("header line without a keyword: '{body}'"))),
            _ => tracing::debug!("{}:{}: header '{keyword}' ignored", lines.name().display(), lines.line()),
        }
    }
    let Some((natoms, natoms_line)) = natoms else {
        return Err(lines.err_at(0, "the header has no 'atoms' line"));
    };
    if natoms == 0 {
        return Err(lines.err_at(
            natoms_line,
            "the header announces 0 atoms; a structure needs at least one",
        ));
    }
    let Some((ntypes, ntypes_line)) = ntypes else {
        return Err(lines.err_at(0, "the header has no 'atom types' line"));
    };
    let mut lo = [0.0; 3];
    let mut hi = [0.0; 3];
    for (k, axis) in ["xlo xhi", "ylo yhi", "zlo zhi"].iter().enumerate() {
        let Some((l, h)) = bounds[k] else {
            return Err(lines.err_at(0, format!("the header has no '{axis}' line")));
        };
        (lo[k], hi[k]) = (l, h);
    }

    // Sections.
    let mut masses: Vec<Option<f64>> = vec![None; ntypes];
    let mut comments: Vec<Option<String>> = vec![None; ntypes];
    let mut labels: Vec<Option<String>> = vec![None; ntypes];
    let mut atoms: Vec<AtomLine> = Vec::new();
    let mut atoms_seen = false;
    while let Some(head) = next.take() {
        match head.name.as_str() {
            "Atom Type Labels" => {
                next = section(&mut lines, &[], |lines, body, _| {
                    let toks: Vec<&str> = body.split_ascii_whitespace().collect();
                    if toks.len() != 2 {
                        return Err(lines.err(format!("expected 'type label', found '{body}'")));
                    }
                    let t = type_index(toks[0], &[], ntypes).map_err(|e| lines.err(e))?;
                    labels[t - 1] = Some(toks[1].to_string());
                    Ok(())
                })?;
            }
            "Masses" => {
                let mut count = 0;
                let known = labels.clone();
                next = section(&mut lines, &known, |lines, body, comment| {
                    count += 1;
                    let toks: Vec<&str> = body.split_ascii_whitespace().collect();
                    if toks.len() != 2 {
                        return Err(lines.err(format!("expected 'type mass', found '{body}'")));
                    }
                    let t = type_index(toks[0], &labels, ntypes).map_err(|e| lines.err(e))?;
                    let m = finite(toks[1], "the mass").map_err(|e| lines.err(e))?;
                    if m <= 0.0 {
                        return Err(lines.err(format!("mass of type {t} must be positive, not {m}")));
                    }
                    masses[t - 1] = Some(m);
                    comments[t - 1] = comment
                        .split_ascii_whitespace()
                        .next()
                        .filter(|w| looks_like_symbol(w))
                        .map(str::to_string);
                    Ok(())
                })?;
                if count != ntypes {
                    return Err(ended_early(
                        &lines,
                        &next,
                        "Masses",
                        count,
                        ntypes,
                        "atom types",
                        ntypes_line,
                    ));
                }
            }
            "Atoms" => {
                atoms_seen = true;
                let layout = if head.hint.is_empty() {
                    Layout::of_style("atomic").expect("atomic is a known style")
                } else {
                    Layout::of_style(&head.hint).ok_or_else(|| {
                        lines.err_at(
                            head.line,
                            format!(
                                "atom style '{}' is not supported (atomic, charge, molecular, bond, angle, full, sphere)",
                                head.hint
                            ),
                        )
                    })?
                };
                atoms.reserve(natoms.min(super::MAX_PREALLOCATION));
                let known = labels.clone();
                next = section(&mut lines, &known, |lines, body, _| {
                    if atoms.len() == natoms {
                        return Err(lines.err(format!(
                            "more atom lines than the {natoms} atoms announced at line {natoms_line}"
                        )));
                    }
                    let atom = atom_line(lines, body, layout, head.hint.is_empty(), &labels).map_err(|e| match e {
                        AtomError::Type(reason) => {
                            lines.err(format!("{reason} ('{ntypes} atom types' at line {ntypes_line})"))
                        }
                        AtomError::Other(e) => e,
                    })?;
                    atoms.push(atom);
                    Ok(())
                })?;
                if atoms.len() != natoms {
                    return Err(ended_early(
                        &lines,
                        &next,
                        "Atoms",
                        atoms.len(),
                        natoms,
                        "atoms",
                        natoms_line,
                    ));
                }
            }
            _ => {
                tracing::debug!(
                    "{}:{}: section '{}' skipped",
                    lines.name().display(),
                    head.line,
                    head.name
                );
                next = section(&mut lines, &labels, |_, _, _| Ok(()))?;
            }
        }
    }
    if !atoms_seen {
        return Err(lines.err("the file has no Atoms section"));
    }

    // Type labels are LAMMPS's own names for the types: they take the place of comments.
    for (c, l) in comments.iter_mut().zip(labels) {
        if l.is_some() {
            *c = l;
        }
    }
    let names = type_names(&lines, species, &masses, &comments, ntypes, ntypes_line)?;
    let cell = Cell::from_lammps(lo, hi, tilt, title_pbc.unwrap_or([true; 3]))
        .map_err(|e| lines.err_at(bounds_line, e.to_string()))?;

    atoms.sort_unstable_by_key(|a| a.id);
    if let Some(w) = atoms.windows(2).find(|w| w[0].id == w[1].id) {
        let (l1, l2) = (w[0].line.min(w[1].line), w[0].line.max(w[1].line));
        return Err(lines.err_at(l2, format!("atom id {} appears twice (lines {l1} and {l2})", w[0].id)));
    }
    let map = TypeNames::new(&names);
    let mut types = Vec::with_capacity(natoms);
    let mut positions = Vec::with_capacity(natoms);
    for a in &atoms {
        types.push(map.species_of(a.ty).expect("types were checked against the header"));
        positions.push(unwrap(&cell, a.x, a.image));
    }
    Structure::new(cell, map.species().to_vec(), types, positions).map_err(|e| lines.err_at(0, e.to_string()))
}

/// `x + ix a + iy b + iz c`: the position an image flag triple stands for.
#[inline]
pub(crate) fn unwrap(cell: &Cell, x: [f64; 3], image: [i64; 3]) -> [f64; 3] {
    if image == [0; 3] {
        return x;
    }
    let d = cell.frac_to_vector([image[0] as f64, image[1] as f64, image[2] as f64]);
    [x[0] + d[0], x[1] + d[1], x[2] + d[2]]
}

/// The `pbc="T T F"` that pelx writes in the title line, if there.
fn title_pbc(title: &str) -> Option<[bool; 3]> {
    let rest = &title[title.find("pbc=\"")? + 5..];
    parse_pbc(&rest[..rest.find('"')?])
}

fn section_head<R: BufRead>(lines: &LineReader<R>) -> SectionHead {
    let text = lines.text();
    let hint = text
        .find('#')
        .and_then(|i| text[i + 1..].split_ascii_whitespace().next())
        .unwrap_or("")
        .to_string();
    SectionHead {
        name: strip_comment(text).trim().to_string(),
        hint,
        line: lines.line(),
    }
}

/// Feeds every non-blank line of a section (its text without comment, and the comment) to
/// `f`, up to the next section header, which it returns (`None` at the end of the file).
/// A header is a line that starts with a letter, unless it starts with a type label.
fn section<R: BufRead>(
    lines: &mut LineReader<R>,
    labels: &[Option<String>],
    mut f: impl FnMut(&LineReader<R>, &str, &str) -> Result<()>,
) -> Result<Option<SectionHead>> {
    while lines.advance()? {
        let text = lines.text();
        let (body, comment) = match text.find('#') {
            Some(i) => (text[..i].trim(), &text[i + 1..]),
            None => (text.trim(), ""),
        };
        if body.is_empty() {
            continue;
        }
        if body.starts_with(|c: char| c.is_ascii_alphabetic()) {
            let first = body.split_ascii_whitespace().next();
            if !labels.iter().any(|l| l.as_deref() == first) {
                return Ok(Some(section_head(lines)));
            }
        }
        f(lines, body, comment)?;
    }
    Ok(None)
}

/// The error for a section that ends before it has all its lines.
fn ended_early<R: BufRead>(
    lines: &LineReader<R>,
    next: &Option<SectionHead>,
    section: &str,
    got: usize,
    want: usize,
    what: &str,
    announced: usize,
) -> Error {
    let line = next.as_ref().map_or(lines.line(), |h| h.line);
    lines.err_at(
        line,
        format!("{section} section ends after {got} of the {want} {what} announced at line {announced}"),
    )
}

/// The 1-based atom type a field names: a number in 1..=ntypes or a type label.
fn type_index(tok: &str, labels: &[Option<String>], ntypes: usize) -> std::result::Result<usize, String> {
    let t = match tok.parse::<usize>() {
        Ok(t) => t,
        Err(_) => match labels.iter().position(|l| l.as_deref() == Some(tok)) {
            Some(k) => return Ok(k + 1),
            None => return Err(format!("atom type '{tok}' is neither a number nor a type label")),
        },
    };
    if t == 0 || t > ntypes {
        return Err(format!("atom type {t} is outside 1..{ntypes}"));
    }
    Ok(t)
}

/// Whether a Masses comment word looks like an element symbol ("Cu", "O"; not "type").
fn looks_like_symbol(w: &str) -> bool {
    let mut c = w.chars();
    c.next().is_some_and(|f| f.is_ascii_uppercase()) && w.len() <= 3 && c.all(|r| r.is_ascii_lowercase())
}

/// Why an Atoms line was rejected: its type (the caller adds the header line), or the rest.
enum AtomError {
    Type(String),
    Other(Error),
}

/// Parses one Atoms line.
fn atom_line<R: BufRead>(
    lines: &LineReader<R>,
    body: &str,
    layout: Layout,
    no_hint: bool,
    labels: &[Option<String>],
) -> std::result::Result<AtomLine, AtomError> {
    let mut toks = [""; 10];
    let mut n = 0;
    for t in body.split_ascii_whitespace() {
        if n == toks.len() {
            n += 1;
            break;
        }
        toks[n] = t;
        n += 1;
    }
    let err = |e: String| AtomError::Other(lines.err(e));
    if n != layout.ncols && n != layout.ncols + 3 {
        let hint = if no_hint {
            "; if the atom style is not atomic, name it after the section header ('Atoms # full')"
        } else {
            ""
        };
        let found = if n > toks.len() {
            format!("more than {}", toks.len())
        } else {
            n.to_string()
        };
        return Err(err(format!(
            "expected {} fields (or {} with image flags), found {found}{hint}",
            layout.ncols,
            layout.ncols + 3,
        )));
    }
    let id = int(toks[0], "the atom id").map_err(err)?;
    let ty = type_index(toks[layout.type_col], labels, labels.len()).map_err(AtomError::Type)?;
    let mut x = [0.0; 3];
    for (k, what) in ["coordinate x", "coordinate y", "coordinate z"].iter().enumerate() {
        x[k] = finite(toks[layout.x_col + k], what).map_err(err)?;
    }
    let mut image = [0i64; 3];
    if n == layout.ncols + 3 {
        for (k, what) in ["image flag ix", "image flag iy", "image flag iz"].iter().enumerate() {
            image[k] = int(toks[layout.ncols + k], what).map_err(err)?;
        }
    }
    Ok(AtomLine {
        id,
        ty,
        x,
        image,
        line: lines.line(),
    })
}

/// Element of each type: from the user's list, else the Masses comments, else the masses.
fn type_names<R: BufRead>(
    lines: &LineReader<R>,
    species: Option<&[String]>,
    masses: &[Option<f64>],
    comments: &[Option<String>],
    ntypes: usize,
    ntypes_line: usize,
) -> Result<Vec<String>> {
    if let Some(list) = species {
        if list.len() < ntypes {
            return Err(lines.err_at(
                ntypes_line,
                format!(
                    "the species list ({}) names {} type{} but the file has {ntypes} atom types",
                    list.join(", "),
                    list.len(),
                    if list.len() == 1 { "" } else { "s" }
                ),
            ));
        }
        for (t, c) in comments.iter().enumerate() {
            if let Some(c) = c {
                if *c != list[t] {
                    tracing::warn!(
                        "{}: type {} is '{c}' in the Masses section but '{}' in the species list; using '{}'",
                        lines.name().display(),
                        t + 1,
                        list[t],
                        list[t]
                    );
                }
            }
        }
        return Ok(list[..ntypes].to_vec());
    }
    let mut names = Vec::with_capacity(ntypes);
    let mut guessed = Vec::new();
    for t in 0..ntypes {
        if let Some(c) = &comments[t] {
            names.push(c.clone());
            continue;
        }
        let Some(m) = masses[t] else {
            return Err(lines.err_at(
                ntypes_line,
                format!(
                    "atom type {} has no species: give a species list (--species), or a Masses section",
                    t + 1
                ),
            ));
        };
        let Some(e) = element_from_mass(m) else {
            return Err(lines.err_at(
                ntypes_line,
                format!(
                    "atom type {} has no species: no species list, no '# Element' comment in Masses, and its mass {m} matches no known element",
                    t + 1
                ),
            ));
        };
        guessed.push(format!("type {} (mass {m}) = {e}", t + 1));
        names.push(e.to_string());
    }
    if !guessed.is_empty() {
        tracing::warn!(
            "{}: species guessed from masses: {}; give --species to be sure",
            lines.name().display(),
            guessed.join(", ")
        );
    }
    Ok(names)
}

/// Writes `s` as a LAMMPS data file (`atom_style atomic`): species i is type i + 1, its mass
/// from [`atomic_mass`] with an element comment, positions as stored (unwrapped; LAMMPS maps
/// atoms outside a periodic box back in and sets their image flags), in full precision. The
/// cell must have the LAMMPS orientation ([`super::to_lammps_orientation`]).
pub fn write<W: Write>(w: &mut W, name: &Path, s: &Structure) -> Result<()> {
    super::check_species_names(s, name)?;
    let cell = &s.cell;
    if !cell.is_lammps_oriented() {
        return Err(Error::invalid(format!(
            "{}: the cell is not in LAMMPS orientation (a along x, b in the xy plane); rotate it first (pelx::structure::io::to_lammps_orientation)",
            name.display()
        )));
    }
    let mut masses = Vec::with_capacity(s.species.len());
    for sp in &s.species {
        masses.push(
            atomic_mass(sp).ok_or_else(|| {
                Error::invalid(format!("{}: no atomic mass known for species '{sp}'", name.display()))
            })?,
        );
    }
    let pbc = cell.pbc();
    if pbc != [true; 3] {
        let outside = s
            .positions
            .iter()
            .filter(|&&p| {
                let f = cell.fractional(p);
                (0..3).any(|k| !pbc[k] && !(0.0..=1.0).contains(&f[k]))
            })
            .count();
        if outside > 0 {
            tracing::warn!(
                "{}: {outside} atoms lie outside the box along a non-periodic axis; LAMMPS read_data with fixed boundaries will reject them",
                name.display()
            );
        }
    }
    write_body(w, s, &masses).map_err(|e| Error::io(name, e))
}

fn write_body<W: Write>(w: &mut W, s: &Structure, masses: &[f64]) -> std::io::Result<()> {
    let cell = &s.cell;
    let (lo, hi, tilt) = cell.lammps_bounds();
    let types: Vec<String> = s
        .species
        .iter()
        .enumerate()
        .map(|(i, e)| format!("type {} = {e}", i + 1))
        .collect();
    writeln!(
        w,
        "LAMMPS data file written by pelx {} (atom_style atomic; {}) pbc=\"{}\"",
        env!("CARGO_PKG_VERSION"),
        types.join(", "),
        pbc_string(cell.pbc())
    )?;
    writeln!(w)?;
    writeln!(w, "{} atoms", s.len())?;
    writeln!(w, "{} atom types", s.species.len())?;
    writeln!(w)?;
    for (k, axis) in ["xlo xhi", "ylo yhi", "zlo zhi"].iter().enumerate() {
        writeln!(w, "{} {} {axis}", Real(lo[k]), Real(hi[k]))?;
    }
    if !cell.is_orthorhombic() {
        writeln!(w, "{} {} {} xy xz yz", Real(tilt[0]), Real(tilt[1]), Real(tilt[2]))?;
    }
    writeln!(w, "\nMasses\n")?;
    for (i, (m, e)) in masses.iter().zip(&s.species).enumerate() {
        writeln!(w, "{} {} # {e}", i + 1, Real(*m))?;
    }
    writeln!(w, "\nAtoms # atomic\n")?;
    for (i, p) in s.positions.iter().enumerate() {
        writeln!(
            w,
            "{} {} {} {} {}",
            i + 1,
            s.types[i] + 1,
            Real(p[0]),
            Real(p[1]),
            Real(p[2])
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, species: Option<&[String]>) -> Result<Structure> {
        read(text.as_bytes(), "t.data", species)
    }

    const TWO: &str = "title\n\n3 atoms\n2 atom types\n0 10 xlo xhi\n0 10 ylo yhi\n-1 9 zlo zhi\n\nMasses\n\n1 63.546\n2 91.224\n\nAtoms\n\n3 2 1 2 3\n1 1 4 5 6 1 0 -2\n2 1 7 8 9\n";

    #[test]
    fn sorts_by_id_applies_images_and_guesses_species_from_masses() {
        let s = parse(TWO, None).unwrap();
        assert_eq!(s.species, ["Cu", "Zr"]);
        assert_eq!(s.types, [0, 0, 1]);
        assert_eq!(s.positions, [[14.0, 5.0, -14.0], [7.0, 8.0, 9.0], [1.0, 2.0, 3.0]]);
        assert_eq!(s.cell.origin(), [0.0, 0.0, -1.0]);
        assert_eq!(s.cell.pbc(), [true; 3]);
    }

    #[test]
    fn species_list_overrides_and_may_merge_types() {
        let list = ["Zr".to_string(), "Zr".to_string()];
        let s = parse(TWO, Some(&list)).unwrap();
        assert_eq!(s.species, ["Zr"]);
        assert_eq!(s.types, [0, 0, 0]);
    }

    #[test]
    fn style_hint_selects_columns() {
        let text = "t\n1 atoms\n1 atom types\n0 1 xlo xhi\n0 1 ylo yhi\n0 1 zlo zhi\nMasses\n1 1.008 # H\nAtoms # full\n1 7 1 -0.5 0.1 0.2 0.3\n";
        let s = parse(text, None).unwrap();
        assert_eq!(s.species, ["H"]);
        assert_eq!(s.positions, [[0.1, 0.2, 0.3]]);
        let e = parse(&text.replace("full", "ellipsoid"), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.data:9: atom style 'ellipsoid' is not supported (atomic, charge, molecular, bond, angle, full, sphere)"
        );
    }

    #[test]
    fn title_pbc_is_read() {
        assert_eq!(title_pbc("LAMMPS data (x) pbc=\"T T F\""), Some([true, true, false]));
        assert_eq!(title_pbc("LAMMPS data file via write_data"), None);
    }
}
