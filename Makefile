# clickpath build.  `make` builds build/clickpath and build/libclickpath.a;
# `make check` runs every test (unit, sanitizers, fuzz replay, end to end).
#
# Sources are found by wildcard: a new src/<stage>/*.c joins the library, a
# new tests/test_*.c becomes a test binary, a new fuzz/fuzz_*.c a fuzz target.

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2
WERROR  ?=
SAN     ?=
CFLAGS  ?=
CPPFLAGS += -Iinclude -Isrc -D_GNU_SOURCE -DCP_HAVE_XLSXWRITER
XCFLAGS := -std=c17 $(OPT) -g -Wall -Wextra -Wshadow -Wstrict-prototypes \
           -Wno-unused-parameter -pthread -MMD -MP $(SAN) $(CFLAGS)
ifneq ($(WERROR),)
XCFLAGS += -Werror
endif
LDLIBS  := -lmicrohttpd -lxlsxwriter -lzstd -lz -lgsl -lgslcblas -lm -pthread
# Open MPI (Debian's libopenmpi-dev) for `report --mpi`; without it src/mpi
# builds a stub that says so.
MPI_CFLAGS := $(shell mpicc --showme:compile 2>/dev/null)
MPI_LIBS   := $(shell mpicc --showme:link 2>/dev/null)
ifneq ($(MPI_LIBS),)
CPPFLAGS += -DCP_HAVE_MPI
LDLIBS   += $(MPI_LIBS)
endif
LDFLAGS += $(SAN)

LIB_SRC  := $(shell find src -name '*.c' ! -path 'src/cli/*' | sort)
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
FUZZ_REPLAY := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%_replay)

.PHONY: all clean check check-unit check-asan check-fuzz check-e2e tests demo fuzz-run
all: $(BUILD)/clickpath

$(BUILD)/obj/src/mpi/%.o: CPPFLAGS += $(MPI_CFLAGS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(XCFLAGS) -c $< -o $@

$(BUILD)/libclickpath.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/clickpath: $(CLI_OBJ) $(BUILD)/libclickpath.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libclickpath.a $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h) $(BUILD)/libclickpath.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(XCFLAGS) -DCP_SOURCE_DIR='"$(CURDIR)"' -o $@ $< $(BUILD)/libclickpath.a -lcmocka $(LDLIBS)

# Fuzz targets linked with a replay main (fuzz/replay.c) that runs the corpus:
# works with gcc, no libFuzzer needed.
$(BUILD)/fuzz/%_replay: fuzz/%.c fuzz/replay.c $(BUILD)/libclickpath.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(XCFLAGS) -o $@ $< fuzz/replay.c $(BUILD)/libclickpath.a $(LDLIBS)

tests: $(TESTS) $(BUILD)/clickpath $(FUZZ_REPLAY)

demo: $(BUILD)/clickpath
	$(BUILD)/clickpath demo

# ---- the test command (README: `make check`) ---------------------------
check:
	@scripts/check.sh

check-unit: tests
	@scripts/run-unit.sh $(BUILD)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
