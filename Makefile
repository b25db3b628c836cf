# aichat: build, demo and tests. `make demo` and `make test` are the two commands a new user
# runs (README). Everything binds 127.0.0.1 only.

CARGO     ?= cargo
CC        ?= cc
PROFILE   ?= release
CARGO_PROFILE_FLAG := $(if $(filter release,$(PROFILE)),--release,)
LIBDIR    := target/$(PROFILE)
BUILD     := target/c
CFLAGS    ?= -std=c11 -O1 -g -Wall -Wextra -Werror
# What libaichat.a needs from the system (`rustc --print native-static-libs`, less libgcc_s and
# libc, which the compiler driver adds; naming libgcc_s would break `-static` links).
STATIC_LIBS := -lpthread -ldl -lm -lrt -lutil
SERVER    := $(LIBDIR)/aichat-testserver
WITH_SERVER := scripts/with-testserver.sh $(SERVER)
LINK_SHARED = -L$(LIBDIR) -laichat -Wl,-rpath,$(abspath $(LIBDIR))

# Shared libraries are named by platform: libaichat.so (with a soname) on Linux and the other
# ELF systems, libaichat.dylib on macOS. Only Linux is tested here.
ifeq ($(shell uname -s),Darwin)
SHLIB     := libaichat.dylib
else
SHLIB     := libaichat.so
endif
PREFIX    ?= /usr/local
VERSION   := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
# aichat.pc's Description is the crate's.
DESCRIPTION := $(shell sed -n 's/^description = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
SOMAJOR   := $(firstword $(subst ., ,$(VERSION)))
GO        ?= go
NPM       ?= npm

.PHONY: all build generate generated-check demo test test-setup test-rust test-loom test-rust-asan test-c test-go test-go-consumer test-node test-python test-packages test-install test-readme test-quickstart dist lint header-check install bench soak fuzz clean

all: build

# AICHAT_GENERATE_HEADER: the build writes include/aichat.h (a plain cargo build does not).
build:
	AICHAT_GENERATE_HEADER=1 $(CARGO) build --workspace $(CARGO_PROFILE_FLAG)
	@# Programs linked in the build tree record the soname; give it a name there too.
	ln -sf $(SHLIB) $(LIBDIR)/$(SHLIB).$(SOMAJOR)

# Installs the libraries (with the soname symlinks), the C and C++ headers, the pkg-config file
# and the CMake package.
install: build
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/cmake/aichat
	install -m 755 $(LIBDIR)/$(SHLIB) $(DESTDIR)$(PREFIX)/lib/$(SHLIB).$(VERSION)
	ln -sf $(SHLIB).$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SHLIB).$(SOMAJOR)
	ln -sf $(SHLIB).$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/$(SHLIB)
	install -m 644 $(LIBDIR)/libaichat.a $(DESTDIR)$(PREFIX)/lib/libaichat.a
	install -m 644 include/aichat.h include/aichat.json bindings/c/aichat.hpp $(DESTDIR)$(PREFIX)/include/
	for f in aichatConfig aichatConfigVersion; do \
	  sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@SOMAJOR@|$(SOMAJOR)|g' cmake/$$f.cmake.in \
	    > $(DESTDIR)$(PREFIX)/lib/cmake/aichat/$$f.cmake; \
	done
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@STATIC_LIBS@|$(STATIC_LIBS)|' \
	  -e 's|@DESCRIPTION@|$(DESCRIPTION)|' aichat.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/aichat.pc

$(BUILD):
	mkdir -p $(BUILD)

# --- demo: the C example against the local server ----------------------------------------
$(BUILD)/chat: bindings/c/examples/chat.c include/aichat.h build | $(BUILD)
	$(CC) $(CFLAGS) -Iinclude $< $(LINK_SHARED) -o $@

