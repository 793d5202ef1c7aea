# Tillsight — the front door.  `make demo` and `make test` set up everything they need on a fresh
# Debian machine: Debian packages (when missing, as root), a virtual environment, Python packages.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
DEB_PACKAGES := mosquitto chromium chromium-driver postgresql
STAMP_BASE  := $(VENV)/.stamp-base
STAMP_FULL  := $(VENV)/.stamp-full
STAMP_HUB   := $(VENV)/.stamp-hub
# real counter photos for `make bench` (bench real): any folder in that layout (docs/vision-api.md)
REAL_COUNTER ?= ../shared/data/real-counter
# the suite runs in parallel worker processes (pytest-xdist), a test file per worker at a time: most
# tests wait on processes, brokers and browsers rather than compute, so 3 workers suit even 2 cores
TEST_WORKERS ?= 3

.PHONY: help setup setup-full deps-debian demo lint test test-fast train bench install clean

help:
	@echo "make demo   run the appliance (synthetic camera, demo catalogue) and the hub beside it; print the URLs"
	@echo "make test   run ruff and mypy (make lint), then the whole test suite"
	@echo "make lint   ruff (style and bug patterns) and mypy (types) over the code; configured in pyproject.toml"
	@echo "make train  train the demo model end to end and write models/demo"
	@echo "make bench  run the benchmarks and print their figures"
	@echo "sudo make install-device | install-hub | uninstall | rollback   systemd services (docs/operations.md)"

# Debian packages the tests and services use; installed only when missing.
deps-debian:
	@missing=""; \
	command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing="$$missing mosquitto"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	$(PYTHON) -c "import ensurepip, venv" >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# device dependencies only (what a Pi installs) + test tools
$(STAMP_BASE): pyproject.toml | $(PY)
	$(PIP) install -q -e '.[dev]'
	@touch $@

# + the train extra (torch, torchvision, ultralytics) for the training tests and `make train`,
# + the hub extra (SQLAlchemy, psycopg) for the hub's tests
$(STAMP_FULL): pyproject.toml $(STAMP_BASE)
	$(PIP) install -q -e '.[dev,train,hub]'
	@touch $@

# + the hub extra (SQLAlchemy, psycopg, openpyxl): `make demo` runs the hub beside the appliance
$(STAMP_HUB): pyproject.toml $(STAMP_BASE)
	$(PIP) install -q -e '.[dev,hub]'
	@touch $@

setup: deps-debian $(STAMP_BASE)
setup-full: deps-debian $(STAMP_FULL)

demo: deps-debian $(STAMP_HUB)
	$(VENV)/bin/tillsight demo

# ruff and mypy, configured in pyproject.toml ([tool.ruff], [tool.mypy]: mypy's `files` names the packages)
lint: $(STAMP_FULL)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: setup-full lint
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# the quick loop: no torch (the training tests skip themselves), the hub's tests included
test-fast: deps-debian $(STAMP_HUB)
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not slow"

train: setup-full
	$(VENV)/bin/tillsight train all --out models/demo --work build/train

bench: setup-full
	$(VENV)/bin/tillsight bench vision --json
	$(VENV)/bin/tillsight bench edge --json
	$(VENV)/bin/tillsight bench sync --json
	$(VENV)/bin/tillsight bench hub --json
	@if [ -d "$(REAL_COUNTER)/images" ]; then \
	  $(VENV)/bin/tillsight bench real --data "$(REAL_COUNTER)" --json && \
	  $(VENV)/bin/tillsight bench real --data "$(REAL_COUNTER)" --unenrolled 4 --json; \
	else echo "bench real: no real-counter photos at $(REAL_COUNTER) (set REAL_COUNTER=DIR)"; fi

# --- deployment: systemd services on a device or the hub (systemd/install.sh, docs/operations.md) ---
# sudo make install-device [PROFILE=pi4|pi5|jetson|dev] [CAMERA_DEVICE=/dev/video0|none]
# sudo make install-hub;  sudo make uninstall (keeps config and data);  sudo make rollback
# Staging for packages and tests: make install-device DESTDIR=/tmp/root [SKIP_VENV=1]
# More settings (VENV_ARGS, PIP_ARGS, PACKAGE, ENABLE) are described at the top of systemd/install.sh.
.PHONY: install-device install-hub uninstall rollback
DEPLOY := DESTDIR="$(DESTDIR)" PYTHON="$(PYTHON)" bash systemd/install.sh

install: install-device

install-device:
	$(DEPLOY) device

install-hub:
	$(DEPLOY) hub

uninstall:
	$(DEPLOY) uninstall

rollback:
	$(DEPLOY) rollback

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
