# neurodyn — build, test, demo. Targets: all test demo bench asan fuzz deps install uninstall clean
# Portable by default (x86-64-v2: any x86-64 CPU since ~2009); `make ARCH=-march=native` tunes for this CPU.
CC      ?= gcc
ARCH    ?= -march=x86-64-v2
OPT     ?= -O2
HDF5_CFLAGS := $(shell pkg-config --cflags hdf5 2>/dev/null || echo -I/usr/include/hdf5/serial)
HDF5_LIBS   := $(shell pkg-config --libs hdf5 2>/dev/null || echo -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5)
CFLAGS  ?= $(OPT) $(ARCH) -g
ALL_CFLAGS = $(CFLAGS) -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -fopenmp $(HDF5_CFLAGS) -Iinclude -DND_HAVE_LIBMATIO
LDLIBS  = $(HDF5_LIBS) -lcjson -lyaml -llapacke -lopenblas -lmatio -lz -lm -fopenmp

# Debian packages needed to build (make demo, make install) and, in addition, to test: the fuzz smoke run
# (clang, libFuzzer, libomp), mpirun search (OpenMPI), the header's cffi parse and the Python package's tests
# (python3-cffi, python3-pytest, python3-numpy, python3-h5py; python3-torch optional, for the export check), the
# Fashion-MNIST learning test (dataset-fashion-mnist, also what 'learn train --task fashion-mnist' reads), the
# report test (chromium renders the page headless, xmllint checks its SVG) and the L5PC in NEURON (neuron,
# neuron-dev, python3-neuron: neuron simulate --cell l5pc). make deps
# installs the missing ones when root; tests whose tools are absent skip with a line saying so.
BUILD_PKGS := gcc make pkg-config libopenblas-dev liblapacke-dev libhdf5-dev zlib1g-dev libcjson-dev libyaml-dev libmatio-dev
TEST_PKGS  := libopenmpi-dev openmpi-bin clang libclang-rt-14-dev libomp-dev python3-cffi python3-pytest python3-numpy \
              python3-h5py dataset-fashion-mnist chromium libxml2-utils neuron neuron-dev python3-neuron
DEB_PKGS   := $(BUILD_PKGS) $(TEST_PKGS)

# installation (make install PREFIX=... DESTDIR=...)
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0
SOMAJOR := 0
# the Python package (python/neurodyn): PYTHONPATH=$(PYDIR) finds it; it loads PREFIX/lib/libneurodyn.so.0
PYDIR   ?= $(PREFIX)/lib/python3/dist-packages

