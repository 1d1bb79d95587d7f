# Two commands: `make run` runs the product, `make test` checks it (what CI runs).
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
export UV_PYTHON_DOWNLOADS := never

.PHONY: run manage test lint typecheck sync uv clean-data

uv:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

sync: uv
	@$(UV) sync --frozen

run: sync
	@$(UV) run --frozen python -m chatbot.launcher

# Any management command against the same database, e.g. `make manage ARGS=createsuperuser`.
manage: sync
	@$(UV) run --frozen python -m chatbot.launcher $(ARGS)

lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen lint-imports

typecheck: sync
	DJANGO_DEBUG=true $(UV) run --frozen mypy .

test: lint typecheck
	$(UV) run --frozen pytest

clean-data:
	rm -rf .data
