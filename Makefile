# Kariz: `make run` brings the whole stack up on embedded defaults; `make test` runs every suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench clean fuzz

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/kariz up $(ARGS)

test: $(STAMP)
	bash .ci/services
	$(BIN)/pytest $(PYTEST_ARGS)

fuzz: $(STAMP)
	bash .ci/schemathesis

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var
