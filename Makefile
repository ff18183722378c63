.PHONY: install test lint format bench demo

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

demo:
	onevoice demo

messages:
	pybabel extract -F babel.cfg -k _ -k N_ -k ngettext:1,2 --no-wrap --sort-by-file -o config/locales/onevoice.pot bot handlers config
	pybabel update -i config/locales/onevoice.pot -d config/locales -D onevoice --no-wrap
