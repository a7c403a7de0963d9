#!/usr/bin/env python3
"""Write a large synthetic LAMMPS dump for timing `pelx decompose` (not physics).

N atoms of two types in a cubic box at the Cu50Zr50 glass density take, every frame, a small
Gaussian step (sigma per component) and, with probability `--hop`, a 2 Å hop in a random
direction. Frames are written like LAMMPS writes them: `id type x y z ix iy iz`, wrapped
positions with image flags, 5 decimals, TIMESTEP advancing by 1000 (1 ps at 1 fs).

  /work/.venv-lammps/bin/python scripts/make_bench_trajectory.py --atoms 2000 --frames 5000 \
      --out /tmp/bench_2000x5000.dump
"""

import argparse

import numpy as np


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--atoms", type=int, default=2000)
    p.add_argument("--frames", type=int, default=5000)
    p.add_argument("--sigma", type=float, default=0.15, help="Å per component per frame")
    p.add_argument("--hop", type=float, default=0.02, help="probability of a 2 Å hop per frame")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    a = p.parse_args()

    rng = np.random.default_rng(a.seed)
    n = a.atoms
    box = (n / 0.0561) ** (1.0 / 3.0)
    pos = rng.random((n, 3)) * box
    ids = np.arange(1, n + 1)
    types = 1 + (ids % 2)
    with open(a.out, "w") as f:
        for k in range(a.frames):
            if k > 0:
                pos += rng.normal(0.0, a.sigma, (n, 3))
                hop = rng.random(n) < a.hop
                u = rng.normal(size=(hop.sum(), 3))
                pos[hop] += 2.0 * u / np.linalg.norm(u, axis=1)[:, None]
            img = np.floor(pos / box).astype(np.int64)
            w = pos - img * box
            f.write(f"ITEM: TIMESTEP\n{1000 * k}\nITEM: NUMBER OF ATOMS\n{n}\nITEM: BOX BOUNDS pp pp pp\n")
            f.write(f"0 {box:.10f}\n0 {box:.10f}\n0 {box:.10f}\nITEM: ATOMS id type x y z ix iy iz\n")
            lines = [
                f"{i} {t} {x:.5f} {y:.5f} {z:.5f} {ix} {iy} {iz}"
                for i, t, (x, y, z), (ix, iy, iz) in zip(ids, types, w, img)
            ]
            f.write("\n".join(lines))
            f.write("\n")


if __name__ == "__main__":
    main()
