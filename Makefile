# lir build. `make` builds ./lir; `make test` builds and runs every test;
# `make DEBUG=1 test` does the same under AddressSanitizer + UBSan (./lir-debug).
CC      ?= cc
DEBUG   ?= 0
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
OPT     := -O3 -march=native -g
LDOPT   :=
endif

CFLAGS  += $(WARN) $(OPT) -fopenmp $(BLAS_CFLAGS) $(CAIRO) -MMD -MP
LDFLAGS += $(LDOPT) -fopenmp

SUBSYS    := base kernels data nn report ood train cli
SRC       := $(foreach d,$(SUBSYS),$(wildcard src/$(d)/*.c))
LIB_SRC   := $(filter-out src/cli/main.c,$(SRC))
LIB_OBJ   := $(LIB_SRC:src/%.c=$(BUILD)/src/%.o)
TEST_SRC  := $(wildcard tests/test_*.c)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all test clean fuzz
all: $(BIN)

$(BIN): $(BUILD)/src/cli/main.o $(BUILD)/liblir.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/liblir.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isrc -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(BUILD)/liblir.a | $(BUILD)/tests
	$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(BUILD)/liblir.a $(LIBS)

$(BUILD)/tests:
	mkdir -p $@

# test_noalloc counts the allocator calls of a training and an inference step.
$(BUILD)/tests/test_noalloc: LDFLAGS += -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free

test: $(BIN) $(TEST_BIN)
	LIR=./$(BIN) ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp tests/run.sh $(BUILD)

# Fuzzing the file parsers (libFuzzer, clang): `make fuzz` runs each target for
# FUZZ_SECONDS; `make fuzz-<cifar|idx|mat|npy>` runs one. Corpora live in build/fuzz/.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_SRC     := src/data/cifar.c src/data/idx.c src/data/svhn.c src/data/npy.c src/base/util.c
FUZZ_NAMES   := cifar idx mat npy
fuzz: $(FUZZ_NAMES:%=fuzz-%)

build/fuzz/fuzz_%: fuzz/fuzz_%.c $(FUZZ_SRC) src/data/data.h
	mkdir -p build/fuzz
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -o $@ $< $(FUZZ_SRC) -lz -lm

fuzz-%: build/fuzz/fuzz_%
	mkdir -p build/fuzz/corpus-$*
	$< -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=1 build/fuzz/corpus-$* fuzz/seeds/$*

clean:
	rm -rf build build-debug lir lir-debug

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/cli/main.d $(TEST_BIN:=.d)
