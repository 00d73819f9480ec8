#!/usr/bin/env bash
# Installs every reference the benchmark suites compare against, as Debian 12 packages (run as root):
#   OpenBLAS 0.3.21 (gemm, in-process), PyTorch 1.13 with numpy (gru, scan-*, vsepp-*, squeezenet), NLTK
#   (tokenize, data-open), FAISS and hnswlib (the search suites), Open MPI (mpi: mpirun and libmpi.so.40).
# The benchmarks use Debian's /usr/bin/python3 (CROSSMODAL_PYTHON overrides it) and libopenblas.so.0
# (CROSSMODAL_OPENBLAS overrides it). A suite whose reference is missing says what to install and is skipped.
set -euo pipefail
packages=(python3-torch python3-nltk libopenblas-dev python3-faiss python3-hnswlib openmpi-bin libopenmpi-dev)
if ! command -v apt-get >/dev/null; then
  echo "setup.sh: no apt-get here; install the equivalents of: ${packages[*]}" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root: sudo $0" >&2
  exit 1
fi
apt-get update
apt-get install -y "${packages[@]}"
