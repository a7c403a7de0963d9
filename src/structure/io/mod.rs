//! Structure file formats: extended XYZ, LAMMPS data and LAMMPS dump.
//!
//! [`read_structure`] and [`write_structure`] pick the format from the file extension (or
//! [`ReadOptions::format`]); [`read_frames`] streams every frame of a trajectory. Each format
//! also has its own module with a streaming reader and a writer:
//!
//! | format | module | read | write |
//! |---|---|---|---|
//! | extended XYZ (ASE/OVITO) | [`extxyz`] | [`ExtXyzReader`] (multi-frame) | [`ExtXyzWriter`] |
//! | LAMMPS data, `atom_style atomic` | [`lammps_data`] | [`lammps_data::read`] | [`lammps_data::write`] |
//! | LAMMPS `dump custom` | [`lammps_dump`] | [`DumpReader`] (multi-frame) | [`DumpWriter`] |
//!
//! Positions come back unwrapped: LAMMPS image flags are applied, and atoms of LAMMPS files
//! are sorted by id. Writers print every real number in its shortest form that reads back to
//! the same bits, so a write-read round trip returns identical positions.
//!
//! Species: extended XYZ and dumps with an `element` column carry element names; LAMMPS types
//! are named by [`ReadOptions::species`] (type 1 = first name), else by the data file's type
//! labels (`Atom Type Labels`) or `# Cu` comments in Masses, else by matching the masses to
//! [`crate::units::atomic_mass`] (with a warning). A species list also fixes the order of [`Structure::species`], so the
//! same list gives identical structures from any format.

pub mod extxyz;
pub mod lammps_data;
pub mod lammps_dump;
mod lines;
mod species;

pub use extxyz::{ExtXyzReader, ExtXyzWriter};
pub use lammps_dump::{DumpReader, DumpWriter};

use super::{Cell, Structure};
use crate::{Error, Result};
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;

/// Default of [`ReadOptions::min_distance`]: two atoms closer than this (Å) are taken for a
/// duplicated atom.
pub const DEFAULT_MIN_DISTANCE: f64 = 1e-3;

/// Vacuum (Å) around the atoms of an extended XYZ frame without `Lattice`, whose box
/// ([`Cell::open_box`]) is non-periodic in every direction.
pub const OPEN_BOX_MARGIN: f64 = 5.0;

/// Most atoms a reader reserves memory for before it has read them, so that a corrupt atom
/// count fails with a message at the end of the file rather than exhausting memory.
pub(crate) const MAX_PREALLOCATION: usize = 1 << 20;

/// A structure file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Extended XYZ (ASE and OVITO conventions), one or more frames.
    #[serde(rename = "extxyz")]
    ExtXyz,
    /// LAMMPS data file (`read_data`/`write_data`), one structure.
    LammpsData,
    /// LAMMPS `dump custom` text trajectory, one or more frames.
    LammpsDump,
}

impl Format {
    /// Every format, in the order they are listed in messages.
    pub const ALL: [Format; 3] = [Format::ExtXyz, Format::LammpsData, Format::LammpsDump];

    /// The name accepted by [`Format::from_str`](std::str::FromStr) and printed by `Display`.
    pub fn name(self) -> &'static str {
        match self {
            Format::ExtXyz => "extxyz",
            Format::LammpsData => "lammps-data",
            Format::LammpsDump => "lammps-dump",
        }
    }

    /// File extensions that select this format (lower case, without the dot).
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Format::ExtXyz => &["xyz", "extxyz"],
            Format::LammpsData => &["data", "lmp"],
            Format::LammpsDump => &["dump", "lammpstrj"],
        }
    }

    /// Guesses the format from the extension of `path` (case-insensitive); LAMMPS's own
    /// names `data.*` and `dump.*` are recognised when the extension is not.
    pub fn from_path(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        if let Some(ext) = &ext {
            if let Some(f) = Format::ALL.into_iter().find(|f| f.extensions().contains(&ext.as_str())) {
                return Ok(f);
            }
        }
        let stem = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if stem.starts_with("data.") {
            return Ok(Format::LammpsData);
        }
        if stem.starts_with("dump.") {
            return Ok(Format::LammpsDump);
        }
        Err(Error::invalid(format!(
            "{}: cannot tell the file format from the extension; known formats: {} (or name the format explicitly)",
            path.display(),
            Format::known_list()
        )))
    }

    /// "extxyz (.xyz, .extxyz), lammps-data (.data, .lmp), lammps-dump (.dump, .lammpstrj)".
    fn known_list() -> String {
        Format::ALL
            .iter()
            .map(|f| {
                let exts: Vec<String> = f.extensions().iter().map(|e| format!(".{e}")).collect();
                format!("{} ({})", f.name(), exts.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = Error;
    /// Accepts the format names and the extensions: `extxyz`, `xyz`, `lammps-data`, `data`,
    /// `lmp`, `lammps-dump`, `dump`, `lammpstrj` (case-insensitive).
    fn from_str(s: &str) -> Result<Format> {
        let l = s.to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.name() == l || f.extensions().contains(&l.as_str()))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown structure format '{s}'; known formats: {}",
                    Format::known_list()
                ))
            })
    }
}

