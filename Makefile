# vigil — plain Makefile, read top to bottom.
#   make          build ./vigil (release, hardened)
#   make test     build an ASan+UBSan variant, the fuzzers, and run every test
#   make run      install what is missing, build, start `vigil serve`
#   make bench    side-by-side benchmarks against the peers (never part of test)
#   make fuzz     run each libFuzzer harness for FUZZ_SECONDS

VERSION    := $(shell cat VERSION)
PKGS       := yaml-0.1 sqlite3 libssl libcrypto libcurl libmicrohttpd libseccomp \
              libpcre2-8 libzstd libsodium libprotobuf-c
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lsnappy -lm -lpthread

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wcast-qual -Werror
# Same source, same bytes: no build paths, dates or host names in the binary.
REPRO    := -ffile-prefix-map=$(CURDIR)=. -fdebug-prefix-map=$(CURDIR)=.
COMMON   := -std=c11 -D_GNU_SOURCE -Isrc -Ibuild/gen $(WARN) $(REPRO) $(PKG_CFLAGS) \
            -DVIGIL_VERSION='"$(VERSION)"'
HARDEN   := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE
LDHARDEN := -pie -Wl,-z,relro,-z,now -Wl,--build-id=sha1

REL_CFLAGS  := $(COMMON) -O2 -g $(HARDEN)
ASAN_CFLAGS := $(COMMON) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined -DVIGIL_TESTING
FUZZ_CC     := clang
FUZZ_CFLAGS := $(COMMON) -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
               -DVIGIL_TESTING -Wno-unused-command-line-argument

