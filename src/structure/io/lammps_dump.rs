//! LAMMPS `dump custom` text trajectories, read one frame at a time.
//!
//! A frame is a run of `ITEM:` blocks:
//! ```text
//! ITEM: TIMESTEP
//! 100
//! ITEM: NUMBER OF ATOMS
//! 2
//! ITEM: BOX BOUNDS xy xz yz pp pp ff
//! xlo_bound xhi_bound xy
//! ylo_bound yhi_bound xz
//! zlo_bound zhi_bound yz
//! ITEM: ATOMS id type x y z ix iy iz
//! 1 1 0.5 0.5 0.5 0 0 1
//! 2 2 2.0 2.0 2.0 0 0 0
//! ```
//! Boundary flags `pp` make an axis periodic, anything else (`ff`, `ss`, `fm`, ...) not.
//! For a triclinic box the bounds are those of the bounding box; LAMMPS's Howto triclinic
//! gives xlo_bound = xlo + min(0, xy, xz, xy + xz), xhi_bound = xhi + max(0, xy, xz, xy + xz),
//! ylo_bound = ylo + min(0, yz), yhi_bound = yhi + max(0, yz), which are inverted here.
//! General triclinic boxes (`BOX BOUNDS abc origin`, lines `ax ay az x0` ...) are read too.
//!
//! Atom columns may come in any order. Positions are taken from, by preference, `xu yu zu`
//! (unwrapped), `xsu ysu zsu` (scaled unwrapped), `x y z` or `xs ys zs` (wrapped; with
//! `ix iy iz` the image flags are applied). Species come from an `element` column, else from
//! the `type` column and a species list. Forces `fx fy fz` are read when present; other
//! columns are skipped. Atoms are sorted by `id`.

use super::lammps_data::unwrap;
use super::lines::{finite, int, LineReader, Real};
use super::species::{SpeciesTable, TypeNames};
use super::{Frame, WriteOptions};
use crate::structure::{Cell, Structure};
use crate::{Error, Result};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// How a dump gives positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coords {
    /// `xu yu zu`
    Unwrapped,
    /// `xsu ysu zsu`
    ScaledUnwrapped,
    /// `x y z`
    Wrapped,
    /// `xs ys zs`
    Scaled,
}

impl Coords {
    /// In order of preference.
    const ALL: [Coords; 4] = [
        Coords::Unwrapped,
        Coords::ScaledUnwrapped,
        Coords::Wrapped,
        Coords::Scaled,
    ];
    fn names(self) -> [&'static str; 3] {
        match self {
            Coords::Unwrapped => ["xu", "yu", "zu"],
            Coords::ScaledUnwrapped => ["xsu", "ysu", "zsu"],
            Coords::Wrapped => ["x", "y", "z"],
            Coords::Scaled => ["xs", "ys", "zs"],
        }
    }
    /// The column names as messages give them.
    fn labels(self) -> [&'static str; 3] {
        match self {
            Coords::Unwrapped => ["column xu", "column yu", "column zu"],
            Coords::ScaledUnwrapped => ["column xsu", "column ysu", "column zsu"],
            Coords::Wrapped => ["column x", "column y", "column z"],
            Coords::Scaled => ["column xs", "column ys", "column zs"],
        }
    }
    fn scaled(self) -> bool {
        matches!(self, Coords::Scaled | Coords::ScaledUnwrapped)
    }
    fn wrapped(self) -> bool {
        matches!(self, Coords::Wrapped | Coords::Scaled)
    }
}

/// What an `ITEM: ATOMS` column holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Id,
    Type,
    Element,
    Coord(usize),
    Image(usize),
    Force(usize),
    Skip,
}

/// The columns of one `ITEM: ATOMS` line.
#[derive(Debug, Clone)]
struct Columns {
    roles: Vec<Role>,
    coords: Coords,
    images: bool,
    forces: bool,
    id: bool,
    ty: bool,
    element: bool,
}

