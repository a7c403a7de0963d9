//! Extended XYZ, as ASE and OVITO read and write it.
//!
//! A frame is a line with the number of atoms N, a comment line of `key=value` pairs and N
//! atom lines whose columns the `Properties` key describes:
//! ```text
//! 2
//! Lattice="10 0 0 0 10 0 0 0 10" Properties=species:S:1:pos:R:3:forces:R:3 energy=-7.1 pbc="T T T"
//! Cu 0.0 0.0 0.0 0.1 0.0 0.0
//! Zr 2.5 2.5 2.5 -0.1 0.0 0.0
//! ```
//! Recognised keys (case-insensitive): `Lattice` (the edge vectors a, b, c, 9 numbers),
//! `Properties` (`name:type:count` triples; `species:S:1` and `pos:R:3` are required,
//! `forces:R:3` is read, other columns are skipped), `pbc` (default `T T T` with a lattice),
//! `energy` (eV) and `Origin` (OVITO's cell origin). Other keys are kept in [`Frame::info`].
//! Values may be quoted with `"..."`, `'...'` or `{...}`. Without `Properties` the columns are
//! `species x y z` (plain XYZ); without `Lattice` the frame gets a non-periodic box
//! ([`Cell::open_box`], [`OPEN_BOX_MARGIN`] Å of vacuum).

use super::lines::{finite, int, parse_pbc, pbc_string, LineReader, Real};
use super::species::SpeciesTable;
use super::{Frame, WriteOptions, OPEN_BOX_MARGIN};
use crate::structure::{Cell, Structure};
use crate::{Error, Result};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Streaming reader of the frames of an extended XYZ file, one frame in memory at a time.
pub struct ExtXyzReader<R> {
    lines: LineReader<R>,
    species: SpeciesTable,
    done: bool,
    /// Frames started so far.
    frames: usize,
}

/// What an atom-line column holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Species,
    Pos(usize),
    Force(usize),
    Skip,
}

const POS_NAMES: [&str; 3] = ["coordinate x", "coordinate y", "coordinate z"];
const FORCE_NAMES: [&str; 3] = ["force x", "force y", "force z"];

impl ExtXyzReader<BufReader<File>> {
    /// Opens `path` for reading.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(ExtXyzReader::new(BufReader::with_capacity(1 << 16, f), path))
    }
}

impl<R: BufRead> ExtXyzReader<R> {
    /// A reader of `reader`; `name` is the file name its messages give.
    pub fn new(reader: R, name: impl Into<PathBuf>) -> Self {
        ExtXyzReader {
            lines: LineReader::new(reader, name.into()),
            species: SpeciesTable::default(),
            done: false,
            frames: 0,
        }
    }

    /// Fixes the order of the species of every frame (each element in the file must be
    /// listed); `None` keeps the order of first appearance.
    pub fn with_species(mut self, species: Option<Vec<String>>) -> Self {
        self.species = SpeciesTable::new(species.as_deref());
        self
    }

    /// Reads the count and comment lines of the next frame; `None` at the end of the file.
    fn header(&mut self) -> Result<Option<(usize, usize)>> {
        if !self.lines.advance_nonblank()? {
            if self.frames == 0 {
                return Err(self.lines.err_at(0, "empty file"));
            }
            return Ok(None);
        }
        self.frames += 1;
        let start = self.lines.line();
        let text = self.lines.text();
        let mut toks = text.split_ascii_whitespace();
        let n: usize = match toks.next().map(|t| int::<usize>(t, "the number of atoms")) {
            Some(Ok(n)) => n,
            Some(Err(_)) | None => {
                return Err(self.lines.err(format!(
                    "expected the number of atoms of a frame, found '{}'",
                    text.trim()
                )))
            }
        };
        if n == 0 {
            return Err(self.lines.err("frame has 0 atoms; a structure needs at least one"));
        }
        if !self.lines.advance()? {
            return Err(self.lines.err("file ends before the comment line of the frame"));
        }
        Ok(Some((n, start)))
    }