# Generated from proto/*.proto by protoc-c (protobuf-c-compiler).
GEN_SRC   := build/gen/remote.pb-c.c
LIB_SRC   := $(sort $(filter-out src/main.c,$(wildcard src/*/*.c))) $(GEN_SRC)
UNIT_SRC  := $(sort $(wildcard tests/unit/*.c))
CONF_SRC  := $(sort $(wildcard tests/conformance/*.c))
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
HDRS      := $(wildcard src/*/*.h) tests/unit/t.h build/gen/remote.pb-c.h

REL_OBJ  := $(LIB_SRC:%.c=build/rel/%.o)
ASAN_OBJ := $(LIB_SRC:%.c=build/asan/%.o)
FUZZ_OBJ := $(LIB_SRC:%.c=build/fuzz/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)
CONF_BIN := $(CONF_SRC:tests/conformance/%.c=build/asan/conformance/%)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/bin/%)
WEB_ASSETS := build/web_assets.c

.PHONY: all test run bench fuzz deps clean unit-bin fuzz-bin
all: vigil

deps:
	@./scripts/install-deps

vigil: build/rel/libvigil.a build/rel/src/main.o
	$(CC) $(REL_CFLAGS) $(LDHARDEN) -o $@ build/rel/src/main.o build/rel/libvigil.a $(PKG_LIBS)

build/asan/vigil: build/asan/libvigil.a build/asan/src/main.o
	$(CC) $(ASAN_CFLAGS) -o $@ build/asan/src/main.o build/asan/libvigil.a $(PKG_LIBS)

build/rel/libvigil.a: $(REL_OBJ)
	@rm -f $@; ar rcsD $@ $^
build/asan/libvigil.a: $(ASAN_OBJ)
	@rm -f $@; ar rcsD $@ $^
build/fuzz/libvigil.a: $(FUZZ_OBJ)
	@rm -f $@; ar rcsD $@ $^

build/gen/remote.pb-c.c build/gen/remote.pb-c.h &: proto/remote.proto
	@mkdir -p build/gen
	@echo '  PROTOC $<'; cd proto && protoc-c --c_out=../build/gen remote.proto

# Generated code is compiled without our extra warnings (it is not ours).
build/rel/build/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	@echo '  CC     $<'; $(CC) $(filter-out $(WARN),$(REL_CFLAGS)) -c -o $@ $<
build/asan/build/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	@echo '  CC+asan $<'; $(CC) $(filter-out $(WARN),$(ASAN_CFLAGS)) -c -o $@ $<
build/fuzz/build/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	@echo '  CC+fuzz $<'; $(FUZZ_CC) $(filter-out $(WARN),$(FUZZ_CFLAGS)) -c -o $@ $<

build/rel/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo '  CC     $<'; $(CC) $(REL_CFLAGS) -c -o $@ $<
build/asan/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo '  CC+asan $<'; $(CC) $(ASAN_CFLAGS) -c -o $@ $<
build/fuzz/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo '  CC+fuzz $<'; $(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

build/asan/tests/%: tests/unit/%.c build/asan/libvigil.a tests/unit/t.h
	@mkdir -p $(dir $@)
	@echo '  LD     $@'; $(CC) $(ASAN_CFLAGS) -Itests/unit -o $@ $< build/asan/libvigil.a $(PKG_LIBS)
build/asan/conformance/%: tests/conformance/%.c build/asan/libvigil.a
	@mkdir -p $(dir $@)
	@echo '  LD     $@'; $(CC) $(ASAN_CFLAGS) -Itests/unit -o $@ $< build/asan/libvigil.a $(PKG_LIBS)
build/fuzz/bin/%: tests/fuzz/%.c build/fuzz/libvigil.a
	@mkdir -p $(dir $@)
	@echo '  LD     $@'; $(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< build/fuzz/libvigil.a $(PKG_LIBS)

unit-bin: $(UNIT_BIN) $(CONF_BIN) build/asan/vigil
fuzz-bin: $(FUZZ_BIN)

# make test: install what is missing, build everything, run every suite.
# The last line printed is "N passed, N failed".
test:
	@./scripts/install-deps
	@$(MAKE) --no-print-directory vigil unit-bin fuzz-bin
	@./tests/run

fuzz: fuzz-bin
	@./tests/fuzz/run-long $(or $(FUZZ_SECONDS),60)

run:
	@./scripts/install-deps
	@$(MAKE) --no-print-directory vigil
	@./scripts/run

bench:
	@./scripts/install-deps
	@$(MAKE) --no-print-directory vigil
	@./bench/run

clean:
	rm -rf build vigil

# --- web console ---
# The console (web/, TypeScript) is bundled by esbuild from the pinned
# web/package-lock.json and compiled into libvigil.a as build/web_assets.c
# (scripts/embed-web). `npm ci` runs first whenever web/node_modules is
# missing or older than the lockfile; no install scripts run, nothing is
# fetched by the build output at run time.
WEB_SRC  := $(sort $(wildcard web/src/*)) web/package.json web/package-lock.json \
            web/build.mjs web/tsconfig.json
WEB_DEPS := web/node_modules/.package-lock.json

$(WEB_DEPS): web/package.json web/package-lock.json
	@echo '  NPM    ci (web)'; cd web && npm ci --no-audit --no-fund --ignore-scripts --prefer-offline --loglevel=error
	@touch $@
$(WEB_ASSETS): $(WEB_SRC) $(WEB_DEPS) scripts/embed-web
	@mkdir -p $(dir $@)
	@echo '  WEB    $@'; cd web && npm run --silent build
	@./scripts/embed-web $@

build/rel/libvigil.a: build/rel/$(WEB_ASSETS:.c=.o)
build/asan/libvigil.a: build/asan/$(WEB_ASSETS:.c=.o)
build/fuzz/libvigil.a: build/fuzz/$(WEB_ASSETS:.c=.o)

# The console's end-to-end harness (tests/e2e/devserver.c): the real console
# handlers over libmicrohttpd, /api/v1 forwarded to a loopback Prometheus.
build/asan/e2e-devserver: tests/e2e/devserver.c build/asan/libvigil.a
	@mkdir -p $(dir $@)
	@echo '  LD     $@'; $(CC) $(ASAN_CFLAGS) -o $@ $< build/asan/libvigil.a $(PKG_LIBS)
unit-bin: build/asan/e2e-devserver

# ---- demo lab (owner: demolab; see docs/DEMO.md) ----
# `make demo`: 24 simulated 48-port switches on loopback, this host and an
# ICMP probe, all watched by ./vigil serve on http://127.0.0.1:9920/.
# Ctrl-C stops vigil; the trap then stops the simulator.
.PHONY: demo
demo:
	@./scripts/install-deps
	@$(MAKE) --no-print-directory vigil
	@./scripts/demo-lab build/demo 9920
	@sim=$$(cat build/demo/sim.pid); trap 'kill $$sim 2>/dev/null; rm -f build/demo/sim.pid' EXIT INT TERM; \
	 echo "demo: open http://127.0.0.1:9920/ (Ctrl-C stops the lab)"; \
	 ./vigil serve -c build/demo/vigil.yml
# ---- end demo lab ----
