"""Request bodies and query strings are read strictly: wrong types, unknown fields and
malformed JSON are INVALID_ARGUMENT naming the field, never silently ignored."""

from __future__ import annotations

import pytest

from meshkit.errors import InvalidArgument
from meshkit.runtime.rest.body import JsonObject, Query, parse_json


@pytest.mark.parametrize("body", [b"", b"  ", b"{", b"{'a': 1}", b'{"a": NaN}', b"\xff\xfe{}"])
def test_malformed_json_is_invalid_argument(body: bytes) -> None:
    """Empty, truncated, non-JSON and non-UTF-8 bodies are refused with MALFORMED_JSON."""
    with pytest.raises(InvalidArgument) as caught:
        parse_json(body)
    assert caught.value.reason == "MALFORMED_JSON"


def test_fields_are_read_by_type_and_unknown_ones_refused() -> None:
    """Typed reads with defaults; done() names every field nobody read."""
    body = JsonObject.parse(b'{"sku": "A", "quantity": 2, "items": [{"x": 1}], "typo": 1}')
    assert body.string("sku") == "A"
    assert body.integer("quantity") == 2
    assert body.string("absent", "d") == "d"
    items = body.objects("items")
    with pytest.raises(InvalidArgument) as caught:
        body.done()
    assert [v.field for v in caught.value.violations] == ["typo"]
    with pytest.raises(InvalidArgument) as caught:
        items[0].done()
    assert [v.field for v in caught.value.violations] == ["items[0].x"]


@pytest.mark.parametrize(
    ("document", "read"),
    [
        (b'{"quantity": "2"}', lambda o: o.integer("quantity")),
        (b'{"quantity": true}', lambda o: o.integer("quantity")),
        (b'{"quantity": 2.5}', lambda o: o.integer("quantity")),
        (b'{"sku": 1}', lambda o: o.string("sku")),
        (b'{"items": {}}', lambda o: o.objects("items")),
        (b'{"items": [1]}', lambda o: o.objects("items")),
        (b'{"skus": ["a", 1]}', lambda o: o.strings("skus")),
        (b"[]", lambda o: o),
    ],
)
def test_a_field_of_the_wrong_type_is_named(document: bytes, read: object) -> None:
    """Strings are not numbers, booleans are not integers, arrays hold what they should."""
    with pytest.raises(InvalidArgument):
        read(JsonObject.parse(document))  # type: ignore[operator]


def test_query_parameters_are_unique_known_and_typed() -> None:
    """A repeated or unknown parameter, or a non-numeric number, is refused by name."""
    query = Query([("limit", "5"), ("orderId", "o")])
    assert query.integer("limit") == 5
    assert query.string("orderId") == "o"
    query.done()
    with pytest.raises(InvalidArgument, match="more than once"):
        Query([("a", "1"), ("a", "2")])
    with pytest.raises(InvalidArgument):
        Query([("limit", "-1")]).integer("limit")
    with pytest.raises(InvalidArgument) as caught:
        Query([("x", "1")]).done()
    assert caught.value.violations[0].field == "x"
