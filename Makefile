# neurodyn — build, test, demo. Targets: all test demo bench asan fuzz deps clean
CC      ?= gcc
ARCH    ?= -march=native
OPT     ?= -O2
HDF5_CFLAGS := $(shell pkg-config --cflags hdf5 2>/dev/null || echo -I/usr/include/hdf5/serial)
HDF5_LIBS   := $(shell pkg-config --libs hdf5 2>/dev/null || echo -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5)
CFLAGS  ?= $(OPT) $(ARCH) -g
ALL_CFLAGS = $(CFLAGS) -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -fopenmp $(HDF5_CFLAGS) -Iinclude -DND_HAVE_LIBMATIO
LDLIBS  = $(HDF5_LIBS) -lcjson -llapacke -lopenblas -lmatio -lz -lm -fopenmp

# Debian packages needed to build and test (make deps installs the missing ones when root)
DEB_PKGS := gcc make pkg-config libopenblas-dev liblapacke-dev libhdf5-dev zlib1g-dev libcjson-dev libmatio-dev \
            libopenmpi-dev openmpi-bin clang libclang-rt-14-dev libomp-dev

LIB_SRC  := $(wildcard src/core/*.c src/nn/*.c src/io/*.c src/models/*.c src/eval/*.c src/analysis/*.c)
CLI_SRC  := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
GRAD_SRC := $(wildcard tests/gradcheck_*.c)

# MPI for 'neurodyn search' under mpirun: only src/cli/search_mpi.c sees mpi.h; without mpicc it builds stubs.
MPICC := $(shell command -v mpicc 2>/dev/null)
ifneq ($(MPICC),)
MPI_CFLAGS := -DND_HAVE_MPI $(shell mpicc --showme:compile)
MPI_LIBS   := $(shell mpicc --showme:link)
endif

# BUILD is the object tree; the sanitizer build uses its own (make asan).
BUILD ?= build
LIBA  ?= lib/libneurodyn.a
NDBIN ?= bin/neurodyn
OBJ32 := $(LIB_SRC:%.c=$(BUILD)/f32/%.o)
OBJ64 := $(LIB_SRC:%.c=$(BUILD)/f64/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/f32/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
GRAD_BIN := $(GRAD_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all test test-suite demo demo-run bench bench-run bench-deps asan fuzz deps clean
all: $(LIBA) $(NDBIN)

$(BUILD)/f32/%.o: %.c $(wildcard src/*/*.h include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@
$(BUILD)/f64/%.o: %.c $(wildcard src/*/*.h include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DND_REAL_DOUBLE -c $< -o $@

$(LIBA): $(OBJ32)
	@mkdir -p $(dir $@)
	rm -f $@; ar rcs $@ $^
$(BUILD)/libneurodyn_f64.a: $(OBJ64)
	rm -f $@; ar rcs $@ $^

$(BUILD)/f32/src/cli/search_mpi.o: ALL_CFLAGS += $(MPI_CFLAGS)
# rebuild search_mpi.o and relink when mpicc appears or goes (e.g. after make deps installed OpenMPI)
MPI_STAMP := $(BUILD)/mpi-$(if $(MPICC),on,off).stamp
$(MPI_STAMP):
	@mkdir -p $(dir $@); rm -f $(BUILD)/mpi-*.stamp; touch $@
$(BUILD)/f32/src/cli/search_mpi.o $(NDBIN): $(MPI_STAMP)
$(NDBIN): $(CLI_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIBA) $(LDLIBS) $(MPI_LIBS)

$(BUILD)/tests/test_%: tests/test_%.c tests/test.h tests/matio_weak.h $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)
$(BUILD)/tests/gradcheck_%: tests/gradcheck_%.c tests/test.h $(BUILD)/libneurodyn_f64.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -DND_REAL_DOUBLE -o $@ $< $(BUILD)/libneurodyn_f64.a $(LDLIBS)

# The test suite: unit + gradient checks + CLI end-to-end (tests/cli.sh) + the fuzz smoke run
# (fuzz/smoke.sh: replays fuzz/crashes/, ~45 s; skips without clang/libFuzzer). Two threads, as on CI.
# deps first, then a fresh make: variables probed at parse time (mpicc, pkg-config) see what deps installed.
test: deps
	@$(MAKE) --no-print-directory test-suite
test-suite: all $(TEST_BIN) $(GRAD_BIN)
	NEURODYN=$(NDBIN) OMP_NUM_THREADS=2 ./tests/run.sh $(GRAD_BIN) $(TEST_BIN) tests/cli.sh tests/nlb_cli.sh tests/crash.sh \
	  tests/reliability.sh tests/search.sh tests/stitch.sh tests/recon.sh fuzz/smoke.sh

# Same suite built with AddressSanitizer + UndefinedBehaviorSanitizer, in its own tree.
# (The fuzz harnesses are ASan/UBSan builds of their own: make test's smoke run is not repeated here.)
asan: deps
	FUZZ_SMOKE=skip STITCH_EXPERIMENT=skip $(MAKE) --no-print-directory BUILD=build/asan LIBA=build/asan/libneurodyn.a NDBIN=build/asan/neurodyn \
	  CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" test

demo: deps
	@$(MAKE) --no-print-directory demo-run
demo-run: all
	NEURODYN=$(NDBIN) ./scripts/demo.sh

$(BUILD)/bench/%: bench/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

$(BUILD)/bench/%_f64: bench/%.c $(BUILD)/libneurodyn_f64.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -DND_REAL_DOUBLE -o $@ $< $(BUILD)/libneurodyn_f64.a $(LDLIBS)

# Speed figures, measured against references in the same run (see bench/README.md).
bench: deps bench-deps
	@$(MAKE) --no-print-directory bench-run
bench-run: all $(BUILD)/bench/bench_train $(BUILD)/bench/export_fixture $(BUILD)/bench/export_fixture_f64 \
       $(BUILD)/bench/bench_analysis
	/usr/bin/python3 bench/run_bench.py $(BUILD)/bench
	$(BUILD)/bench/bench_analysis

# make bench also wants the PyTorch comparator's packages (it skips the PyTorch columns without them)
BENCH_PKGS := python3-numpy python3-torch
bench-deps:
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(BENCH_PKGS)" || echo "bench: PyTorch columns will be skipped"

deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing:$$missing"; \
	    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing) >/dev/null || exit 1; \
	  else echo "missing Debian packages; run: sudo apt-get install$$missing"; exit 1; fi; \
	fi

# Long fuzzing run (fuzz/README.md): each harness for FUZZ_SECONDS (default 120) on one core, one
# after another; crashes go to fuzz/build/art/<harness>/. FUZZ_HARNESSES picks some, e.g.
#   make fuzz FUZZ_HARNESSES="fuzz_mat fuzz_nwb" FUZZ_SECONDS=600
FUZZ_SECONDS ?= 120
FUZZ_HARNESSES ?= $(basename $(notdir $(wildcard fuzz/fuzz_*.c)))
fuzz: deps
	@for h in $(FUZZ_HARNESSES); do ./fuzz/run.sh $$h $(FUZZ_SECONDS) || exit 1; done

clean:
	rm -rf build lib bin fuzz/build