/// Which frame of a multi-frame file to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FrameSelect {
    /// The first frame.
    #[default]
    First,
    /// The last frame (the file is scanned twice; only the last frame's numbers are parsed).
    Last,
    /// Frame `n`, counting from 0.
    Index(usize),
}

impl std::str::FromStr for FrameSelect {
    type Err = Error;
    /// `first`, `last` (or `-1`), or a 0-based index.
    fn from_str(s: &str) -> Result<FrameSelect> {
        match s {
            "first" | "0" => Ok(FrameSelect::First),
            "last" | "-1" => Ok(FrameSelect::Last),
            _ => s
                .parse::<usize>()
                .map(FrameSelect::Index)
                .map_err(|_| Error::invalid(format!("frame must be 'first', 'last' or an index from 0, not '{s}'"))),
        }
    }
}

/// How to read a structure file.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOptions {
    /// The format; `None` guesses it from the extension ([`Format::from_path`]).
    pub format: Option<Format>,
    /// Element of each LAMMPS atom type (type 1 = `species[0]`), as `--species Cu,Zr` gives
    /// it. For files that carry element names it fixes the order of [`Structure::species`]
    /// and every name in the file must be in it.
    pub species: Option<Vec<String>>,
    /// Which frame of a trajectory [`read_structure`] returns.
    pub frame: FrameSelect,
    /// Two atoms closer than this (Å, minimum image) make [`read_structure`] fail as a
    /// duplicated atom; `None` skips the check.
    pub min_distance: Option<f64>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            species: None,
            frame: FrameSelect::First,
            min_distance: Some(DEFAULT_MIN_DISTANCE),
        }
    }
}

/// What to write besides the structure.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions<'a> {
    /// Total energy (eV): the `energy=` key of extended XYZ (ASE reads it as the calculator
    /// energy). Not written to LAMMPS files.
    pub energy: Option<f64>,
    /// Per-atom forces (eV/Å): the `forces:R:3` column of extended XYZ, `fx fy fz` of a dump.
    /// Not written to LAMMPS data files.
    pub forces: Option<&'a [[f64; 3]]>,
    /// Further `key=value` pairs of the extended XYZ comment line.
    pub info: Vec<(String, String)>,
    /// The `ITEM: TIMESTEP` of a dump frame.
    pub timestep: u64,
    /// Append a frame to an existing extended XYZ or dump file instead of replacing it
    /// (an error for LAMMPS data).
    pub append: bool,
}

/// One frame of a structure file: the structure and what the file said about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// The structure, atoms sorted by id for LAMMPS files, positions unwrapped.
    pub structure: Structure,
    /// The dump's `ITEM: TIMESTEP`.
    pub timestep: Option<u64>,
    /// Atom ids in the order of the structure's atoms (1..=N for files without ids).
    pub ids: Vec<u64>,
    /// The extended XYZ `energy=` value (eV).
    pub energy: Option<f64>,
    /// Per-atom forces (eV/Å): extended XYZ `forces`, dump `fx fy fz`.
    pub forces: Option<Vec<[f64; 3]>>,
    /// Other `key=value` pairs of the extended XYZ comment line, values unquoted.
    pub info: Vec<(String, String)>,
    /// 1-based line where the frame starts in its file.
    pub line: usize,
}

impl Frame {
    /// A frame holding only a structure (ids 1..=N).
    pub(crate) fn bare(structure: Structure, line: usize) -> Frame {
        let ids = (1..=structure.len() as u64).collect();
        Frame {
            structure,
            timestep: None,
            ids,
            energy: None,
            forces: None,
            info: Vec::new(),
            line,
        }
    }
}

/// The format `opts` names, or the one the extension of `path` says.
fn resolve(path: &Path, format: Option<Format>) -> Result<Format> {
    match format {
        Some(f) => Ok(f),
        None => Format::from_path(path),
    }
}

