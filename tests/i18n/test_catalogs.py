"""The catalogs are complete and current: CI fails on a missing, empty or fuzzy entry, on a
broken placeholder, or when messages.pot no longer matches the code and templates."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from twoorl.i18n import LOCALE_DIR, LOCALES, catalog_path

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{n\}")


def load(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def ids(catalog: Catalog) -> set:
    return {m.id for m in catalog if m.id}


def test_template_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_", "-k", "gettext", "-k", "ngettext:1,2", "--no-location", "--omit-header",
         "-o", str(fresh), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    committed = ids(load(LOCALE_DIR / "messages.pot"))
    extracted = ids(load(fresh))
    assert extracted - committed == set(), "new strings: run `make catalogs` and translate them"
    assert committed - extracted == set(), "strings gone from the code: run `make catalogs`"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_complete(locale: str) -> None:
    template = ids(load(LOCALE_DIR / "messages.pot"))
    catalog = load(catalog_path(locale), locale)
    assert ids(catalog) == template, "catalog out of date with messages.pot"
    plural_forms = catalog.num_plurals
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if isinstance(message.id, tuple):
            assert len(forms) == plural_forms, f"plural forms of {message.id!r}"
        assert all(forms), f"untranslated: {message.id!r}"
        source = message.id[-1] if isinstance(message.id, tuple) else message.id
        expected = set(PLACEHOLDER.findall(source))
        for form in forms:
            found = set(PLACEHOLDER.findall(form))
            # A plural form may drop the number ("one post" in words), nothing else.
            assert found <= expected and expected - found <= {"%(num)d"}, (
                f"{locale}: placeholders of {message.id!r}: {form!r}"
            )


@pytest.mark.parametrize("locale", ["ru", "pl"])
def test_slavic_catalogs_have_three_plural_forms(locale: str) -> None:
    assert load(catalog_path(locale), locale).num_plurals == 3
