"""google.api.http path templates: syntax, matching, percent-encoding, expansion, precedence."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.templates import (
    PathError,
    PathTemplate,
    TemplateError,
    normalise_path,
    parse_template,
    split_path,
)

# ---------------------------------------------------------------------------------------
# Generated templates and bindings (R-B19)

_CONTROLS = "".join(map(chr, range(0x20))) + "\x7f"
_FIELD_PATHS = st.lists(st.sampled_from(["a", "b", "name", "sku", "book_id", "_x9"]), max_size=3)
_PLAIN_LITERALS = st.text("abcxyz019-._~", min_size=1, max_size=6).filter(
    lambda s: s not in (".", "..")
)
# Literal text as a template author may write it: reserved characters and escapes too.
_WRITTEN_LITERALS = (
    st.lists(
        st.one_of(
            st.sampled_from(list("abz09-._~!$&'()+,;=@")),
            st.sampled_from(["%2F", "%3a", "%7E", "%7e", "%20", "%C3%A9", "%2A"]),
        ),
        min_size=1,
        max_size=5,
    )
    .map("".join)
    .filter(lambda s: s not in (".", ".."))
)
# A single-segment value is any text a path can carry: not empty, no control characters,
# not "." or "..", and no literal "%2e"/"%2f" (expanded, that is a double-encoded dot or
# slash, which paths may not contain).
_SINGLE_VALUES = st.text(
    st.characters(codec="utf-8", exclude_characters=_CONTROLS),
    min_size=1,
    max_size=8,
).filter(lambda v: v not in (".", "..") and not re.search(r"%(25)*2[ef]", v, re.IGNORECASE))
# A segment of a multi-segment value, as match reports it: reserved characters that came
# encoded stay encoded (upper-case hex), all other characters are decoded.
_MULTI_SEGMENTS = (
    st.lists(
        st.one_of(
            st.characters(codec="utf-8", exclude_characters=_CONTROLS + "/%?#[]"),
            st.sampled_from(["%2F", "%3A", "%3F", "%23", "%40", "%2B", "%5B"]),
        ),
        min_size=1,
        max_size=6,
    )
    .map("".join)
    .filter(lambda s: s not in (".", ".."))
)

_Element = tuple[str, str, tuple[str, ...]]  # (kind, field path, inner segments)


@st.composite
def _elements(
    draw: st.DrawFn, *, literals: st.SearchStrategy[str], bare_star: bool
) -> list[_Element]:
    """The top-level segments of a template; '**' only last, field paths unique."""
    count = draw(st.integers(1, 5))
    paths = draw(
        st.lists(
            _FIELD_PATHS.filter(bool).map(".".join), min_size=count, max_size=count, unique=True
        )
    )
    elements: list[_Element] = []
    for i, path in enumerate(paths):
        last = i == count - 1
        kinds = (
            ["literal", "var", "var"] + (["star"] if bare_star else []) + (["deep"] if last else [])
        )
        kind = draw(st.sampled_from(kinds))
        if kind == "literal":
            elements.append(("literal", "", (draw(literals),)))
        elif kind == "var":
            inner = draw(st.lists(st.one_of(literals, st.just("*")), min_size=1, max_size=3))
            if last and draw(st.booleans()):
                inner.append("**")
            elements.append(("var", path, tuple(inner)))
        else:
            elements.append((kind, "", ()))
    return elements


def _text(elements: list[_Element], verb: str, *, explicit_star: bool = False) -> str:
    parts = []
    for kind, path, inner in elements:
        if kind == "literal":
            parts.append(inner[0])
        elif kind == "star":
            parts.append("*")
        elif kind == "deep":
            parts.append("**")
        elif inner == ("*",) and not explicit_star:
            parts.append("{" + path + "}")
        else:
            parts.append("{" + path + "=" + "/".join(inner) + "}")
    return "/" + "/".join(parts) + (":" + verb if verb else "")


@st.composite
def _written_templates(draw: st.DrawFn) -> str:
    elements = draw(_elements(literals=_WRITTEN_LITERALS, bare_star=True))
    verb = draw(st.one_of(st.just(""), _WRITTEN_LITERALS))
    return _text(elements, verb, explicit_star=draw(st.booleans()))


@st.composite
def _templates_with_bindings(draw: st.DrawFn) -> tuple[PathTemplate, dict[str, str]]:
    elements = draw(_elements(literals=_PLAIN_LITERALS, bare_star=False))
    template = parse_template(_text(elements, draw(st.one_of(st.just(""), _PLAIN_LITERALS))))
    bindings: dict[str, str] = {}
    for kind, path, inner in elements:
        if kind != "var":
            continue
        if len(inner) == 1 and inner[0] != "**":
            bindings[path] = draw(_SINGLE_VALUES) if inner == ("*",) else inner[0]
            continue
        parts: list[str] = []
        for segment in inner:
            if segment == "**":
                parts.extend(draw(st.lists(_MULTI_SEGMENTS, max_size=3)))
            else:
                parts.append(draw(_MULTI_SEGMENTS) if segment == "*" else segment)
        bindings[path] = "/".join(parts)
    return template, bindings


# R-B19
@given(_written_templates())
def test_parse_print_round_trip_for_generated_templates(text: str) -> None:
    """Printing a parsed template and parsing it again gives the same template and text."""
    template = parse_template(text)
    again = parse_template(str(template))
    assert again == template
    assert str(again) == str(template)


# R-B19
@given(_templates_with_bindings())
def test_match_inverts_expand_for_generated_bindings(
    case: tuple[PathTemplate, dict[str, str]],
) -> None:
    """Any bindings a path can carry expand to a path that matches back to them exactly."""
    template, bindings = case
    path = template.expand(bindings)
    assert template.match(path) == bindings


# R-B19
@given(st.one_of(st.text(), st.text("/{}=*.:%_a2Ff -")))
def test_parse_of_arbitrary_text_succeeds_or_raises_template_error(text: str) -> None:
    """Parsing any text gives a template that prints back to itself or a TemplateError."""
    try:
        template = parse_template(text)
    except TemplateError:
        return
    assert parse_template(str(template)) == template


_MATCHERS = [
    parse_template(t)
    for t in ("/v1/{name=shelves/*/books/*}", "/{name=**}:verb", "/v1/{id}:cancel", "/**")
]


# R-B19
@given(st.one_of(st.text(), st.text("/%:.2eEfF5aA0C3-~*{}\x00é").map(lambda s: "/" + s)))
def test_match_of_arbitrary_text_never_raises(path: str) -> None:
    """Matching any text returns bindings or None: it never raises."""
    for template in _MATCHERS:
        result = template.match(path)
        assert result is None or set(result) == set(template.variables)


# ---------------------------------------------------------------------------------------
# Syntax


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty template"),
        ("v1/x", "must start with '/'"),
        ("/", "empty segment"),
        ("/v1//x", "empty segment"),
        ("/v1/", "empty segment"),
        ("/**/x", "'**' must be the last segment"),
        ("/v1/{name=**}/x", "'**' must be the last segment"),
        ("/v1/{a={b}}", "variables cannot be nested"),
        ("/v1/{a}/{a}", "variable 'a' is bound twice"),
        ("/v1/{1a}", "expected a field name"),
        ("/v1/{a.}", "expected a field name"),
        ("/v1/{a-b}", "expected '}'"),
        ("/v1/{a", "unclosed '{'"),
        ("/v1/a}", "unmatched '}'"),
        ("/v1/{a=}", "empty segment"),
        ("/v1/x:do/more", "the verb must not contain '/'"),
        ("/v1/x:", "empty verb"),
        ("/v1/*x", "must be whole segments"),
        ("/v1/../x", "'.' and '..' cannot be segments"),
        ("/v1/%2e", "'.' and '..' cannot be segments"),
        ("/v1/a%2", "malformed percent-encoding"),
        ("/v1/a%00", "control character"),
        ("/v1/a b", "unexpected character ' '"),
    ],
)
def test_parse_rejects_invalid_templates_with_a_clear_message(text: str, message: str) -> None:
    """Each kind of invalid template raises a TemplateError saying what is wrong."""
    with pytest.raises(TemplateError, match=re.escape(message)):
        parse_template(text)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("/v1/{name=*}", "/v1/{name}"),
        ("/v%31/%7euser/a%3ab", "/v1/~user/a%3Ab"),
        ("/v1/{book.name=shelves/*/books/*}:get", "/v1/{book.name=shelves/*/books/*}:get"),
        ("/{name=**}:verb", "/{name=**}:verb"),
    ],
)
def test_print_gives_the_canonical_text(text: str, canonical: str) -> None:
    """A template prints in canonical form: {x} for {x=*}, escapes normalised."""
    assert str(PathTemplate.parse(text)) == canonical


def test_variables_lists_field_paths_in_order() -> None:
    """variables gives each bound field path in the order of the template."""
    template = parse_template("/v1/{parent=shelves/*}/books/{book.id}:move")
    assert template.variables == ("parent", "book.id")


# ---------------------------------------------------------------------------------------
# Matching


@pytest.mark.parametrize(
    ("template", "path", "bindings"),
    [
        ("/v1/{name=messages/*}", "/v1/messages/123456", {"name": "messages/123456"}),
        ("/v1/messages/{message_id}", "/v1/messages/123456", {"message_id": "123456"}),
        (
            "/v1/users/{user_id}/messages/{message_id}",
            "/v1/users/me/messages/123456",
            {"user_id": "me", "message_id": "123456"},
        ),
        (
            "/v1/{name=shelves/*/books/*}",
            "/v1/shelves/s1/books/b2",
            {"name": "shelves/s1/books/b2"},
        ),
        (
            "/v1/messages/{message_id}/{sub.subfield}",
            "/v1/messages/1/foo",
            {"message_id": "1", "sub.subfield": "foo"},
        ),
        ("/{name=**}:verb", "/a/b/c:verb", {"name": "a/b/c"}),
        ("/v1/*/x", "/v1/anything/x", {}),
    ],
)
def test_match_binds_the_http_proto_examples(
    template: str, path: str, bindings: dict[str, str]
) -> None:
    """The examples of google/api/http.proto bind the documented values."""
    assert parse_template(template).match(path) == bindings


@pytest.mark.parametrize(
    ("template", "path"),
    [
        ("/v1/{name=messages/*}", "/v1/messages"),
        ("/v1/{name=messages/*}", "/v1/messages/1/2"),
        ("/v1/{name=messages/*}", "/v1/letters/1"),
        ("/v1/{name=shelves/*/books/*}", "/v1/shelves/s1/books"),
        ("/{name=**}:verb", "/a/b/c"),
        ("/{name=**}:verb", "/a/b/c:other"),
        ("/v1/messages/{message_id}", "/v1/messages/1:verb/x"),
        ("/v1/{id}:cancel", "/v1/:cancel"),
        ("/v1/{id}:cancel", "/v1/..:cancel"),
    ],
)
def test_match_returns_none_for_paths_of_another_shape(template: str, path: str) -> None:
    """A path with other literals, segment counts or verb does not match."""
    assert parse_template(template).match(path) is None


def test_single_segment_variable_decodes_everything() -> None:
    """{var} decodes every escape, %2F included, and UTF-8 sequences."""
    template = parse_template("/v1/products/{sku}")
    assert template.match("/v1/products/a%2Fb%20c%3A%25%C3%A9+d") == {"sku": "a/b c:%é+d"}


def test_multi_segment_variable_keeps_reserved_characters_encoded() -> None:
    """{var=**} decodes %20 and unreserved escapes but leaves %2F and other reserved ones."""
    template = parse_template("/v1/{name=**}")
    got = template.match("/v1/a%2fb/c%3Ad%20e%7E%C3%A9/x:y")
    assert got == {"name": "a%2Fb/c%3Ad e~é/x:y"}


def test_literals_compare_after_decoding_unreserved_characters_only() -> None:
    """An escaped unreserved character equals the character; a reserved one does not."""
    assert parse_template("/v1/products").match("/v%31/product%73") == {}
    encoded_colon = parse_template("/v1/a%3Ab")
    assert encoded_colon.match("/v1/a%3ab") == {}
    assert encoded_colon.match("/v1/a:b") is None


def test_verb_is_the_text_after_the_last_colon() -> None:
    """The verb splits off the last segment at its last ':'; an escaped ':' is no verb."""
    template = parse_template("/v1/orders/{id}:cancel")
    assert template.match("/v1/orders/a:b:cancel") == {"id": "a:b"}
    assert template.match("/v1/orders/a%3Acancel") is None


def test_double_star_matches_zero_segments() -> None:
    """'**' matches no segment at all, binding an empty value."""
    assert parse_template("/v1/{name=**}").match("/v1") == {"name": ""}
    assert parse_template("/{name=**}:verb").match("/:verb") == {"name": ""}
    assert parse_template("/{name=**}").match("/") == {"name": ""}


@pytest.mark.parametrize(
    "path",
    ["/v1/a/../b", "/v1/%2e%2E/b", "/v1/./b", "/v1/a//b", "/v1/a%00", "/v1/a%252Fb", "/v1/a/"],
)
def test_match_refuses_crafted_paths(path: str) -> None:
    """Dot segments, empty segments, %00 and double encoding never match, even '**'."""
    assert parse_template("/v1/{name=**}").match(path) is None


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("v1/x", "must start with '/'"),
        ("/v1//x", "empty path segment"),
        ("/v1/x/", "empty path segment"),
        ("/v1/./x", "'.' or '..' path segment"),
        ("/v1/%2E%2e/x", "'.' or '..' path segment"),
        ("/v1/.%2e", "'.' or '..' path segment"),
        ("/v1/x%00", "percent-encoded control character"),
        ("/v1/x%0a", "percent-encoded control character"),
        ("/v1/x\r\n", "control character in path"),
        ("/v1/%252F", "double-encoded"),
        ("/v1/%25252e", "double-encoded"),
        ("/v1/%zz", "malformed percent-encoding"),
        ("/v1/%ff", "not UTF-8"),
        ("/v1/a b", "not allowed in a path"),
        ("/v1/x?q=1", "not allowed in a path"),
    ],
)
def test_split_path_refuses_paths_with_the_reason(path: str, reason: str) -> None:
    """split_path raises PathError with a reason a 400 response can carry."""
    with pytest.raises(PathError, match=re.escape(reason)):
        split_path(path)


def test_normalise_path_decodes_unreserved_and_upper_cases_the_rest() -> None:
    """The canonical path decodes unreserved escapes only and keeps %2F in its segment."""
    assert normalise_path("/v%31/%7ea%2fb%3a") == "/v1/~a%2Fb%3A"
    assert split_path("/v1/a%2Fb") == ("v1", "a%2Fb")
    assert split_path("/") == ()


# ---------------------------------------------------------------------------------------
# Expansion


@pytest.mark.parametrize(
    ("template", "bindings", "path"),
    [
        ("/v1/products/{sku}", {"sku": "a/b c:é%"}, "/v1/products/a%2Fb%20c%3A%C3%A9%25"),
        ("/v1/{name=**}", {"name": "a b/c%2Fd:e"}, "/v1/a%20b/c%2Fd:e"),
        ("/v1/{name=**}", {"name": "100%"}, "/v1/100%25"),
        ("/v1/{name=shelves/*}:get", {"name": "shelves/s 1"}, "/v1/shelves/s%201:get"),
        ("/v1/{name=**}", {"name": ""}, "/v1"),
        ("/v1/**", {}, "/v1"),
    ],
)
def test_expand_encodes_per_variable_kind(
    template: str, bindings: dict[str, str], path: str
) -> None:
    """{var} escapes all but unreserved characters; {var=**} keeps '/', ':' and reserved escapes."""
    assert parse_template(template).expand(bindings) == path


@pytest.mark.parametrize(
    ("template", "bindings", "message"),
    [
        ("/v1/{a}/{b}", {"a": "x"}, "do not name the variables"),
        ("/v1/{a}", {"a": "x", "b": "y"}, "do not name the variables"),
        ("/v1/{a}", {"a": ""}, "empty path segment"),
        ("/v1/{a}", {"a": ".."}, "'.' or '..'"),
        ("/v1/{a}", {"a": "x\n"}, "control character"),
        ("/v1/{name=shelves/*}", {"name": "books/1"}, "do not fit"),
        ("/v1/{name=shelves/*}", {"name": "shelves/1/2"}, "do not fit"),
        ("/v1/{name=**}", {"name": "a?b"}, "do not fit"),
        ("/v1/*/{a}", {"a": "x"}, "'*' outside a variable"),
    ],
)
def test_expand_refuses_bindings_no_path_can_carry(
    template: str, bindings: dict[str, str], message: str
) -> None:
    """Bindings that no path could match back raise ValueError saying why."""
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_template(template).expand(bindings)


# ---------------------------------------------------------------------------------------
# Precedence


def test_specificity_ranks_literal_then_variable_then_double_star() -> None:
    """Sorting by specificity puts literals before variables before '**', from the left."""
    texts = ["/v1/**", "/v1/{name=shelves/*}", "/v1/{a}/{b}", "/v1/shelves/{s}", "/{x}/shelves/a"]
    ordered = sorted((parse_template(t) for t in texts), key=lambda t: t.specificity)
    assert [str(t) for t in ordered] == [
        "/v1/shelves/{s}",
        "/v1/{name=shelves/*}",
        "/v1/{a}/{b}",
        "/v1/**",
        "/{x}/shelves/a",
    ]


def test_specificity_prefers_a_verb_when_segments_tie() -> None:
    """Of two templates with equal segments, the one with a verb is more specific."""
    plain, verb = parse_template("/v1/{id}"), parse_template("/v1/{id}:cancel")
    assert verb.specificity < plain.specificity


def test_specificity_prefers_an_exact_match_over_double_star_matching_nothing() -> None:
    """'/v1/a' beats '/v1/a/**' (both match '/v1/a'); a longer template beats a shorter one."""
    exact, deep = parse_template("/v1/a"), parse_template("/v1/a/**")
    assert exact.specificity < deep.specificity
    assert parse_template("/v1/{a}/{b}").specificity < parse_template("/v1/{a}").specificity