impl Columns {
    fn parse(names: &str) -> std::result::Result<Columns, String> {
        let names: Vec<&str> = names.split_ascii_whitespace().collect();
        let has = |n: &str| names.contains(&n);
        let coords =
            Coords::ALL
                .into_iter()
                .find(|c| c.names().iter().all(|n| has(n)))
                .ok_or_else(|| {
                    let found: Vec<&str> = names
                        .iter()
                        .copied()
                        .filter(|n| Coords::ALL.iter().any(|c| c.names().contains(n)))
                        .collect();
                    format!(
                    "ITEM: ATOMS lacks coordinate columns: need x y z, xu yu zu, xs ys zs or xsu ysu zsu (found: {})",
                    if found.is_empty() { "none".to_string() } else { found.join(" ") }
                )
                })?;
        let n_img = ["ix", "iy", "iz"].iter().filter(|n| has(n)).count();
        if n_img != 0 && n_img != 3 {
            return Err("ITEM: ATOMS has some but not all of the image flags ix iy iz".to_string());
        }
        let forces = ["fx", "fy", "fz"].iter().all(|n| has(n));
        let cnames = coords.names();
        let roles: Vec<Role> = names
            .iter()
            .map(|&n| match n {
                "id" => Role::Id,
                "type" => Role::Type,
                "element" => Role::Element,
                "ix" => Role::Image(0),
                "iy" => Role::Image(1),
                "iz" => Role::Image(2),
                "fx" if forces => Role::Force(0),
                "fy" if forces => Role::Force(1),
                "fz" if forces => Role::Force(2),
                _ => match cnames.iter().position(|&c| c == n) {
                    Some(k) => Role::Coord(k),
                    None => Role::Skip,
                },
            })
            .collect();
        for r in [Role::Id, Role::Type, Role::Element] {
            if roles.iter().filter(|&&x| x == r).count() > 1 {
                return Err(format!("ITEM: ATOMS names the column {r:?} twice").to_lowercase());
            }
        }
        let c = Columns {
            coords,
            images: n_img == 3,
            forces,
            id: has("id"),
            ty: has("type"),
            element: has("element"),
            roles,
        };
        if !c.ty && !c.element {
            return Err("ITEM: ATOMS needs a type or an element column".to_string());
        }
        Ok(c)
    }
}

/// The box of a frame.
struct BoxBounds {
    cell: Cell,
}

/// Streaming reader of a LAMMPS dump: one frame in memory at a time, so trajectories of any
/// length can be read from a [`BufRead`].
pub struct DumpReader<R> {
    lines: LineReader<R>,
    user_species: Option<Vec<String>>,
    type_names: Option<TypeNames>,
    elements: SpeciesTable,
    first_natoms: Option<usize>,
    done: bool,
    /// Frames started so far.
    frames: usize,
}

impl DumpReader<BufReader<File>> {
    /// Opens `path` for reading.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(DumpReader::new(BufReader::with_capacity(1 << 16, f), path))
    }
}

/// The header of a frame, up to and including `ITEM: ATOMS`.
struct FrameHead {
    start: usize,
    timestep: u64,
    natoms: usize,
    cell: Cell,
    columns: Columns,
    columns_line: usize,
}

impl<R: BufRead> DumpReader<R> {
    /// A reader of `reader`; `name` is the file name its messages give.
    pub fn new(reader: R, name: impl Into<PathBuf>) -> Self {
        DumpReader {
            lines: LineReader::new(reader, name.into()),
            user_species: None,
            type_names: None,
            elements: SpeciesTable::default(),
            first_natoms: None,
            done: false,
            frames: 0,
        }
    }

    /// Names the atom types (`species[t - 1]` for type `t`) and fixes the species order;
    /// with an `element` column, every element must be in the list.
    pub fn with_species(mut self, species: Option<Vec<String>>) -> Self {
        self.type_names = species.as_deref().map(TypeNames::new);
        self.elements = SpeciesTable::new(species.as_deref());
        self.user_species = species;
        self
    }

