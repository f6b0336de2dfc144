# The two commands a newcomer needs: `make serve` and `make test`.
# uv is installed with pip when it is missing; everything else comes from uv.lock.
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test lint format uv sync catalogs

uv:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 \
	  || $(PYTHON) -m pip install --quiet --user uv \
	  || $(PYTHON) -m pip install --quiet --user --break-system-packages uv

sync: uv
	$(UV) sync --frozen

serve: sync
	$(UV) run --frozen twoorl serve --host $(HOST) --port $(PORT)

test: sync
	$(UV) run --frozen pytest

lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format: sync
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

# Translations: extract the strings from code and templates into messages.pot, then merge
# them into every locale's messages.po (translators fill in what is new). Catalogs are
# compiled in memory when Twoorl starts; there is no .mo file to build or commit.
catalogs: sync
	$(UV) run --frozen pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 \
	  --no-location --sort-output --omit-header -o src/twoorl/locale/messages.pot .
	$(UV) run --frozen pybabel update -i src/twoorl/locale/messages.pot -d src/twoorl/locale \
	  --no-fuzzy-matching --ignore-obsolete

# A whole cluster on this machine (8 PostgreSQL shard databases, its own Redis, 2 web and
# 2 worker processes); see "Scaling" in README.md.
.PHONY: cluster-start cluster-stop
cluster-start: sync
	./scripts/local-cluster start

cluster-stop:
	./scripts/local-cluster stop
