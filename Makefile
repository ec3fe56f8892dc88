# harpflow: two set-up commands for a fresh machine, `make demo` and `make test`.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
EXTRAS  := dev,visio,dask
OS_PKGS := graphviz fonts-noto-cjk

.PHONY: demo survey test install system-deps lint format typecheck pytest clean

demo: install survey

# the sample survey report, committed in reports/sample
survey: install
	$(VENV)/bin/harpflow survey processes -o reports/sample

test: install lint typecheck pytest

install: system-deps $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

# graphviz draws the flows; fonts-noto-cjk gives them (and the plots)
# Japanese glyphs. Installed with apt-get when missing and we are root.
system-deps:
	@missing=""; \
	command -v dot >/dev/null 2>&1 || missing="$$missing graphviz"; \
	fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing OS packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "harpflow needs the OS packages:$$missing"; \
	    echo "install them (as root: apt-get install$$missing) and run make again"; \
	    exit 1; \
	  fi; \
	fi

lint:
	$(VENV)/bin/ruff format --check harpflow tests benchmarks
	$(VENV)/bin/ruff check harpflow tests benchmarks

format:
	$(VENV)/bin/ruff format harpflow tests benchmarks
	$(VENV)/bin/ruff check --fix harpflow tests benchmarks

typecheck:
	$(VENV)/bin/mypy harpflow

pytest:
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