    /// Moves to the next line inside a frame header; EOF there is an error.
    fn header_line(&mut self, start: usize) -> Result<()> {
        if self.lines.advance()? {
            Ok(())
        } else {
            Err(self.lines.err(format!(
                "file ends inside the header of the frame starting at line {start}"
            )))
        }
    }

    /// Reads the items of the next frame up to `ITEM: ATOMS`; `None` at the end of the file.
    fn head(&mut self) -> Result<Option<FrameHead>> {
        if !self.lines.advance_nonblank()? {
            if self.frames == 0 {
                return Err(self.lines.err_at(0, "empty file"));
            }
            return Ok(None);
        }
        self.frames += 1;
        let start = self.lines.line();
        let mut timestep = None;
        let mut natoms = None;
        let mut bounds: Option<BoxBounds> = None;
        loop {
            let text = self.lines.text().trim();
            let Some(item) = text.strip_prefix("ITEM:").map(str::trim) else {
                return Err(self.lines.err(format!("expected an 'ITEM:' line, found '{text}'")));
            };
            if item == "TIMESTEP" {
                self.header_line(start)?;
                let t = int::<u64>(self.lines.text().trim(), "the timestep").map_err(|e| self.lines.err(e))?;
                timestep = Some(t);
            } else if item == "NUMBER OF ATOMS" {
                self.header_line(start)?;
                let n = int::<usize>(self.lines.text().trim(), "the number of atoms").map_err(|e| self.lines.err(e))?;
                if n == 0 {
                    return Err(self.lines.err("frame has 0 atoms; a structure needs at least one"));
                }
                if let Some(n0) = self.first_natoms {
                    if n != n0 {
                        return Err(self.lines.err(format!("frame has {n} atoms, the first frame had {n0}")));
                    }
                }
                natoms = Some(n);
            } else if let Some(flags) = item.strip_prefix("BOX BOUNDS") {
                let flags = flags.to_string();
                bounds = Some(self.box_bounds(&flags, start)?);
            } else if let Some(cols) = item.strip_prefix("ATOMS") {
                let columns_line = self.lines.line();
                let columns = Columns::parse(cols).map_err(|e| self.lines.err(e))?;
                let missing = |what: &str| {
                    self.lines
                        .err(format!("frame starting at line {start} has no ITEM: {what}"))
                };
                let timestep = timestep.ok_or_else(|| missing("TIMESTEP"))?;
                let natoms = natoms.ok_or_else(|| missing("NUMBER OF ATOMS"))?;
                let cell = bounds.ok_or_else(|| missing("BOX BOUNDS"))?.cell;
                if columns.ty && !columns.element && self.type_names.is_none() {
                    return Err(self.lines.err(
                        "the dump has atom types but no element column: give a species list (--species) to name the types",
                    ));
                }
                self.first_natoms.get_or_insert(natoms);
                return Ok(Some(FrameHead {
                    start,
                    timestep,
                    natoms,
                    cell,
                    columns,
                    columns_line,
                }));
            } else if item == "UNITS" || item == "TIME" {
                self.header_line(start)?;
            } else {
                return Err(self.lines.err(format!("unknown dump item 'ITEM: {item}'")));
            }
            self.header_line(start)?;
        }
    }

