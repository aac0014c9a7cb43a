# lir build. `make` builds ./lir; `make test` builds and runs every test;
# `make DEBUG=1 test` does the same under AddressSanitizer + UBSan (./lir-debug).
# The binary is portable: it is compiled for the x86-64-v2 baseline (SSE4.2, any
# x86-64 CPU since 2009) and its AVX2 / AVX-512 / AVX512-BF16 kernels carry their own
# target attributes and are chosen at run time (src/kernels/cpu.c; LIR_KERNELS=
# generic|avx2|avx512|avx512bf16 caps the choice). `make NATIVE=1` compiles everything
# for the build machine's CPU instead (-march=native: faster elementwise loops, a
# binary that may not run elsewhere). Changing NATIVE rebuilds (build/cflags).
# `make MPI=1` builds lir for data-parallel training over MPI (`mpirun -np K ./lir train`):
# compiled with mpicc (Open MPI, Debian's libopenmpi-dev) into build-mpi/ (build-debug-mpi/
# with DEBUG=1), src/train/dist_mpi.c in place of dist_none.c; ./lir is relinked whenever
# the build it comes from changes (build/linked-lir). tests/test_dist_mpi.sh builds its own
# MPI binary (make MPI=1 BIN=build-mpi/lir build-mpi/lir) when ./lir is built without MPI.
CC      ?= cc
DEBUG   ?= 0
NATIVE  ?= 0
MPI     ?= 0
ARCH    ?= -march=x86-64-v2 -mtune=generic
ifeq ($(NATIVE),1)
ARCH    := -march=native
endif
BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
WARN    := -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter -D_GNU_SOURCE
CAIRO   := $(shell pkg-config --cflags cairo)
LIBS    := -lopenblas -lcjson -lpng -ljpeg -lz -lm -lpthread $(shell pkg-config --libs cairo)

ifeq ($(DEBUG),1)
BUILD   := build-debug
BIN     := lir-debug
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDOPT   := -fsanitize=address,undefined
else
BUILD   := build
BIN     := lir
OPT     := -O3 $(ARCH) -g
LDOPT   :=
endif

ifeq ($(MPI),1)
CC      := mpicc
BUILD   := $(BUILD)-mpi
DIST_OFF := src/train/dist_none.c
else
DIST_OFF := src/train/dist_mpi.c
endif

CFLAGS  += $(WARN) $(OPT) -fopenmp $(BLAS_CFLAGS) $(CAIRO) -MMD -MP
LDFLAGS += $(LDOPT) -fopenmp

SUBSYS    := base kernels data nn report ood train cli
SRC       := $(filter-out $(DIST_OFF),$(foreach d,$(SUBSYS),$(wildcard src/$(d)/*.c)))
LIB_SRC   := $(filter-out src/cli/main.c,$(SRC))
LIB_OBJ   := $(LIB_SRC:src/%.c=$(BUILD)/src/%.o)
TEST_SRC  := $(wildcard tests/test_*.c)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all test test-levels clean fuzz bench bench-peak FORCE
all: $(BIN)

$(BIN): $(BUILD)/src/cli/main.o $(BUILD)/liblir.a build/linked-$(subst /,-,$(BIN))
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LIBS)

# Which build folder ./$(BIN) was last linked from: a switch (MPI=1 or not) relinks it.
build/linked-$(subst /,-,$(BIN)): FORCE
	@mkdir -p $(@D)
	@echo '$(BUILD)' | cmp -s - $@ || echo '$(BUILD)' >$@

$(BUILD)/liblir.a: $(LIB_OBJ)
	ar rcs $@ $^

# The compiler flags of the last build: objects rebuild when they change.
$(BUILD)/cflags: FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(CFLAGS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS)' >$@

$(BUILD)/src/%.o: src/%.c $(BUILD)/cflags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isrc -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(BUILD)/liblir.a $(BUILD)/cflags | $(BUILD)/tests
	$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(BUILD)/liblir.a $(LIBS)

$(BUILD)/tests:
	mkdir -p $@

# test_noalloc counts the allocator calls of a training and an inference step.
$(BUILD)/tests/test_noalloc: LDFLAGS += -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free

# Benchmarks (not tests): `make bench` builds them into $(BUILD)/bench/;
# `make bench-peak` also runs bench/peak.c (this machine's peak GFLOP/s).
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
bench: $(BENCH_BIN)

$(BUILD)/bench/%: bench/%.c $(BUILD)/liblir.a $(BUILD)/cflags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(BUILD)/liblir.a $(LIBS)

bench-peak: $(BUILD)/bench/peak
	$(BUILD)/bench/peak

test: $(BIN) $(TEST_BIN)
	LIR=./$(BIN) ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp tests/run.sh $(BUILD)

# The whole suite once per kernels level (LIR_KERNELS), lowest first; levels above
# the CPU's run as the CPU's.
test-levels: $(BIN) $(TEST_BIN)
	for l in generic avx2 avx512 avx512bf16; do echo "== LIR_KERNELS=$$l"; \
	    LIR=./$(BIN) LIR_KERNELS=$$l ASAN_OPTIONS=detect_leaks=1 tests/run.sh $(BUILD) || exit 1; \
	done

# Fuzzing every parser (libFuzzer, clang, ASan + UBSan): `make fuzz` runs each
# target for FUZZ_SECONDS; `make fuzz-<name>` runs one. The library is rebuilt with
# clang into build/fuzz/; corpora grow in build/fuzz/corpus-<name>/, seeds are in
# fuzz/seeds/<name>/ (`make fuzz-seeds` rewrites the .weights and checkpoint ones).
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_NAMES   := cfg weights checkpoint json png idx mat cifar npy fit
FUZZ_FLAGS   := -std=c11 -D_GNU_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -g -O1 \
                -fopenmp -fsanitize=address,undefined -fno-sanitize-recover=undefined $(BLAS_CFLAGS) $(CAIRO)
FUZZ_OBJ     := $(LIB_SRC:src/%.c=build/fuzz/obj/%.o)
.PHONY: fuzz-seeds
fuzz: $(FUZZ_NAMES:%=fuzz-%)

build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -Isrc -MMD -MP -c -o $@ $<

build/fuzz/liblir.a: $(FUZZ_OBJ)
	ar rcs $@ $^

build/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h build/fuzz/liblir.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -Isrc -o $@ $< build/fuzz/liblir.a $(LIBS)

build/fuzz/make_seeds: fuzz/make_seeds.c fuzz/fuzz_common.h build/fuzz/liblir.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -Isrc -o $@ $< build/fuzz/liblir.a $(LIBS)

fuzz-seeds: build/fuzz/make_seeds
	mkdir -p fuzz/seeds/weights fuzz/seeds/checkpoint
	$< fuzz/seeds

fuzz-%: build/fuzz/fuzz_%
	mkdir -p build/fuzz/corpus-$*
	OMP_NUM_THREADS=1 $< -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/$*- build/fuzz/corpus-$* fuzz/seeds/$*

clean:
	rm -rf build build-debug build-mpi build-debug-mpi lir lir-debug

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/cli/main.d $(TEST_BIN:=.d) $(BENCH_BIN:=.d) $(wildcard build/fuzz/obj/*/*.d)
