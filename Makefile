# Zhili — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
SCALE ?= small

.PHONY: demo test test-pg bench lint messages check install clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/zhili demo --scale $(SCALE)

test: $(STAMP)
	$(BIN)/pytest -q -n 2 $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.run

lint: $(STAMP)
	$(BIN)/ruff check .

check: $(STAMP)
	$(BIN)/zhili manage check --fail-level WARNING
	$(BIN)/zhili manage makemigrations --check --dry-run

# Needs GNU gettext (Debian: gettext). The compiled .mo is committed so running Zhili does not.
messages: $(STAMP)
	cd zhili && ../$(BIN)/django-admin makemessages -l zh_Hans --ignore 'static/*' -v0 \
		--settings zhili.config.settings
	cd zhili && ../$(BIN)/django-admin compilemessages -v0 --settings zhili.config.settings

clean:
	rm -rf $(VENV) var