    /// After a frame, checks that the file ends or goes on with another frame's atom count. A
    /// line of atom data here means that the frame's count line says too few atoms, which
    /// reading one frame would otherwise pass over in silence.
    pub fn check_next_header(&mut self) -> Result<()> {
        if !self.lines.advance_nonblank()? {
            return Ok(());
        }
        let text = self.lines.text();
        match text
            .split_ascii_whitespace()
            .next()
            .map(|t| int::<usize>(t, "the number of atoms"))
        {
            Some(Ok(_)) => Ok(()),
            _ => Err(self.lines.err(format!(
                "expected the end of the file or the number of atoms of another frame, found '{}' \
                 (does the frame's first line give too few atoms?)",
                text.trim()
            ))),
        }
    }

    /// Skips the next frame without parsing its numbers; `false` at the end of the file.
    pub fn skip_frame(&mut self) -> Result<bool> {
        let Some((n, start)) = self.header()? else {
            return Ok(false);
        };
        for i in 0..n {
            if !self.lines.advance()? {
                return Err(self.truncated(i, n, start));
            }
        }
        Ok(true)
    }

    fn truncated(&self, i: usize, n: usize, start: usize) -> Error {
        self.lines.err(format!(
            "file ends after {i} of the {n} atom lines announced at line {start}"
        ))
    }

    /// Reads and parses the next frame; `None` at the end of the file.
    fn read_frame(&mut self) -> Result<Option<Frame>> {
        let Some((n, start)) = self.header()? else {
            return Ok(None);
        };
        let comment_line = self.lines.line();
        let header = Header::parse(self.lines.text()).map_err(|e| self.lines.err(e))?;
        let roles = &header.roles;
        let ncols = roles.len();
        let want_forces = roles.contains(&Role::Force(0));

        let cap = n.min(super::MAX_PREALLOCATION);
        let mut types = Vec::with_capacity(cap);
        let mut positions = Vec::with_capacity(cap);
        let mut forces = Vec::with_capacity(if want_forces { cap } else { 0 });
        for i in 0..n {
            if !self.lines.advance()? {
                return Err(self.truncated(i, n, start));
            }
            let text = self.lines.text();
            let mut p = [0.0; 3];
            let mut f = [0.0; 3];
            let mut t = 0;
            let mut count = 0;
            for (tok, role) in text
                .split_ascii_whitespace()
                .zip(roles.iter().chain(std::iter::repeat(&Role::Skip)))
            {
                count += 1;
                let r = match *role {
                    Role::Species => self.species.index(tok).map(|k| t = k),
                    Role::Pos(a) => finite(tok, POS_NAMES[a]).map(|x| p[a] = x),
                    Role::Force(a) => finite(tok, FORCE_NAMES[a]).map(|x| f[a] = x),
                    Role::Skip => Ok(()),
                };
                r.map_err(|e| self.lines.err(e))?;
            }
            if count != ncols {
                return Err(self
                    .lines
                    .err(format!("expected {ncols} fields ({}), found {count}", header.columns)));
            }
            types.push(t);
            positions.push(p);
            if want_forces {
                forces.push(f);
            }
        }

        let at_header = |e: Error| self.lines.err_at(comment_line, e.to_string());
        let cell = match header.lattice {
            Some(h) => {
                Cell::new(h[0], h[1], h[2], header.origin, header.pbc.unwrap_or([true; 3])).map_err(at_header)?
            }
            None => {
                if header.pbc.is_some_and(|p| p.iter().any(|&x| x)) {
                    return Err(self
                        .lines
                        .err_at(comment_line, "pbc has periodic axes but there is no Lattice"));
                }
                Cell::open_box(&positions, OPEN_BOX_MARGIN).map_err(at_header)?
            }
        };
        let structure = Structure::new(cell, self.species.names().to_vec(), types, positions)
            .map_err(|e| self.lines.err_at(start, e.to_string()))?;
        let mut frame = Frame::bare(structure, start);
        frame.energy = header.energy;
        frame.forces = want_forces.then_some(forces);
        frame.info = header.info;
        Ok(Some(frame))
    }
}