demo: $(BUILD)/chat
	@$(WITH_SERVER) sh -c 'set -e; echo "local test server at $$AICHAT_TEST_BASE_URL"; \
	  echo; echo "> chat --provider aichat  (the original Aichat protocol: one answer)"; \
	  $(BUILD)/chat --base-url "$$AICHAT_TEST_BASE_URL" --provider aichat "Tell me something streamed"; \
	  echo; echo "> chat --provider openai  (SSE, word by word; the server paces words 80 ms apart)"; \
	  $(BUILD)/chat --base-url "$$AICHAT_TEST_BASE_URL/fault/interval=80/v1" --provider openai \
	    "Streaming arrives here one word at a time, as the server sends it"; \
	  echo; echo "> chat --provider anthropic  (Anthropic Messages: named SSE events)"; \
	  $(BUILD)/chat --base-url "$$AICHAT_TEST_BASE_URL/fault/interval=40/v1" --provider anthropic --model claude-test \
	    "The same answer, spoken in another protocol"; \
	  echo; echo "> chat --provider ollama  (Ollama native: NDJSON lines)"; \
	  $(BUILD)/chat --base-url "$$AICHAT_TEST_BASE_URL/fault/interval=40" --provider ollama --model llama-test \
	    "And once more, in the Ollama protocol"; \
	  echo; echo "> chat --provider gemini  (Gemini native: streamGenerateContent, SSE)"; \
	  $(BUILD)/chat --base-url "$$AICHAT_TEST_BASE_URL/fault/interval=40/v1beta" --provider gemini --model gemini-test \
	    "And in the Gemini protocol"; \
	  echo; echo "> chat --provider responses --tools  (OpenAI Responses: reasoning, a tool call, its result and the reasoning sent back)"; \
	  $(BUILD)/chat --base-url "$$AICHAT_TEST_BASE_URL/fault/reasoning,interval=40/v1" --provider responses --tools \
	    "What time is it?"; \
	  echo; echo "> chat --provider bedrock --tools  (Amazon Bedrock Converse: AWS binary event stream, SigV4-signed with demo keys the test server knows)"; \
	  AWS_ACCESS_KEY_ID=AKIDTESTBEDROCK AWS_SECRET_ACCESS_KEY=test/secret/KEY+1 AWS_REGION=us-east-1 \
	  $(BUILD)/chat --base-url "$$AICHAT_TEST_BASE_URL/fault/reasoning,interval=40" --provider bedrock --tools \
	    "What time is it?"; \
	  echo; echo "> chat --provider openai --tools  (reasoning, a tool call, the tool run here, its result sent back, the answer)"; \
	  $(BUILD)/chat --base-url "$$AICHAT_TEST_BASE_URL/fault/reasoning,interval=40/v1" --provider openai --tools \
	    "What time is it?"'

# --- tests ---------------------------------------------------------------------------------
test: test-setup lint header-check generated-check test-rust test-loom test-rust-asan test-go test-go-consumer test-node test-python test-packages test-install test-c test-readme test-quickstart

# Installs what the tests need and is missing (Debian packages); npm packages come with test-node.
test-setup:
	scripts/setup-test.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The generated header is committed: a build must leave it unchanged; and it declares only
# aichat names.
header-check: build
	scripts/check-header-names.sh include/aichat.h
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git diff --exit-code -- include/aichat.h || { echo "include/aichat.h is out of date: commit the regenerated header"; exit 1; }; \
	fi

# Everything derived from the settings table and the C ABI (include/aichat.json, the Go, Node
# and Python options, layouts and tables, the README's schema and status tables) is generated by
# scripts/generate.py from the built library and its header, and committed. `make generate`
# rewrites it; `make test` fails if any of it is stale (edited by hand, or not regenerated).
generate: build
	python3 scripts/generate.py

generated-check: build
	python3 scripts/generate.py --check

test-rust:
	$(CARGO) test --workspace

# The reactor's handoff between its thread and a caller's, model-checked with loom: every
# interleaving of the two sides (src/reactor/exchange.rs, `loom_tests`).
test-loom:
	RUSTFLAGS="--cfg aichat_loom" $(CARGO) test --release --target-dir target/loom -p aichat --lib loom_tests

