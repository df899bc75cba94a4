"""Property-based tests of the HTTP shim against its own OpenAPI schema (schemathesis).

Generated requests, valid and invalid, go to the in-process ASGI app over a temporary home:
no 5xx, and every response (status code, content type, body) conforms to the schema.
Bounded so the whole module runs in well under a minute.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from conftest import SAMPLE_CONFIG
from vidgen.api.app import create_app

MAX_EXAMPLES = 40

# Settings are read per request, so the app follows the `home` fixture's VIDGEN_HOME; loading
# the schema itself touches no store.
app = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture
def themes(home: Path) -> Path:
    folder = home / "themes"
    folder.mkdir(parents=True)
    (folder / "demo.yml").write_text(SAMPLE_CONFIG.read_text())
    from vidgen import service
    from vidgen.settings import load_settings

    # Themes the sample covers, so small ids hit real jobs (200, and 400 on retry).
    for theme in ("Running", "Travel"):
        service.generate(load_settings(), theme)
    return folder


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_shim_conforms_to_its_schema(case: Any, themes: Path) -> None:
    # positive_data_acceptance is left out on purpose: the schema cannot say that a theme must
    # not be blank or that config_path must name an existing file, so some schema-valid
    # requests are rightly refused with a 422 that says what to fix.
    response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
    assert response.status_code < 500, (case.method, case.path, response.text)