fn open(path: &Path) -> Result<BufReader<File>> {
    File::open(path)
        .map(|f| BufReader::with_capacity(1 << 16, f))
        .map_err(|e| Error::io(path, e))
}

/// A boxed stream of frames.
pub type Frames = Box<dyn Iterator<Item = Result<Frame>>>;

/// Every frame of `path`, read one at a time (a LAMMPS data file has one).
/// `opts.frame` and `opts.min_distance` are not used here.
pub fn read_frames(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<Frames> {
    let path = path.as_ref();
    let species = opts.species.clone();
    Ok(match resolve(path, opts.format)? {
        Format::ExtXyz => Box::new(ExtXyzReader::new(open(path)?, path).with_species(species)),
        Format::LammpsDump => Box::new(DumpReader::new(open(path)?, path).with_species(species)),
        Format::LammpsData => {
            let s = lammps_data::read(open(path)?, path, species.as_deref());
            Box::new(std::iter::once(s.map(|s| Frame::bare(s, 1))))
        }
    })
}

/// Reads one structure (by default the first frame) from `path`, checks it
/// ([`Structure::validate`]) and, unless `opts.min_distance` is `None`, rejects duplicated
/// atoms with the ids of the offending pair.
pub fn read_structure(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<Structure> {
    let path = path.as_ref();
    let frame = read_frame(path, opts)?;
    frame
        .structure
        .validate()
        .map_err(|e| Error::parse(path, frame.line, e.to_string()))?;
    if let Some(rmin) = opts.min_distance {
        check_duplicates(path, &frame, rmin)?;
    }
    Ok(frame.structure)
}

/// Reads the frame `opts.frame` of `path` (without the duplicate check of [`read_structure`]).
pub fn read_frame(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<Frame> {
    let path = path.as_ref();
    let format = resolve(path, opts.format)?;
    if format == Format::LammpsData {
        if let FrameSelect::Index(n) = opts.frame {
            if n > 0 {
                return Err(Error::invalid(format!(
                    "{}: a LAMMPS data file holds one structure; frame {n} does not exist",
                    path.display()
                )));
            }
        }
        return lammps_data::read(open(path)?, path, opts.species.as_deref()).map(|s| Frame::bare(s, 1));
    }
    // Multi-frame formats: skip frames without parsing their numbers, then parse one.
    let skip = match opts.frame {
        FrameSelect::First => 0,
        FrameSelect::Index(n) => n,
        FrameSelect::Last => {
            let mut r = MultiReader::new(format, path, opts)?;
            let mut count = 0;
            while r.skip()? {
                count += 1;
            }
            if count == 0 {
                return Err(Error::parse(path, 0, "empty file: no frame"));
            }
            count - 1
        }
    };
    let mut r = MultiReader::new(format, path, opts)?;
    for k in 0..skip {
        if !r.skip()? {
            return Err(Error::invalid(format!(
                "{}: frame {skip} requested, but the file holds only {k} frame{}",
                path.display(),
                if k == 1 { "" } else { "s" }
            )));
        }
    }
    match r.next() {
        Some(Ok(f)) => {
            if let MultiReader::Xyz(x) = &mut r {
                x.check_next_header()?;
            }
            Ok(f)
        }
        Some(Err(e)) => Err(e),
        None if skip == 0 => Err(Error::parse(path, 0, "empty file: no frame")),
        None => Err(Error::invalid(format!(
            "{}: frame {skip} requested, but the file holds only {skip} frames",
            path.display()
        ))),
    }
}

/// The two streaming readers behind one face, for frame selection.
enum MultiReader {
    Xyz(ExtXyzReader<BufReader<File>>),
    Dump(DumpReader<BufReader<File>>),
}

impl MultiReader {
    fn new(format: Format, path: &Path, opts: &ReadOptions) -> Result<Self> {
        let species = opts.species.clone();
        Ok(match format {
            Format::ExtXyz => MultiReader::Xyz(ExtXyzReader::new(open(path)?, path).with_species(species)),
            Format::LammpsDump => MultiReader::Dump(DumpReader::new(open(path)?, path).with_species(species)),
            Format::LammpsData => unreachable!("single-frame format"),
        })
    }
    fn skip(&mut self) -> Result<bool> {
        match self {
            MultiReader::Xyz(r) => r.skip_frame(),
            MultiReader::Dump(r) => r.skip_frame(),
        }
    }
    fn next(&mut self) -> Option<Result<Frame>> {
        match self {
            MultiReader::Xyz(r) => r.next(),
            MultiReader::Dump(r) => r.next(),
        }
    }
}

/// Fails if two atoms of `frame` are closer than `rmin` Å (minimum image), naming them by
/// their ids in the file.
pub fn check_duplicates(path: &Path, frame: &Frame, rmin: f64) -> Result<()> {
    if let Some((i, j, r)) = crate::potential::neighbor::closest_pair_below(&frame.structure, rmin) {
        return Err(Error::parse(
            path,
            0,
            format!(
                "atoms {} and {} are {:.3e} Å apart (closer than {} Å): duplicated atom?",
                frame.ids[i], frame.ids[j], r, rmin
            ),
        ));
    }
    Ok(())
}

/// Writes `s` to `path` in `format` (`None`: from the extension). With `opts.append`,
/// extended XYZ and dump frames are added at the end of an existing file.
pub fn write_structure(
    path: impl AsRef<Path>,
    s: &Structure,
    format: Option<Format>,
    opts: &WriteOptions,
) -> Result<()> {
    let path = path.as_ref();
    let format = resolve(path, format)?;
    if opts.append && format == Format::LammpsData {
        return Err(Error::invalid(format!(
            "{}: a LAMMPS data file holds one structure; frames cannot be appended",
            path.display()
        )));
    }
    // The text is made in memory first, so that a structure the format cannot hold leaves
    // the file untouched.
    let mut buf = Vec::with_capacity(64 * s.len() + 1024);
    match format {
        Format::ExtXyz => ExtXyzWriter::new(&mut buf, path).write_frame(s, opts)?,
        Format::LammpsDump => DumpWriter::new(&mut buf, path).write_frame(s, opts)?,
        Format::LammpsData => lammps_data::write(&mut buf, path, s)?,
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .append(opts.append)
        .truncate(!opts.append)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    file.write_all(&buf).map_err(|e| Error::io(path, e))
}

/// Checks that every species name can stand in a whitespace-separated column.
pub(crate) fn check_species_names(s: &Structure, name: &Path) -> Result<()> {
    match s
        .species
        .iter()
        .find(|n| n.is_empty() || n.contains(|c: char| c.is_whitespace() || c == '#' || c == '"'))
    {
        Some(n) => Err(Error::invalid(format!(
            "{}: species name '{n}' is empty or holds a blank, '#' or '\"'",
            name.display()
        ))),
        None => Ok(()),
    }
}

/// `s` rotated rigidly into the LAMMPS orientation (a along x, b in the xy plane, c with
/// positive z), as LAMMPS data and dump files require. Fractional coordinates, the origin
/// and all distances are kept; Cartesian coordinates change by the rotation.
/// Fails for a left-handed cell, which no rotation can bring to the LAMMPS form.
pub fn to_lammps_orientation(s: &Structure) -> Result<Structure> {
    let c = &s.cell;
    if c.is_lammps_oriented() {
        return Ok(s.clone());
    }
    let [a, b, cc] = [c.edge(0), c.edge(1), c.edge(2)];
    let dot = |u: [f64; 3], v: [f64; 3]| u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
    let cross = |u: [f64; 3], v: [f64; 3]| {
        [
            u[1] * v[2] - u[2] * v[1],
            u[2] * v[0] - u[0] * v[2],
            u[0] * v[1] - u[1] * v[0],
        ]
    };
    if dot(cross(a, b), cc) <= 0.0 {
        return Err(Error::invalid(
            "cell is left-handed (a x b points away from c): no rotation gives the LAMMPS orientation",
        ));
    }
    // LAMMPS Howto triclinic: lx = |a|, xy = b·â, ly = |â × b|, xz = c·â,
    // yz = (b·c - xy xz) / ly, lz = sqrt(|c|² - xz² - yz²).
    let lx = dot(a, a).sqrt();
    let ahat = [a[0] / lx, a[1] / lx, a[2] / lx];
    let xy = dot(b, ahat);
    let ly = dot(cross(ahat, b), cross(ahat, b)).sqrt();
    let xz = dot(cc, ahat);
    let yz = (dot(b, cc) - xy * xz) / ly;
    let lz = (dot(cc, cc) - xz * xz - yz * yz).sqrt();
    let cell = Cell::new([lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz], c.origin(), c.pbc())?;
    let positions = s.positions.iter().map(|&p| cell.cartesian(c.fractional(p))).collect();
    Ok(Structure {
        cell,
        species: s.species.clone(),
        types: s.types.clone(),
        positions,
    })
}

#[cfg(test)]
mod tests;