# The Rust unit and integration tests again under AddressSanitizer (leak checking on), with the
# nightly toolchain (-Zsanitizer); the C and C++ tests cover UBSan and valgrind.
test-rust-asan:
	RUSTFLAGS="-Zsanitizer=address" ASAN_OPTIONS=detect_leaks=1 \
	  $(CARGO) +nightly test --target x86_64-unknown-linux-gnu --target-dir target/asan -p aichat --tests

$(BUILD)/test_client: tests/c/test_client.c include/aichat.h build | $(BUILD)
	$(CC) $(CFLAGS) -Iinclude $< $(LINK_SHARED) -lpthread -o $@

$(BUILD)/test_client_static: tests/c/test_client.c include/aichat.h build | $(BUILD)
	$(CC) $(CFLAGS) -Iinclude $< $(LIBDIR)/libaichat.a $(STATIC_LIBS) -o $@

$(BUILD)/test_client_asan: tests/c/test_client.c include/aichat.h build | $(BUILD)
	$(CC) $(CFLAGS) -fsanitize=address,undefined -fno-omit-frame-pointer -Iinclude $< $(LINK_SHARED) -lpthread -o $@

$(BUILD)/poll: bindings/c/examples/poll.c include/aichat.h build | $(BUILD)
	$(CC) $(CFLAGS) -Iinclude $< $(LINK_SHARED) -o $@

$(BUILD)/poll_asan: bindings/c/examples/poll.c include/aichat.h build | $(BUILD)
	$(CC) $(CFLAGS) -fsanitize=address,undefined -fno-omit-frame-pointer -Iinclude $< $(LINK_SHARED) -o $@

test-c: $(BUILD)/test_client $(BUILD)/test_client_static $(BUILD)/test_client_asan $(BUILD)/chat $(BUILD)/poll $(BUILD)/poll_asan
	@echo "== C poll example: one thread, eight streams, each printed as it arrives (plain, ASan+UBSan, valgrind)"
	$(WITH_SERVER) scripts/check-poll-example.sh $(BUILD)/poll
	$(WITH_SERVER) env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 scripts/check-poll-example.sh $(BUILD)/poll_asan
	$(WITH_SERVER) scripts/check-poll-example.sh valgrind --quiet --error-exitcode=99 --leak-check=full \
	  --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect $(BUILD)/poll
	@echo "== C example: reasoning, a tool call run by the example, its result sent back, the final answer"
	$(WITH_SERVER) sh -c 'out=$$($(BUILD)/chat --base-url "$$AICHAT_TEST_BASE_URL/fault/reasoning/v1" --provider openai \
	  --tools "What time is it?") && printf "%s\n" "$$out" && \
	  printf "%s\n" "$$out" | grep -q "^\[reasoning: " && printf "%s\n" "$$out" | grep -q "^\[tool call get_time" && \
	  printf "%s\n" "$$out" | grep -Eq "^The tool returned: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC$$" && \
	  printf "%s\n" "$$out" | grep -q "^\[usage: 9 prompt + 12 completion = 21 tokens\]$$"'
	@echo "== C test (shared library)"
	$(WITH_SERVER) sh -c '$(BUILD)/test_client "$$AICHAT_TEST_BASE_URL"'
	@echo "== C test (static library)"
	$(WITH_SERVER) sh -c '$(BUILD)/test_client_static "$$AICHAT_TEST_BASE_URL"'
	@echo "== C test under AddressSanitizer + UBSan (leak checking on)"
	$(WITH_SERVER) sh -c 'ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1 \
	  $(BUILD)/test_client_asan "$$AICHAT_TEST_BASE_URL"'
	@echo "== C test under valgrind memcheck"
	$(WITH_SERVER) sh -c 'valgrind --quiet --error-exitcode=99 --leak-check=full \
	  --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
	  $(BUILD)/test_client "$$AICHAT_TEST_BASE_URL"'

test-go: build
	cd bindings/go && test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt would change these files"; exit 1; }
	cd bindings/go && $(GO) vet ./...
	cd bindings/go && $(GO) test -race -count=1 ./...

test-go-consumer: build
	scripts/test-go-consumer.sh

