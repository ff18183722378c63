.PHONY: install test lint format bench soak demo

install:
	pip install -e '.[test,dev]'

test:
	python -m pytest

lint:
	ruff check . && ruff format --check . && mypy

format:
	ruff format . && ruff check --fix .

bench:
	python bench/commands.py
	python bench/nudges.py

# The load the suite no longer carries (PostgreSQL needed): each exits 1 when a property fails.
soak:
	python bench/replica_soak.py
	python bench/two_processes.py
	python bench/replicas.py

demo:
	onevoice demo

messages:
	pybabel extract -F babel.cfg -k _ -k N_ -k ngettext:1,2 --no-wrap --sort-by-file -o config/locales/onevoice.pot bot handlers config
	pybabel update -i config/locales/onevoice.pot -d config/locales -D onevoice --no-wrap
