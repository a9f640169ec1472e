# framefs — build, test, run.  `make` builds ./framefs; `make check` runs every
# test; `make run` mounts the built-in samples; `make check-asan` runs the
# suite against an AddressSanitizer + UBSan build.

PKGS     := fuse3 libavformat libavcodec libavfilter libavutil libswscale zimg libpng libseccomp libdeflate libturbojpeg libmemcached libxxhash
CC       ?= cc
BUILD    ?= build
SAN      ?=
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -pthread $(SAN)
CFLAGS   += $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -pthread
LDFLAGS  += $(SAN)
BIN      ?= framefs

# Every .c of a folder is built; the folders, bottom floor first (README, "How
# the code is laid out").
CACHE_SRC   := $(wildcard cache/*.c)
MEDIA_SRC   := $(wildcard decoder/media/*.c)
IMAGE_SRC   := $(wildcard decoder/image/*.c)
DECODER_SRC := $(MEDIA_SRC) $(IMAGE_SRC) $(wildcard decoder/*.c)
FS_SRC      := $(wildcard fs/*.c)
HEADERS     := $(wildcard */*.h decoder/*/*.h)
# The FUSE handlers (fs/ops.h).
FS_OPS_SRC  := fs/ops.c fs/request.c fs/dir.c fs/frame.c fs/info.c fs/passthrough.c fs/view.c
# Everything but the entry point and the FUSE handlers: what unit tests link.
LIB_SRC     := $(CACHE_SRC) $(DECODER_SRC) $(filter-out fs/main.c $(FS_OPS_SRC),$(FS_SRC))
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
TOOL_SRC    := $(wildcard tests/tools/*.c)

obj   = $(patsubst %.c,$(BUILD)/%.o,$(1))
UNITS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRC))

.PHONY: all deps check check-unit check-asan soak run clean tools units
all: deps-check $(BIN) units tools

deps-check:
	@pkg-config --exists $(PKGS) || { echo "missing build dependencies; run scripts/install-deps (or make deps)" >&2; exit 1; }

deps:
	scripts/install-deps

$(BIN): $(call obj,$(CACHE_SRC) $(DECODER_SRC) $(FS_SRC))
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/unit.h $(call obj,$(LIB_SRC))
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(call obj,$(LIB_SRC)) $(LDLIBS)

$(BUILD)/tests/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

units: $(UNITS)
tools: $(TOOLS)

# All tests; the last line printed is "N passed, N failed[, N skipped]".
check:
	@pkg-config --exists $(PKGS) && command -v ffmpeg >/dev/null && command -v getfattr >/dev/null || scripts/install-deps
	$(MAKE) all
	FRAMEFS=$(CURDIR)/$(BIN) BUILD=$(CURDIR)/$(BUILD) tests/run-all.sh

check-unit: all
	FRAMEFS=$(CURDIR)/$(BIN) BUILD=$(CURDIR)/$(BUILD) tests/run-all.sh unit

# Generated media and oracles do not depend on the build: sanitizer runs
# share the plain build's (CI runs check-asan, then check).
SHARED_TEST_DATA = MEDIA_DIR=$(CURDIR)/build/tests/media HAZARD_DIR=$(CURDIR)/build/tests/hazards \
                   EXTRA_MEDIA=$(CURDIR)/build/tests/media-load ORACLE_CACHE=$(CURDIR)/build/tests/oracle

# The same suite against an ASan + UBSan build (its own build dir and binary).
check-asan:
	@pkg-config --exists $(PKGS) && command -v ffmpeg >/dev/null || scripts/install-deps
	$(MAKE) BUILD=build/asan BIN=build/asan/framefs CC=clang \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=66 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	TEST_TIMEOUT=1200 $(SHARED_TEST_DATA) FRAMEFS=$(CURDIR)/build/asan/framefs BUILD=$(CURDIR)/build/asan SANITIZED=1 tests/run-all.sh

# The soak test (tests/integration/test_soak.sh; 2 minutes of it in `make
# check`) for SOAK_SECONDS (30 min) under the plain build, then as long under
# the ASan + UBSan one; one after the other, so each has the machine.
SOAK_SECONDS ?= 1800
soak:
	@pkg-config --exists $(PKGS) && command -v ffmpeg >/dev/null || scripts/install-deps
	$(MAKE) all
	$(MAKE) BUILD=build/asan BIN=build/asan/framefs CC=clang \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" all
	SOAK_SECONDS=$(SOAK_SECONDS) TEST_TIMEOUT=$$(($(SOAK_SECONDS) + 900)) TESTS=test_soak \
	  FRAMEFS=$(CURDIR)/$(BIN) BUILD=$(CURDIR)/$(BUILD) tests/run-all.sh
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=66 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	SOAK_SECONDS=$(SOAK_SECONDS) TEST_TIMEOUT=$$(($(SOAK_SECONDS) + 900)) TESTS=test_soak $(SHARED_TEST_DATA) \
	  FRAMEFS=$(CURDIR)/build/asan/framefs BUILD=$(CURDIR)/build/asan SANITIZED=1 tests/run-all.sh

# Install deps if needed, build, make sample videos, mount them and show frames.
run:
	@pkg-config --exists $(PKGS) && command -v ffmpeg >/dev/null && command -v getfattr >/dev/null || scripts/install-deps
	$(MAKE) all
	scripts/run-samples

clean:
	rm -rf build $(BIN)

# `make install` / `make uninstall`: the binary and the man page, under
# $(DESTDIR)$(PREFIX).  With framefs on PATH, fuse3's mount helper mounts it
# (`mount -t fuse.framefs SRC MNT -o ro`, or an /etc/fstab line; README).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
.PHONY: install uninstall
install: $(BIN)
	install -D -m 755 $(BIN) $(DESTDIR)$(BINDIR)/framefs
	install -D -m 644 fs/framefs.1 $(DESTDIR)$(MANDIR)/man1/framefs.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/framefs $(DESTDIR)$(MANDIR)/man1/framefs.1

# ---------------------------------------------------------------------------
# Fuzzing (tests/fuzz): `make fuzz` builds a libFuzzer target for fs/name
# (frame names, times/clock, seconds, sizes) with ASan + UBSan and runs it on a
# copy of tests/fuzz/corpus for FUZZ_SECONDS seconds, on one core.  Any crash,
# sanitizer report or invariant violation makes it exit non-zero; the input is
# saved as build/fuzz/crash-*.  One process, so one core (no -jobs/-workers,
# which would fork and redirect the output).  Needs clang with libFuzzer.
# ---------------------------------------------------------------------------
.PHONY: fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror
FUZZ_DIR     := build/fuzz

$(FUZZ_DIR)/fuzz_name: tests/fuzz/fuzz_name.c fs/name.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_name.c fs/name.c -lm

fuzz: $(FUZZ_DIR)/fuzz_name
	@rm -rf $(FUZZ_DIR)/corpus && mkdir -p $(FUZZ_DIR)/corpus && cp tests/fuzz/corpus/* $(FUZZ_DIR)/corpus/
	cd $(FUZZ_DIR) && { UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ./fuzz_name -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 corpus 2>&1; \
	  echo $$? > fuzz.rc; } | tee fuzz.log; status=$$(cat fuzz.rc); \
	  grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' fuzz.log; \
	  echo "fuzz_name exit status $$status"; exit $$status

# `make fuzz-media`: a libFuzzer target for the whole media path
# (tests/fuzz/fuzz_media.c: memfd -> load -> select -> seek/decode -> convert
# -> PNG), same sanitizers, one process, for FUZZ_MEDIA_SECONDS seconds.  The
# seeds (build/fuzz/media-corpus) are made by tests/fuzz/media-seeds.sh when
# missing; each run copies them into FUZZ_MEDIA_WORKDIR/corpus (with its log
# and exit status), so runs with different work dirs never share files.
# Crash/timeout/leak inputs go to FUZZ_MEDIA_ARTIFACTS (build/fuzz/media/).
# FFmpeg itself is not instrumented: coverage counts framefs's code only.
.PHONY: fuzz-media
FUZZ_MEDIA_SECONDS   ?= 120
FUZZ_MEDIA_WORKDIR   ?= $(FUZZ_DIR)/media/work
FUZZ_MEDIA_ARTIFACTS ?= $(FUZZ_DIR)/media/
FUZZ_MEDIA_SEEDS     := $(FUZZ_DIR)/media-corpus
FUZZ_MEDIA_PKGS      := libavformat libavcodec libavfilter libavutil libswscale zimg libpng libseccomp libdeflate libturbojpeg libmemcached libxxhash
# The media and image floors and the caches below them: no jobs, no FUSE.
FUZZ_MEDIA_SRC       := tests/fuzz/fuzz_media.c $(CACHE_SRC) $(MEDIA_SRC) $(IMAGE_SRC)

$(FUZZ_DIR)/fuzz_media: $(FUZZ_MEDIA_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(shell pkg-config --cflags $(FUZZ_MEDIA_PKGS)) -o $@ \
	  $(FUZZ_MEDIA_SRC) $(shell pkg-config --libs $(FUZZ_MEDIA_PKGS)) -lm -pthread

$(FUZZ_MEDIA_SEEDS):
	tests/fuzz/media-seeds.sh $@

fuzz-media: $(FUZZ_DIR)/fuzz_media | $(FUZZ_MEDIA_SEEDS)
	@rm -rf $(FUZZ_MEDIA_WORKDIR)/corpus && mkdir -p $(FUZZ_MEDIA_WORKDIR)/corpus $(FUZZ_MEDIA_ARTIFACTS) && \
	  cp $(FUZZ_MEDIA_SEEDS)/* $(FUZZ_MEDIA_WORKDIR)/corpus/
	{ UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(FUZZ_DIR)/fuzz_media -max_total_time=$(FUZZ_MEDIA_SECONDS) -max_len=1048576 \
	  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_MEDIA_ARTIFACTS) $(FUZZ_MEDIA_WORKDIR)/corpus 2>&1; \
	  echo $$? > $(FUZZ_MEDIA_WORKDIR)/fuzz.rc; } | tee $(FUZZ_MEDIA_WORKDIR)/fuzz.log; \
	  status=$$(cat $(FUZZ_MEDIA_WORKDIR)/fuzz.rc); \
	  grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' $(FUZZ_MEDIA_WORKDIR)/fuzz.log; \
	  grep -E '^#[0-9]+.*(DONE|INITED)' $(FUZZ_MEDIA_WORKDIR)/fuzz.log | tail -2; \
	  echo "fuzz_media exit status $$status"; exit $$status

# ---------------------------------------------------------------------------
# ThreadSanitizer: `make check-tsan` builds framefs, the unit tests and the
# test tools with clang -fsanitize=thread into build/tsan and runs the suite
# against it (TSAN_TESTS="test_load test_cancel" runs only those integration
# tests; the whole suite takes about 15 min on 2 CPUs).  Every report is
# written to build/tsan/tests/logs/san-report.PID; run-all.sh renames it after
# the test that was running and counts it as a failure.  halt_on_error=0: a
# run shows every race, not just the first.  FFmpeg is not instrumented:
# tests/tsan.supp says what is ignored inside it (never framefs's own code).
# ---------------------------------------------------------------------------
.PHONY: check-tsan
TSAN_TESTS ?=
check-tsan:
	@pkg-config --exists $(PKGS) && command -v ffmpeg >/dev/null || scripts/install-deps
	$(MAKE) BUILD=build/tsan BIN=build/tsan/framefs CC=clang SAN="-fsanitize=thread -fno-omit-frame-pointer" all
	TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp log_path=$(CURDIR)/build/tsan/tests/logs/san-report" \
	TEST_TIMEOUT=1800 $(SHARED_TEST_DATA) TESTS="$(TSAN_TESTS)" FRAMEFS=$(CURDIR)/build/tsan/framefs BUILD=$(CURDIR)/build/tsan SANITIZED=1 tests/run-all.sh