# Install to temporary prefixes; link with pkg-config (shared, static) and CMake; C++ wrapper test.
test-install: build
	scripts/test-install.sh

bindings/node/node_modules: bindings/node/package-lock.json
	cd bindings/node && $(NPM) ci --no-audit --no-fund
	touch $@

test-node: build bindings/node/node_modules
	cd bindings/node && npx tsc -p test/types
	cd bindings/node && node --test test/*.test.mjs

# Every code example of the README, run as it is written against the local test server, with
# what it prints checked (scripts/test-readme.sh; the fragments' templates in tests/readme/).
test-readme: build $(BUILD)/chat bindings/node/node_modules
	$(WITH_SERVER) scripts/test-readme.sh

# The README's quick start, line by line, in a fresh copy of the repository (its files as git
# knows them: no target/, no node_modules/), as a newcomer runs it (scripts/test-quickstart.sh).
test-quickstart: build
	scripts/test-quickstart.sh

# The packages, each with the native library inside (scripts/dist.sh): dist/aichat-*.whl,
# dist/aichat-*.tgz, dist/go/.
dist: build
	scripts/dist.sh

# Installs each package as a user would, in a fresh folder, with no Rust toolchain on PATH, no
# AICHAT_LIB and no library installed system-wide, and streams from the local test server.
test-packages: dist
	scripts/test-packages.sh

# The Python binding: mypy --strict, then pytest against the local test server, in a venv of
# pinned test tools (bindings/python/requirements-test.txt).
PYVENV := target/python-venv
$(PYVENV)/.installed: bindings/python/requirements-test.txt
	python3 -m venv $(PYVENV)
	$(PYVENV)/bin/pip install -q -r $<
	touch $@

test-python: build $(PYVENV)/.installed
	cd bindings/python && ../../$(PYVENV)/bin/mypy --python-version 3.9 && ../../$(PYVENV)/bin/python -m pytest -q

# Benchmarks (not part of `make test`): installs the baselines' packages, then bench/run.py.
bench: build
	@{ command -v curl-config && command -v nginx && [ -f /usr/include/simdjson.h ] && [ -f /usr/include/zlib.h ]; } >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcurl4-openssl-dev libsimdjson-dev zlib1g-dev nginx-light; }
	@[ -x target/bench/venv/bin/python ] || python3 -m venv target/bench/venv
	target/bench/venv/bin/pip install --quiet requests openai
	mkdir -p target/bench
	$(CC) -O2 -Wall -Wextra -Werror -Iinclude -Itests/c bench/c/bench_aichat.c $(LINK_SHARED) -lpthread -o target/bench/bench_aichat
	$(CC) -O2 -Wall -Wextra -Werror bench/c/bench_curl.c $$(curl-config --libs) -o target/bench/bench_curl
	$(CXX) -O2 -std=c++17 -Wall -Wextra bench/cpp/bench_simdjson.cpp -lsimdjson -lz $$(curl-config --libs) -o target/bench/bench_simdjson
	$(CC) -O2 -Wall -Wextra -Werror -Iinclude bench/c/bench_concurrency_aichat.c $(LINK_SHARED) -o target/bench/bench_concurrency_aichat
	$(CC) -O2 -Wall -Wextra -Werror bench/c/bench_concurrency_curl.c $$(curl-config --libs) -o target/bench/bench_concurrency_curl
	$(MAKE) bindings/node/node_modules
	python3 bench/run.py

# Load and leak check (not part of `make test`): bounded by SOAK_SECONDS (default 60).
SOAK_SECONDS ?= 60
soak: build | $(BUILD)
	$(CC) $(CFLAGS) -Iinclude -Itests/c tests/soak/soak.c $(LINK_SHARED) -lpthread -o $(BUILD)/soak
	$(WITH_SERVER) sh -c 'SOAK_SECONDS=$(SOAK_SECONDS) $(BUILD)/soak "$$AICHAT_TEST_BASE_URL"'

# Fuzzing (not part of `make test`; nightly + cargo-fuzz): FUZZ_SECONDS per target.
fuzz:
	scripts/fuzz.sh

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
