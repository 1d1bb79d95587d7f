# Two commands: `make run` runs the product, `make test` checks it (what CI runs).
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
VENV := $(or $(UV_PROJECT_ENVIRONMENT),.venv)
export UV_PYTHON_DOWNLOADS := never

.PHONY: run manage test lint typecheck sync uv clean-data

uv:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

sync: uv
	@$(UV) sync --frozen

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