    /// Parses `ITEM: BOX BOUNDS <flags>` and its three lines.
    fn box_bounds(&mut self, flags: &str, start: usize) -> Result<BoxBounds> {
        let item_line = self.lines.line();
        let mut toks: Vec<&str> = flags.split_ascii_whitespace().collect();
        let triclinic = toks.starts_with(&["xy", "xz", "yz"]);
        let general = toks.starts_with(&["abc", "origin"]);
        if triclinic {
            toks.drain(..3);
        } else if general {
            toks.drain(..2);
        }
        let pbc = match toks.len() {
            0 => [true; 3],
            3 => [toks[0] == "pp", toks[1] == "pp", toks[2] == "pp"],
            _ => {
                return Err(self.lines.err(format!(
                    "ITEM: BOX BOUNDS needs three boundary flags (pp, ff, ss, ...), found '{}'",
                    flags.trim()
                )))
            }
        };
        let width = if triclinic || general { 3 } else { 2 };
        let width = if general { 4 } else { width };
        let mut v = [[0.0f64; 4]; 3];
        for row in v.iter_mut() {
            self.header_line(start)?;
            let text = self.lines.text();
            let mut n = 0;
            for tok in text.split_ascii_whitespace() {
                if n < width {
                    row[n] = finite(tok, "a box bound").map_err(|e| self.lines.err(e))?;
                }
                n += 1;
            }
            if n != width {
                return Err(self
                    .lines
                    .err(format!("expected {width} numbers on a box line, found {n}")));
            }
        }
        let cell = if general {
            Cell::new(
                [v[0][0], v[0][1], v[0][2]],
                [v[1][0], v[1][1], v[1][2]],
                [v[2][0], v[2][1], v[2][2]],
                [v[0][3], v[1][3], v[2][3]],
                pbc,
            )
        } else {
            let (xy, xz, yz) = if triclinic {
                (v[0][2], v[1][2], v[2][2])
            } else {
                (0.0, 0.0, 0.0)
            };
            let lo = [
                v[0][0] - 0.0f64.min(xy).min(xz).min(xy + xz),
                v[1][0] - 0.0f64.min(yz),
                v[2][0],
            ];
            let hi = [
                v[0][1] - 0.0f64.max(xy).max(xz).max(xy + xz),
                v[1][1] - 0.0f64.max(yz),
                v[2][1],
            ];
            for k in 0..3 {
                if hi[k] <= lo[k] {
                    return Err(self.lines.err_at(
                        item_line + 1 + k,
                        format!("box hi ({}) must exceed lo ({})", hi[k], lo[k]),
                    ));
                }
            }
            Cell::from_lammps(lo, hi, [xy, xz, yz], pbc)
        };
        let cell = cell.map_err(|e| self.lines.err_at(item_line, e.to_string()))?;
        Ok(BoxBounds { cell })
    }

    /// Skips the next frame without parsing its atom lines; `false` at the end of the file.
    pub fn skip_frame(&mut self) -> Result<bool> {
        let Some(head) = self.head()? else {
            return Ok(false);
        };
        for i in 0..head.natoms {
            if !self.lines.advance()? || self.lines.text().starts_with("ITEM:") {
                return Err(self.truncated(&head, i));
            }
        }
        Ok(true)
    }

    fn truncated(&self, head: &FrameHead, i: usize) -> Error {
        self.lines.err(format!(
            "frame at timestep {} (line {}) ends after {i} of its {} atoms",
            head.timestep, head.start, head.natoms
        ))
    }

