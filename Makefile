# Two commands: `make run` runs the product, `make test` checks it (what CI runs).

# uv: the one on PATH when it works, otherwise a private copy installed with pip into a venv of
# its own (.data/uv-venv), which works where the system Python refuses `pip install` (PEP 668).
UV_VENV := .data/uv-venv
UV := $(shell uv --version >/dev/null 2>&1 && command -v uv)
ifeq ($(UV),)
UV := $(UV_VENV)/bin/uv
endif
# The Python that installs uv: 3.13 when it can be found, the project needs it anyway.
BOOTSTRAP_PYTHON := $(shell for p in python3.13 python3; do $$p -c '' 2>/dev/null && { command -v $$p; break; }; done)
VENV := $(or $(UV_PROJECT_ENVIRONMENT),.venv)
export UV_PYTHON_DOWNLOADS := never

.PHONY: run manage test lint typecheck sync uv clean-data

uv:
	@if ! $(UV) --version >/dev/null 2>&1; then \
		echo "Installing uv into $(UV_VENV)"; \
		{ $(BOOTSTRAP_PYTHON) -m venv $(UV_VENV) \
			&& $(UV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv; } \
		|| { echo "Could not install uv: Python 3.13 (with its venv module) must be installed, see README.md" >&2; exit 1; }; \
	fi

# uv writes the dependencies' .pyc files at install (pyproject.toml, compile-bytecode), and
# compileall writes ours (only the changed files): where PYTHONDONTWRITEBYTECODE is set,
# Python would otherwise compile every module from source at each start.
sync: uv
	@$(UV) sync --frozen
	@$(VENV)/bin/python -m compileall -q chatbot application domain data >/dev/null

# The venv's Python is exec'd directly (not through `uv run`), so it is the only process between
# make and the product: Ctrl-C reaches it once, and SIGTERM to make's child reaches it directly.
run: sync
	@exec $(VENV)/bin/python -m chatbot.launcher

# Any management command against the same database, e.g. `make manage ARGS=createsuperuser`.
manage: sync
	@exec $(VENV)/bin/python -m chatbot.launcher $(ARGS)

lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen lint-imports

typecheck: sync
	DJANGO_DEBUG=true $(UV) run --frozen mypy .

test: lint typecheck chromium
	$(UV) run --frozen pytest

# The admin's browser test drives Debian's Chromium (never a browser download of its own).
# As root, install it when it is missing; otherwise that test is skipped, saying why.
.PHONY: chromium
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing chromium for the browser test"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null) \
			|| echo "Could not install chromium; the browser test will be skipped"; \
	fi

clean-data:
	rm -rf .data
