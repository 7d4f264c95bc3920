"""A schema-driven fuzz of the JSON API (schemathesis's idea, in a few lines of hypothesis):
requests made from the OpenAPI document's own parameters, valid and not, must never get a
5xx, and every answer must match the schema the document gives for its status."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tests.support.dashboard import RunningDashboard, wait_synced
from tests.web.test_api import make_token
from tokenusage.service.jsonout import encode_cursor
from tokenusage.web.openapi import document

DOC = document()
ANY_TEXT = st.text(max_size=30)


@pytest.fixture(scope="module")
def fuzz_api(reader_dashboard: RunningDashboard) -> Iterator[httpx.Client]:
    token = make_token(reader_dashboard, "fuzzer")
    with reader_dashboard.client(headers={"authorization": f"Bearer {token}"}) as http:
        http.get("/api/v1/summary")
        wait_synced(reader_dashboard)
        yield http


def _value(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values the schema allows, and some it does not."""
    kind = schema.get("type")
    if "enum" in schema:
        good: st.SearchStrategy[Any] = st.sampled_from(schema["enum"])
    elif kind == "integer":
        good = st.integers(schema.get("minimum", -(10**6)), schema.get("maximum", 10**6)).map(str)
    elif kind == "array":
        return st.lists(_value(schema["items"]) | ANY_TEXT, max_size=3)
    elif "pattern" in schema:
        good = st.dates().map(lambda d: d.isoformat()) | st.from_regex(schema["pattern"])
    elif schema.get("description", "").startswith("`next_cursor`"):
        good = st.integers(-5, 2**64).map(encode_cursor)
    else:
        good = ANY_TEXT
    bad = ANY_TEXT | st.integers().map(str)
    return st.one_of(good, good, bad)


def _requests() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    options = []
    for path, item in DOC["paths"].items():
        params = item["get"].get("parameters", [])
        fields = {p["name"]: st.none() | _value(p["schema"]) for p in params}
        options.append(st.tuples(st.just(path), st.fixed_dictionaries(fields)))
    return st.one_of(options)


def _check(path: str, answer: httpx.Response) -> None:
    responses = DOC["paths"][path]["get"]["responses"]
    declared = responses.get(str(answer.status_code))
    assert declared is not None, (path, answer.status_code)
    schema = declared["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": DOC["components"]}).validate(answer.json())


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=_requests())
def test_no_5xx_and_every_answer_matches_its_schema(
    fuzz_api: httpx.Client, request: tuple[str, dict[str, Any]]
) -> None:
    path, params = request
    sent = {k: v for k, v in params.items() if v is not None}
    answer = fuzz_api.get(path, params=sent)
    assert answer.status_code < 500, answer.text  # 503 included: the mirror is there
    _check(path, answer)