    /// Reads the next frame; `None` at the end of the file.
    fn read_frame(&mut self) -> Result<Option<Frame>> {
        let Some(head) = self.head()? else {
            return Ok(None);
        };
        let n = head.natoms;
        let cols = &head.columns;
        let ncols = cols.roles.len();
        let cap = n.min(super::MAX_PREALLOCATION);
        let mut ids: Vec<u64> = Vec::with_capacity(cap);
        let mut kinds: Vec<usize> = Vec::with_capacity(cap);
        let mut types: Vec<usize> = Vec::with_capacity(if cols.element && cols.ty { cap } else { 0 });
        let mut positions: Vec<[f64; 3]> = Vec::with_capacity(cap);
        let mut forces: Vec<[f64; 3]> = Vec::with_capacity(if cols.forces { cap } else { 0 });
        let names = cols.coords.labels();
        const FORCE: [&str; 3] = ["column fx", "column fy", "column fz"];
        const IMAGE: [&str; 3] = ["column ix", "column iy", "column iz"];
        for i in 0..n {
            if !self.lines.advance()? {
                return Err(self.truncated(&head, i));
            }
            let text = self.lines.text();
            if text.starts_with("ITEM:") {
                return Err(self.truncated(&head, i));
            }
            let mut id = i as u64 + 1;
            let mut ty = 0usize;
            let mut kind = usize::MAX;
            let mut x = [0.0; 3];
            let mut img = [0i64; 3];
            let mut f = [0.0; 3];
            let mut count = 0;
            for (tok, role) in text
                .split_ascii_whitespace()
                .zip(cols.roles.iter().chain(std::iter::repeat(&Role::Skip)))
            {
                count += 1;
                let r = match *role {
                    Role::Id => int(tok, "the atom id").map(|v| id = v),
                    Role::Type => int(tok, "the atom type").map(|v| ty = v),
                    Role::Element => self.elements.index(tok).map(|k| kind = k),
                    Role::Coord(a) => finite(tok, names[a]).map(|v| x[a] = v),
                    Role::Image(a) => int(tok, IMAGE[a]).map(|v| img[a] = v),
                    Role::Force(a) => finite(tok, FORCE[a]).map(|v| f[a] = v),
                    Role::Skip => Ok(()),
                };
                r.map_err(|e| self.lines.err(e))?;
            }
            if count != ncols {
                return Err(self.lines.err(format!(
                    "expected {ncols} fields ({}), found {count}",
                    ColumnNames(&cols.roles, cols.coords)
                )));
            }
            if !cols.element {
                let map = self.type_names.as_ref().expect("checked in the header");
                kind = map.species_of(ty).ok_or_else(|| {
                    self.lines.err(format!(
                        "atom type {ty} has no species: the species list ({}) names {} type{}",
                        self.user_species.as_deref().unwrap_or_default().join(", "),
                        map.ntypes(),
                        if map.ntypes() == 1 { "" } else { "s" }
                    ))
                })?;
            } else if cols.ty {
                types.push(ty);
            }
            if cols.coords.scaled() {
                if cols.images {
                    x = [x[0] + img[0] as f64, x[1] + img[1] as f64, x[2] + img[2] as f64];
                }
                x = head.cell.cartesian(x);
            } else if cols.coords.wrapped() && cols.images {
                x = unwrap(&head.cell, x, img);
            }
            ids.push(id);
            kinds.push(kind);
            positions.push(x);
            if cols.forces {
                forces.push(f);
            }
        }

        let species = self.order_species(&mut kinds, &types);
        // Sort by id (LAMMPS writes atoms in processor order unless `dump_modify sort id`).
        if cols.id && !ids.windows(2).all(|w| w[0] < w[1]) {
            let mut perm: Vec<usize> = (0..n).collect();
            perm.sort_unstable_by_key(|&i| ids[i]);
            if let Some(w) = perm.windows(2).find(|w| ids[w[0]] == ids[w[1]]) {
                return Err(self.lines.err_at(
                    head.columns_line + 1 + w[0].max(w[1]),
                    format!(
                        "atom id {} appears twice in the frame starting at line {}",
                        ids[w[0]], head.start
                    ),
                ));
            }
            ids = perm.iter().map(|&i| ids[i]).collect();
            kinds = perm.iter().map(|&i| kinds[i]).collect();
            positions = perm.iter().map(|&i| positions[i]).collect();
            if cols.forces {
                forces = perm.iter().map(|&i| forces[i]).collect();
            }
        }
        let structure = Structure::new(head.cell, species, kinds, positions)
            .map_err(|e| self.lines.err_at(head.start, e.to_string()))?;
        Ok(Some(Frame {
            structure,
            timestep: Some(head.timestep),
            ids,
            energy: None,
            forces: cols.forces.then_some(forces),
            info: Vec::new(),
            line: head.start,
        }))
    }

