# make demo: run tide's main job on embedded defaults.  make test: the whole test suite.
# Both work on a fresh machine with only python3, git and make: they build .venv (tide and its test
# tools), .venv-dvc (real dvc, the compatibility oracle) and install Debian packages the tests need.
PYTHON ?= python3
VENV := .venv
DVC_VENV := .venv-dvc
DVC_VERSION := 3.67.1
PY := $(VENV)/bin/python
JOBS ?= 2

.PHONY: test demo bench torture lint sysdeps venv dvc-venv clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test,all]'
	touch $@

$(DVC_VENV)/.installed:
	$(PYTHON) -m venv $(DVC_VENV)
	$(DVC_VENV)/bin/pip install -q 'dvc==$(DVC_VERSION)'
	touch $@

venv: $(VENV)/.installed
dvc-venv: $(DVC_VENV)/.installed

sysdeps:
	bash scripts/sysdeps.sh

lint: venv
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/lint-imports

test: venv dvc-venv sysdeps lint
	TIDE_TEST_DVC=$(CURDIR)/$(DVC_VENV)/bin/dvc $(VENV)/bin/pytest -n $(JOBS) -q -p no:cacheprovider $(PYTEST_ARGS)

demo: venv
	$(PY) -m tide demo

bench: venv dvc-venv
	$(PY) bench/run.py --dvc $(CURDIR)/$(DVC_VENV)/bin/dvc $(if $(SCALE),--scale $(SCALE),)

clean:
	rm -rf $(VENV) $(DVC_VENV) .demo bench/.work