CORE_SRC := $(wildcard src/core/*.c src/nn/*.c src/io/*.c src/models/*.c src/eval/*.c src/analysis/*.c)
API_SRC  := $(wildcard src/api/*.c)
LIB_SRC  := $(CORE_SRC) $(API_SRC)
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
LIBSO_NAME := libneurodyn.so.$(SOMAJOR)
LIBSO ?= $(dir $(LIBA))libneurodyn.so.$(VERSION)
OBJ32 := $(LIB_SRC:%.c=$(BUILD)/f32/%.o)
# the double build is internal (gradient checks): the float-only public API (src/api) is not in it
OBJ64 := $(CORE_SRC:%.c=$(BUILD)/f64/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/f32/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
GRAD_BIN := $(GRAD_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all test test-suite demo demo-run bench bench-run bench-deps asan fuzz deps clean install uninstall man
all: $(LIBA) $(LIBSO) $(NDBIN)

# objects are rebuilt when the compiler or its flags change (e.g. ARCH=-march=native, or a tree built before
# the library objects were -fPIC): the stamp's name is a checksum of them
FLAGS_STAMP := $(BUILD)/flags-$(shell printf '%s' '$(CC) $(CFLAGS) pic-hidden-1' | cksum | cut -d' ' -f1).stamp
$(FLAGS_STAMP):
	@mkdir -p $(dir $@); rm -f $(BUILD)/flags-*.stamp; touch $@

$(BUILD)/f32/%.o: %.c $(wildcard src/*/*.h src/*.h include/*.h) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@
$(BUILD)/f64/%.o: %.c $(wildcard src/*/*.h src/*.h include/*.h) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DND_REAL_DOUBLE -c $< -o $@

# library objects: position-independent (one set serves libneurodyn.a and libneurodyn.so) and hidden
# unless src/api marks them ND_API: the shared library exports the public API's nd_ functions only
$(OBJ32): ALL_CFLAGS += -fPIC -fvisibility=hidden
$(API_SRC:%.c=$(BUILD)/f32/%.o): ALL_CFLAGS += -DND_LIB_VERSION='"$(VERSION)"'
$(LIBA): $(OBJ32)
	@mkdir -p $(dir $@)
	rm -f $@; ar rcs $@ $^

# the linker version script: every function declared in the public header (scripts/api_symbols.sh)
$(BUILD)/neurodyn.map: include/neurodyn.h scripts/api_symbols.sh
	@mkdir -p $(dir $@)
	./scripts/api_symbols.sh --map include/neurodyn.h >$@
$(LIBSO): $(OBJ32) $(BUILD)/neurodyn.map
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(LIBSO_NAME) -Wl,--version-script=$(BUILD)/neurodyn.map \
	  -Wl,--no-undefined -o $@ $(OBJ32) $(LDLIBS)
	ln -sf $(notdir $@) $(dir $@)$(LIBSO_NAME)
	ln -sf $(LIBSO_NAME) $(dir $@)libneurodyn.so
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
$(BUILD)/tests/h5cmp: tests/h5cmp.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)
$(BUILD)/tests/gradcheck_%: tests/gradcheck_%.c tests/test.h $(BUILD)/libneurodyn_f64.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -DND_REAL_DOUBLE -o $@ $< $(BUILD)/libneurodyn_f64.a $(LDLIBS)

# The test suite: unit + gradient checks + CLI end-to-end (tests/cli.sh) + the fuzz smoke run
# (fuzz/smoke.sh: replays fuzz/crashes/, ~45 s; skips without clang/libFuzzer) + the include-layering check
# (scripts/layers.sh). Two threads, as on CI.
# deps first, then a fresh make: variables probed at parse time (mpicc, pkg-config) see what deps installed.
test: deps
	@$(MAKE) --no-print-directory test-suite
test-suite: all $(TEST_BIN) $(GRAD_BIN) $(BUILD)/tests/h5cmp
	NEURODYN=$(NDBIN) LIBSO=$(LIBSO) H5CMP=$(BUILD)/tests/h5cmp OMP_NUM_THREADS=2 ./tests/run.sh $(GRAD_BIN) $(TEST_BIN) tests/cli.sh \
	  tests/nlb_cli.sh tests/crash.sh tests/reliability.sh tests/search.sh tests/stitch.sh tests/trust.sh tests/recon.sh tests/api.sh tests/report.sh tests/neuron.sh tests/python.sh fuzz/smoke.sh \
	  scripts/layers.sh

# Same suite built with AddressSanitizer + UndefinedBehaviorSanitizer, in its own tree.
# (The fuzz harnesses are ASan/UBSan builds of their own: make test's smoke run is not repeated here.)
asan: deps
	FUZZ_SMOKE=skip STITCH_EXPERIMENT=skip API_INSTALL=skip $(MAKE) --no-print-directory BUILD=build/asan LIBA=build/asan/libneurodyn.a NDBIN=build/asan/neurodyn \
	  CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" test

# the demo needs only what the build needs
demo:
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(BUILD_PKGS)"
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
       $(BUILD)/bench/bench_analysis $(BUILD)/bench/bench_tcn $(BUILD)/bench/bench_learn
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

# Manual pages from the --help texts (scripts/man.sh): neurodyn.1 and neurodyn-<command>.1
man: $(BUILD)/man/neurodyn.1
$(BUILD)/man/neurodyn.1: $(NDBIN) scripts/man.sh
	./scripts/man.sh $(NDBIN) $(VERSION) $(BUILD)/man

# pkg-config file, written at install time for PREFIX; Libs.private lists what a static link
# (pkg-config --static) needs besides libneurodyn.a
PC_LIBS_PRIVATE := $(strip $(HDF5_LIBS) -lcjson -lyaml -llapacke -lopenblas -lmatio -lz -lm -lgomp -lpthread)
install: all man
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 include/neurodyn.h $(DESTDIR)$(PREFIX)/include/neurodyn.h
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/libneurodyn.a
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/libneurodyn.so.$(VERSION)
	ln -sf libneurodyn.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(LIBSO_NAME)
	ln -sf $(LIBSO_NAME) $(DESTDIR)$(PREFIX)/lib/libneurodyn.so
	printf '%s\n' 'prefix=$(PREFIX)' 'exec_prefix=$${prefix}' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	  'Name: neurodyn' 'Description: LFADS and baselines for neural population data (C API)' 'Version: $(VERSION)' \
	  'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lneurodyn' 'Libs.private: $(PC_LIBS_PRIVATE)' \
	  >$(DESTDIR)$(PREFIX)/lib/pkgconfig/neurodyn.pc
	install -m 755 $(NDBIN) $(DESTDIR)$(PREFIX)/bin/neurodyn
	install -m 644 $(BUILD)/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -d $(DESTDIR)$(PREFIX)/share/neurodyn/l5pc/mod
	install -m 644 data/l5pc/README.md data/l5pc/cell1.asc data/l5pc/l5pc_sim.py $(DESTDIR)$(PREFIX)/share/neurodyn/l5pc/
	install -m 644 data/l5pc/mod/*.mod $(DESTDIR)$(PREFIX)/share/neurodyn/l5pc/mod/
	install -d $(DESTDIR)$(PYDIR)/neurodyn
	install -m 644 python/neurodyn/__init__.py python/neurodyn/_lib.py include/neurodyn.h $(DESTDIR)$(PYDIR)/neurodyn/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/neurodyn.h $(DESTDIR)$(PREFIX)/lib/libneurodyn.a \
	  $(DESTDIR)$(PREFIX)/lib/libneurodyn.so $(DESTDIR)$(PREFIX)/lib/$(LIBSO_NAME) \
	  $(DESTDIR)$(PREFIX)/lib/libneurodyn.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/pkgconfig/neurodyn.pc \
	  $(DESTDIR)$(PREFIX)/bin/neurodyn $(DESTDIR)$(PREFIX)/share/man/man1/neurodyn.1 \
	  $(DESTDIR)$(PREFIX)/share/man/man1/neurodyn-*.1
	rm -rf $(DESTDIR)$(PREFIX)/share/neurodyn/l5pc
	rm -rf $(DESTDIR)$(PYDIR)/neurodyn
	-rmdir $(DESTDIR)$(PYDIR) $(DESTDIR)$(PREFIX)/lib/python3 2>/dev/null

clean:
	rm -rf build lib bin fuzz/build