    /// The species list of a frame. Names met in an `element` column are ordered by the
    /// smallest type carrying them when there is a type column and no user list, so that a
    /// dump and a data file of the same system agree; `kinds` is renumbered to match.
    fn order_species(&self, kinds: &mut [usize], types: &[usize]) -> Vec<String> {
        let names = match (&self.type_names, types.is_empty()) {
            (Some(t), true) => return t.species().to_vec(),
            (_, true) | (Some(_), false) => return self.elements.names().to_vec(),
            (None, false) => self.elements.names(),
        };
        let mut min_type = vec![usize::MAX; names.len()];
        for (&k, &t) in kinds.iter().zip(types) {
            min_type[k] = min_type[k].min(t);
        }
        let mut order: Vec<usize> = (0..names.len()).collect();
        order.sort_by_key(|&k| (min_type[k], k));
        let mut new_index = vec![0; names.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new;
        }
        for k in kinds.iter_mut() {
            *k = new_index[*k];
        }
        order.iter().map(|&k| names[k].clone()).collect()
    }
}

/// Column names as a dump header would list them, for messages.
struct ColumnNames<'a>(&'a [Role], Coords);

impl std::fmt::Display for ColumnNames<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self
            .0
            .iter()
            .map(|r| match *r {
                Role::Id => "id".into(),
                Role::Type => "type".into(),
                Role::Element => "element".into(),
                Role::Coord(a) => self.1.names()[a].into(),
                Role::Image(a) => ["ix", "iy", "iz"][a].into(),
                Role::Force(a) => ["fx", "fy", "fz"][a].into(),
                Role::Skip => "...".into(),
            })
            .collect();
        f.write_str(&names.join(" "))
    }
}