impl<R: BufRead> Iterator for ExtXyzReader<R> {
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

/// What a comment line says.
struct Header {
    lattice: Option<[[f64; 3]; 3]>,
    origin: [f64; 3],
    pbc: Option<[bool; 3]>,
    energy: Option<f64>,
    roles: Vec<Role>,
    /// The column names, for messages ("species x y z").
    columns: String,
    info: Vec<(String, String)>,
}

impl Header {
    fn parse(line: &str) -> std::result::Result<Header, String> {
        let mut h = Header {
            lattice: None,
            origin: [0.0; 3],
            pbc: None,
            energy: None,
            roles: vec![Role::Species, Role::Pos(0), Role::Pos(1), Role::Pos(2)],
            columns: "species x y z".to_string(),
            info: Vec::new(),
        };
        // A comment line without any key=value is a plain XYZ title.
        let pairs = match key_values(line) {
            Ok(p) if p.iter().any(|(_, v)| v.is_some()) => p,
            Err(e) if line.contains('=') => return Err(e),
            _ => return Ok(h),
        };
        for (key, value) in pairs {
            let value = value.unwrap_or_else(|| "T".to_string());
            let k = key.to_ascii_lowercase();
            match k.as_str() {
                "lattice" => {
                    let v = numbers::<9>(&value, "Lattice")?;
                    h.lattice = Some([[v[0], v[1], v[2]], [v[3], v[4], v[5]], [v[6], v[7], v[8]]]);
                }
                "origin" => h.origin = numbers::<3>(&value, "Origin")?,
                "pbc" => {
                    h.pbc = Some(parse_pbc(&value).ok_or_else(|| format!("pbc must be three of T/F, not '{value}'"))?);
                }
                "energy" => h.energy = Some(finite(value.trim(), "energy")?),
                "properties" => (h.roles, h.columns) = properties(&value)?,
                _ => h.info.push((key, value)),
            }
        }
        Ok(h)
    }
}

/// `n` finite numbers separated by blanks.
fn numbers<const N: usize>(value: &str, key: &str) -> std::result::Result<[f64; N], String> {
    let mut out = [0.0; N];
    let mut k = 0;
    for tok in value.split_ascii_whitespace() {
        if k == N {
            return Err(format!("{key} must hold {N} numbers, found more: '{value}'"));
        }
        out[k] = finite(tok, key)?;
        k += 1;
    }
    if k != N {
        return Err(format!("{key} must hold {N} numbers, found {k}: '{value}'"));
    }
    Ok(out)
}

/// The column roles of a `Properties` value (`species:S:1:pos:R:3:...`), and their names.
fn properties(value: &str) -> std::result::Result<(Vec<Role>, String), String> {
    let parts: Vec<&str> = value.split(':').collect();
    if parts.len() % 3 != 0 || parts.is_empty() {
        return Err(format!("Properties must be name:type:count triples, not '{value}'"));
    }
    let mut roles = Vec::new();
    let mut names = Vec::new();
    let (mut species, mut pos) = (false, false);
    for p in parts.chunks(3) {
        let (name, kind) = (p[0], p[1]);
        let count: usize = p[2].parse().ok().filter(|&c| c > 0).ok_or_else(|| {
            format!(
                "Properties: count of '{name}' must be a positive integer, not '{}'",
                p[2]
            )
        })?;
        if !matches!(kind, "S" | "R" | "I" | "L") {
            return Err(format!(
                "Properties: type of '{name}' must be S, R, I or L, not '{kind}'"
            ));
        }
        let lname = name.to_ascii_lowercase();
        match lname.as_str() {
            "species" => {
                if kind != "S" || count != 1 {
                    return Err(format!("Properties: species must be S:1, not {kind}:{count}"));
                }
                species = true;
                roles.push(Role::Species);
            }
            "pos" | "positions" => {
                if kind != "R" || count != 3 {
                    return Err(format!("Properties: {name} must be R:3, not {kind}:{count}"));
                }
                pos = true;
                roles.extend((0..3).map(Role::Pos));
            }
            "forces" | "force" if kind == "R" && count == 3 => roles.extend((0..3).map(Role::Force)),
            _ => roles.extend(std::iter::repeat_n(Role::Skip, count)),
        }
        if count == 1 {
            names.push(name.to_string());
        } else {
            names.extend((0..count).map(|i| format!("{name}[{i}]")));
        }
    }
    if !species || !pos {
        return Err(format!(
            "Properties must include species:S:1 and pos:R:3, not '{value}'"
        ));
    }
    Ok((roles, names.join(" ")))
}

/// Splits a comment line into `key=value` pairs (a bare key has no value). Keys and values
/// may be quoted with `"` or `'` (backslash escapes the next character) or `{}`/`[]`.
fn key_values(line: &str) -> std::result::Result<Vec<(String, Option<String>)>, String> {
    let b = line.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i == b.len() {
            return Ok(out);
        }
        let key = token(b, &mut i, true)?;
        let after_key = i;
        skip_ws(&mut i);
        if i < b.len() && b[i] == b'=' {
            i += 1;
            skip_ws(&mut i);
            let value = if i == b.len() {
                String::new()
            } else {
                token(b, &mut i, false)?
            };
            out.push((key, Some(value)));
        } else {
            i = after_key;
            out.push((key, None));
        }
    }
}

