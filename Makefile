# Ember: the commands of the README. `make demo` and `make test` install what is missing first.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps data configure build demo test test-asan bench install format clean

all: build

deps:
	@bash scripts/install-deps.sh

## The example datasets (from Debian packages) into data/.
data:
	@bash scripts/get-data.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

## The main job: the founding document's linear regression and the iris classifier, trained by
## `ember train` (final metrics, and where the reports are).
demo: build data
	@$(BUILD)/tools/ember/ember train examples/linreg.toml --out runs/linreg
	@$(BUILD)/tools/ember/ember train examples/iris.toml --out runs/iris

## The whole test suite (unit, PyTorch parity, the ember command, examples).
test: build data
	@cd $(BUILD) && ctest --output-on-failure

## The suite under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps data
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_SANITIZE=ON \
	  -DEMBER_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp ctest --output-on-failure

## Side-by-side benchmarks against libtorch and PyTorch.
bench: build data
	@bash bench/run.sh $(BUILD)
	@$(BUILD)/bench/trainer_overhead
	@bash bench/iris_process.sh $(BUILD)
	@bash bench/cnn_epoch.sh $(BUILD)
	@bash bench/gpt_bench.sh $(BUILD)

## Installs the library, headers and CMake package (PREFIX=/usr/local by default).
PREFIX ?= /usr/local
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

format:
	@find include src tests bench examples tools -name '*.h' -o -name '*.cpp' | xargs clang-format -i

clean:
	@rm -rf $(BUILD) $(ASAN_BUILD)