impl<R: BufRead> Iterator for DumpReader<R> {
    type Item = Result<Frame>;
    fn next(&mut self) -> Option<Result<Frame>> {
        if self.done {
            return None;
        }
        match self.read_frame() {
            Ok(Some(f)) => Some(Ok(f)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Writer of `dump custom` frames (`id type element xu yu zu`, and `fx fy fz` with forces),
/// every number in its shortest exact form. Atom ids are 1..=N, types species index + 1.
pub struct DumpWriter<W: Write> {
    w: W,
    name: PathBuf,
}

impl<W: Write> DumpWriter<W> {
    /// A writer to `w`; `name` is the file name its messages give.
    pub fn new(w: W, name: impl Into<PathBuf>) -> Self {
        DumpWriter { w, name: name.into() }
    }

    /// Appends one frame at `opts.timestep` (with `opts.forces` when set). The cell must have
    /// the LAMMPS orientation ([`super::to_lammps_orientation`]).
    pub fn write_frame(&mut self, s: &Structure, opts: &WriteOptions) -> Result<()> {
        super::check_species_names(s, &self.name)?;
        if !s.cell.is_lammps_oriented() {
            return Err(Error::invalid(format!(
                "{}: the cell is not in LAMMPS orientation (a along x, b in the xy plane); rotate it first (pelx::structure::io::to_lammps_orientation)",
                self.name.display()
            )));
        }
        if let Some(f) = opts.forces {
            if f.len() != s.len() {
                return Err(Error::invalid(format!(
                    "{}: {} forces for {} atoms",
                    self.name.display(),
                    f.len(),
                    s.len()
                )));
            }
        }
        self.write_all(s, opts).map_err(|e| Error::io(&self.name, e))
    }

    fn write_all(&mut self, s: &Structure, opts: &WriteOptions) -> std::io::Result<()> {
        let w = &mut self.w;
        let c = &s.cell;
        let (lo, hi, [xy, xz, yz]) = c.lammps_bounds();
        let flags: Vec<&str> = c.pbc().iter().map(|&p| if p { "pp" } else { "ff" }).collect();
        writeln!(
            w,
            "ITEM: TIMESTEP\n{}\nITEM: NUMBER OF ATOMS\n{}",
            opts.timestep,
            s.len()
        )?;
        if c.is_orthorhombic() {
            writeln!(w, "ITEM: BOX BOUNDS {}", flags.join(" "))?;
            for k in 0..3 {
                writeln!(w, "{} {}", Real(lo[k]), Real(hi[k]))?;
            }
        } else {
            writeln!(w, "ITEM: BOX BOUNDS xy xz yz {}", flags.join(" "))?;
            let bl = [
                lo[0] + 0.0f64.min(xy).min(xz).min(xy + xz),
                lo[1] + 0.0f64.min(yz),
                lo[2],
            ];
            let bh = [
                hi[0] + 0.0f64.max(xy).max(xz).max(xy + xz),
                hi[1] + 0.0f64.max(yz),
                hi[2],
            ];
            for (k, t) in [xy, xz, yz].iter().enumerate() {
                writeln!(w, "{} {} {}", Real(bl[k]), Real(bh[k]), Real(*t))?;
            }
        }
        write!(w, "ITEM: ATOMS id type element xu yu zu")?;
        writeln!(w, "{}", if opts.forces.is_some() { " fx fy fz" } else { "" })?;
        for (i, p) in s.positions.iter().enumerate() {
            write!(
                w,
                "{} {} {} {} {} {}",
                i + 1,
                s.types[i] + 1,
                s.symbol(i),
                Real(p[0]),
                Real(p[1]),
                Real(p[2])
            )?;
            if let Some(f) = opts.forces {
                let f = f[i];
                write!(w, " {} {} {}", Real(f[0]), Real(f[1]), Real(f[2]))?;
            }
            writeln!(w)?;
        }
        Ok(())
    }

    /// Flushes the output.
    pub fn finish(mut self) -> Result<()> {
        self.w.flush().map_err(|e| Error::io(&self.name, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_roles_prefer_unwrapped() {
        let c = Columns::parse("id type x y z xu yu zu ix iy iz").unwrap();
        assert_eq!(c.coords, Coords::Unwrapped);
        assert_eq!(c.roles[2], Role::Skip);
        assert_eq!(c.roles[5], Role::Coord(0));
        let c = Columns::parse("type xs id zs ys").unwrap();
        assert_eq!((c.coords, c.id, c.images), (Coords::Scaled, true, false));
        assert_eq!(c.roles[3], Role::Coord(2));
        assert_eq!(
            Columns::parse("id type x y vx").unwrap_err(),
            "ITEM: ATOMS lacks coordinate columns: need x y z, xu yu zu, xs ys zs or xsu ysu zsu (found: x y)"
        );
        assert!(Columns::parse("id x y z").unwrap_err().contains("type or an element"));
        assert!(Columns::parse("id type x y z ix").unwrap_err().contains("image flags"));
    }

    #[test]
    fn element_order_follows_types() {
        let text = "ITEM: TIMESTEP\n5\nITEM: NUMBER OF ATOMS\n3\nITEM: BOX BOUNDS pp pp ff\n0 10\n0 10\n0 10\nITEM: ATOMS id type element x y z\n3 2 Zr 1 1 1\n2 1 Cu 2 2 2\n1 2 Zr 3 3 3\n";
        let f = DumpReader::new(text.as_bytes(), "t.dump").next().unwrap().unwrap();
        assert_eq!(f.timestep, Some(5));
        assert_eq!(f.ids, [1, 2, 3]);
        assert_eq!(f.structure.species, ["Cu", "Zr"]);
        assert_eq!(f.structure.types, [1, 0, 1]);
        assert_eq!(f.structure.positions, [[3.0; 3], [2.0; 3], [1.0; 3]]);
        assert_eq!(f.structure.cell.pbc(), [true, true, false]);
    }
}