/// One key or value starting at `b[*i]` (not a blank), unquoted.
fn token(b: &[u8], i: &mut usize, stop_at_eq: bool) -> std::result::Result<String, String> {
    let mut out = Vec::new();
    let close = match b[*i] {
        b'"' => Some(b'"'),
        b'\'' => Some(b'\''),
        b'{' => Some(b'}'),
        b'[' => Some(b']'),
        _ => None,
    };
    if let Some(close) = close {
        let open = b[*i];
        let keep_brackets = open == b'[';
        if keep_brackets {
            out.push(open);
        }
        *i += 1;
        loop {
            match b.get(*i) {
                None => return Err(format!("unterminated {} in the comment line", open as char)),
                Some(&c) if c == close => {
                    *i += 1;
                    break;
                }
                Some(&b'\\') if close == b'"' || close == b'\'' => {
                    if let Some(&next) = b.get(*i + 1) {
                        out.push(next);
                    }
                    *i += 2;
                }
                Some(&c) => {
                    out.push(c);
                    *i += 1;
                }
            }
        }
        if keep_brackets {
            out.push(close);
        }
    } else {
        while *i < b.len() && !b[*i].is_ascii_whitespace() && !(stop_at_eq && b[*i] == b'=') {
            out.push(b[*i]);
            *i += 1;
        }
    }
    // Only ASCII bytes were removed, so the bytes are still UTF-8.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Writer of extended XYZ frames that ASE (`format='extxyz'`) and OVITO read, with every
/// number in its shortest exact form.
pub struct ExtXyzWriter<W: Write> {
    w: W,
    name: PathBuf,
}

/// Keys the writer sets itself.
const RESERVED: [&str; 5] = ["lattice", "properties", "pbc", "energy", "origin"];

impl<W: Write> ExtXyzWriter<W> {
    /// A writer to `w`; `name` is the file name its messages give.
    pub fn new(w: W, name: impl Into<PathBuf>) -> Self {
        ExtXyzWriter { w, name: name.into() }
    }

    /// Appends one frame: `Lattice` (always, also for non-periodic boxes), `Origin` when not
    /// zero, `energy`, `opts.info`, `pbc`, and the forces column when `opts.forces` is set.
    pub fn write_frame(&mut self, s: &Structure, opts: &WriteOptions) -> Result<()> {
        super::check_species_names(s, &self.name)?;
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
        let mut info = String::new();
        for (k, v) in &opts.info {
            if k.is_empty() || k.bytes().any(|c| c.is_ascii_whitespace() || b"=\"'{}[]".contains(&c)) {
                return Err(Error::invalid(format!(
                    "extended XYZ key '{k}' is empty or holds a blank, quote, bracket or '='"
                )));
            }
            if RESERVED.contains(&k.to_ascii_lowercase().as_str()) {
                return Err(Error::invalid(format!(
                    "extended XYZ key '{k}' is written by pelx itself"
                )));
            }
            info.push(' ');
            info.push_str(k);
            info.push('=');
            info.push_str(&quote(v));
        }
        self.write_all(s, opts, &info).map_err(|e| Error::io(&self.name, e))
    }

    fn write_all(&mut self, s: &Structure, opts: &WriteOptions, info: &str) -> std::io::Result<()> {
        let w = &mut self.w;
        let c = &s.cell;
        writeln!(w, "{}", s.len())?;
        write!(w, "Lattice=\"")?;
        for k in 0..3 {
            let e = c.edge(k);
            let sep = if k == 2 { "" } else { " " };
            write!(w, "{} {} {}{sep}", Real(e[0]), Real(e[1]), Real(e[2]))?;
        }
        write!(w, "\" Properties=species:S:1:pos:R:3")?;
        if opts.forces.is_some() {
            write!(w, ":forces:R:3")?;
        }
        if let Some(e) = opts.energy {
            write!(w, " energy={}", Real(e))?;
        }
        write!(w, "{info}")?;
        let o = c.origin();
        if o != [0.0; 3] {
            write!(w, " Origin=\"{} {} {}\"", Real(o[0]), Real(o[1]), Real(o[2]))?;
        }
        writeln!(w, " pbc=\"{}\"", pbc_string(c.pbc()))?;
        for (i, p) in s.positions.iter().enumerate() {
            write!(w, "{} {} {} {}", s.symbol(i), Real(p[0]), Real(p[1]), Real(p[2]))?;
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

/// A value as it must appear after `key=`: quoted (with `"` and `\` escaped) when it holds a
/// blank, a quote or is empty.
fn quote(v: &str) -> String {
    if !v.is_empty() && !v.bytes().any(|c| c.is_ascii_whitespace() || b"\"'=\\{}[]".contains(&c)) {
        return v.to_string();
    }
    let mut q = String::with_capacity(v.len() + 2);
    q.push('"');
    for c in v.chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(line: &str) -> Vec<(String, Option<String>)> {
        key_values(line).unwrap()
    }

    #[test]
    fn comment_line_quoting() {
        let p = kv(r#"Lattice="1 0 0 0 1 0 0 0 1" name='a b' flag tag = x arr={1 2} q="say \"hi\"" j=[1, 2]"#);
        let p: Vec<(&str, Option<&str>)> = p.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
        assert_eq!(
            p,
            [
                ("Lattice", Some("1 0 0 0 1 0 0 0 1")),
                ("name", Some("a b")),
                ("flag", None),
                ("tag", Some("x")),
                ("arr", Some("1 2")),
                ("q", Some(r#"say "hi""#)),
                ("j", Some("[1, 2]")),
            ]
        );
        assert_eq!(
            key_values(r#"a="open"#).unwrap_err(),
            "unterminated \" in the comment line"
        );
    }

    #[test]
    fn quoting_round_trips() {
        for v in ["plain", "two words", r#"with "quotes" and \ slash"#, ""] {
            let line = format!("k={}", quote(v));
            assert_eq!(kv(&line), [("k".to_string(), Some(v.to_string()))], "{line}");
        }
    }

    #[test]
    fn properties_with_extra_columns() {
        let (roles, names) = properties("species:S:1:pos:R:3:tags:I:1:forces:R:3:mom:R:3").unwrap();
        assert_eq!(roles.len(), 11);
        assert_eq!(roles[4], Role::Skip);
        assert_eq!(roles[5..8], [Role::Force(0), Role::Force(1), Role::Force(2)]);
        assert_eq!(
            names,
            "species pos[0] pos[1] pos[2] tags forces[0] forces[1] forces[2] mom[0] mom[1] mom[2]"
        );
        assert!(properties("pos:R:3").unwrap_err().contains("must include species"));
        assert!(properties("species:S:1:pos:R").unwrap_err().contains("triples"));
    }

    #[test]
    fn plain_xyz_and_open_box() {
        let text = "2\nwater-free title\nCu 0 0 0\nZr 1.5 0 0\n";
        let f = ExtXyzReader::new(text.as_bytes(), "t.xyz").next().unwrap().unwrap();
        let s = &f.structure;
        assert_eq!(s.species, ["Cu", "Zr"]);
        assert_eq!(s.cell.pbc(), [false; 3]);
        assert_eq!(s.cell.origin(), [-OPEN_BOX_MARGIN; 3]);
        assert_eq!(s.cell.edge(0), [1.5 + 2.0 * OPEN_BOX_MARGIN, 0.0, 0.0]);
        assert!(f.info.is_empty() && f.energy.is_none() && f.forces.is_none());
    }
}
