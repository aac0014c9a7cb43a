# lir build. `make` builds ./lir; `make test` builds and runs every test;
# `make DEBUG=1 test` does the same under AddressSanitizer + UBSan (./lir-debug).
CC      ?= cc
DEBUG   ?= 0
BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
WARN    := -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter -D_GNU_SOURCE
LIBS    := -lopenblas -lcjson -lpng -ljpeg -lz -lm -lpthread

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

CFLAGS  += $(WARN) $(OPT) -fopenmp $(BLAS_CFLAGS) -MMD -MP
LDFLAGS += $(LDOPT) -fopenmp

SRC       := $(wildcard src/*.c)
LIB_SRC   := $(filter-out src/main.c,$(SRC))
LIB_OBJ   := $(LIB_SRC:src/%.c=$(BUILD)/src/%.o)
TEST_SRC  := $(wildcard tests/test_*.c)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all test clean
all: $(BIN)

$(BIN): $(BUILD)/src/main.o $(BUILD)/liblir.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/liblir.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/src/%.o: src/%.c | $(BUILD)/src
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(BUILD)/liblir.a | $(BUILD)/tests
	$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(BUILD)/liblir.a $(LIBS)

$(BUILD)/src $(BUILD)/tests:
	mkdir -p $@

test: $(BIN) $(TEST_BIN)
	LIR=./$(BIN) ASAN_OPTIONS=detect_leaks=1 tests/run.sh $(BUILD)

clean:
	rm -rf build build-debug lir lir-debug

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d $(TEST_BIN:=.d)
