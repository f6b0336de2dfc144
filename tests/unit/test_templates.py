"""Every template compiles with the i18n extension (a typo in a rarely seen page fails here)."""

import pytest

from twoorl.web.templating import TEMPLATE_DIR, build_templates

TEMPLATES = sorted(p.relative_to(TEMPLATE_DIR).as_posix() for p in TEMPLATE_DIR.rglob("*.html"))


def test_there_are_templates() -> None:
    assert "base.html" in TEMPLATES and "timeline.html" in TEMPLATES


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_compiles(name: str) -> None:
    env = build_templates(strict=True).env
    assert env.get_template(name) is not None
