"""The route table: google.api.http rules read from descriptors, checked, and matched."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Mapping
from pathlib import Path

import pytest
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, text_format
from hypothesis import given
from hypothesis import strategies as st
from shopmesh.api.v1 import visibility_pb2

from gateway.routes import (
    BadPath,
    Match,
    MatchResult,
    NoRoute,
    RouteConflictError,
    RouteError,
    RouteTable,
)
from gateway.templates import normalise_path
from gateway.visibility import ADMIN_SURFACE, WHOLE_CONTRACT, Visibility

REPO = Path(__file__).resolve().parents[2]
TABLE = RouteTable.from_descriptor_set(surface=WHOLE_CONTRACT)
"""Every annotated RPC, routed or not at the edge: its rules' matching is tested here;
which of them the edge routes is tested below ("The edge's surface")."""


def _rpc(result: MatchResult) -> str:
    assert isinstance(result, Match), result
    return result.route.method.full_name


# ---------------------------------------------------------------------------------------
# The real table, from gen/descriptors.binpb


@pytest.mark.parametrize(
    ("method", "path", "rpc", "bindings"),
    [
        (
            "GET",
            "/v1/products/SKU-00042",
            "catalog.v1.CatalogService.GetProduct",
            {"sku": "SKU-00042"},
        ),
        ("GET", "/v1/products", "catalog.v1.CatalogService.ListProducts", {}),
        ("GET", "/v1/products:batchGet", "catalog.v1.CatalogService.BatchGetProducts", {}),
        ("POST", "/v1/orders", "orders.v1.OrdersService.PlaceOrder", {}),
        (
            "POST",
            "/v1/orders/ord_x:cancel",
            "orders.v1.OrdersService.CancelOrder",
            {"order_id": "ord_x"},
        ),
        ("GET", "/v1/orders/ord_x", "orders.v1.OrdersService.GetOrder", {"order_id": "ord_x"}),
        ("GET", "/v1/orders:watch", "orders.v1.OrdersService.WatchOrders", {}),
        (
            "GET",
            "/v1/orders/ord_x/events",
            "orders.v1.OrdersService.WatchOrders",
            {"order_id": "ord_x"},
        ),
        (
            "POST",
            "/v1/reservations/k1:release",
            "inventory.v1.InventoryService.Release",
            {"reservation_key": "k1"},
        ),
        ("POST", "/v1/stock:restock", "inventory.v1.InventoryService.Restock", {}),
        (
            "GET",
            "/v1/reservations/ord_x%2F0",
            "inventory.v1.InventoryService.GetReservation",
            {"reservation_key": "ord_x/0"},
        ),
        ("POST", "/v1/quotes:stream", "pricing.v1.PricingService.QuoteStream", {}),
        (
            "POST",
            "/v1/charges/ch_1:refund",
            "payments.v1.PaymentsService.Refund",
            {"charge_id": "ch_1"},
        ),
    ],
)
def test_real_table_routes_requests_to_their_rpcs(
    method: str, path: str, rpc: str, bindings: dict[str, str]
) -> None:
    """Each annotated RPC of the shop is reached by its HTTP method and path."""
    result = TABLE.match(method, path)
    assert _rpc(result) == "shopmesh." + rpc
    assert isinstance(result, Match)
    assert result.bindings == bindings


def test_put_on_a_get_only_path_is_method_not_allowed() -> None:
    """A path that only GET routes match answers other methods with the allowed list."""
    result = TABLE.match("PUT", "/v1/products/x")
    assert result == NoRoute(allowed=("GET",))
    assert result.method_not_allowed
    assert not result.not_found


def test_allowed_methods_are_sorted_and_complete() -> None:
    """Every method with a route for the path is listed, sorted."""
    assert TABLE.match("DELETE", "/v1/orders/ord_x:cancel") == NoRoute(allowed=("GET", "POST"))


def test_unknown_path_is_not_found() -> None:
    """A path no route matches, for any method, is not_found."""
    result = TABLE.match("GET", "/v2/products/x")
    assert isinstance(result, NoRoute)
    assert result.not_found
    assert TABLE.match("GET", "/") == NoRoute()


def test_methods_compare_case_sensitively() -> None:
    """'get' is not GET (RFC 9110): it gets method_not_allowed, not GetProduct."""
    assert TABLE.match("get", "/v1/products/x") == NoRoute(allowed=("GET",))


def test_route_exposes_the_rpc_shape() -> None:
    """A route carries the gRPC path, message types and streaming flags of its RPC."""
    result = TABLE.match("GET", "/v1/products")
    assert isinstance(result, Match)
    route = result.route
    assert route.grpc_path == "/shopmesh.catalog.v1.CatalogService/ListProducts"
    assert route.service == "shopmesh.catalog.v1.CatalogService"
    assert route.method.input_type.full_name == "shopmesh.catalog.v1.ListProductsRequest"
    assert (route.method.client_streaming, route.method.server_streaming) == (False, True)
    assert (route.http_method, route.body, route.response_body) == ("GET", "", "")
    restock = TABLE.match("POST", "/v1/stock:restock")
    assert isinstance(restock, Match)
    assert (restock.route.body, restock.route.method.client_streaming) == ("*", True)


def test_table_is_built_from_its_own_pool_not_the_default_one() -> None:
    """Routes from gen/descriptors.binpb come with the fresh pool their descriptors live in."""
    assert TABLE.pool is not None
    assert TABLE.pool is not descriptor_pool.Default()
    for route in TABLE.routes:
        assert route.method.containing_service.file.pool is TABLE.pool
    watch = [str(r.template) for r in TABLE.routes if r.method.name == "WatchOrders"]
    assert watch == ["/v1/orders:watch", "/v1/orders/{order_id}/events"]


def test_routes_order_is_deterministic() -> None:
    """Building the table twice lists the same routes in the same order."""
    again = RouteTable.from_descriptor_set(surface=WHOLE_CONTRACT)
    assert [str(r) for r in again.routes] == [str(r) for r in TABLE.routes]
    assert len(TABLE.routes) == 20


def test_option_is_read_even_when_options_were_parsed_before_the_extension_existed() -> None:
    """Options parsed before annotations_pb2 was imported still yield the http rules."""
    script = textwrap.dedent(
        """
        import sys
        from google.protobuf import descriptor_pb2, descriptor_pool
        data = open("gen/descriptors.binpb", "rb").read()
        pool = descriptor_pool.DescriptorPool()
        for file in descriptor_pb2.FileDescriptorSet.FromString(data).file:
            pool.Add(file)
        method = pool.FindMethodByName("shopmesh.orders.v1.OrdersService.WatchOrders")
        method.GetOptions()  # parsed and cached while the extension is unknown
        assert "google.api.annotations_pb2" not in sys.modules
        from gateway.routes import RouteTable
        from gateway.visibility import WHOLE_CONTRACT
        services = ["shopmesh.orders.v1.OrdersService"]
        table = RouteTable.from_pool(pool, services, surface=WHOLE_CONTRACT)
        print(" ".join(f"{route.template}={route.visibility.name}" for route in table.routes))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert "/v1/orders/{order_id}/events=ADMIN" in done.stdout.split()
    assert "/v1/orders=PUBLIC" in done.stdout.split()


# ---------------------------------------------------------------------------------------
# Crafted paths (R-B20)


@pytest.mark.parametrize(
    "path",
    [
        "/v1//products",
        "/v1/products/",
        "/v1/./products",
        "/v1/products/../orders/x",
        "/v1/products/%2e%2e/orders",
        "/v1/products/%2E%2e",
        "/v1/products/.%2E",
        "/v1/products/SKU%00",
        "/v1/products/SKU%252F1",
        "/v1/products/%252e%252e",
        "/v1/products/a\x00",
    ],
)
def test_crafted_paths_are_bad_paths(path: str) -> None:
    """Empty, dot, NUL and double-encoded segments are refused with a reason, never routed."""
    result = TABLE.match("GET", path)
    assert isinstance(result, BadPath)
    assert result.reason


def test_encoded_slash_stays_inside_its_segment() -> None:
    """'%2F' neither splits segments nor reaches the route of the split path."""
    result = TABLE.match("GET", "/v1/orders/x%2Fevents")
    assert _rpc(result) == "shopmesh.orders.v1.OrdersService.GetOrder"
    assert isinstance(result, Match)
    assert result.bindings == {"order_id": "x/events"}


def test_encoded_colon_is_no_custom_verb() -> None:
    """'%3Acancel' is part of the id, so POST finds no route while GET finds GetOrder."""
    assert TABLE.match("POST", "/v1/orders/ord_x%3Acancel") == NoRoute(allowed=("GET",))
    result = TABLE.match("GET", "/v1/orders/ord_x%3Acancel")
    assert isinstance(result, Match)
    assert result.bindings == {"order_id": "ord_x:cancel"}


def test_escaped_unreserved_characters_reach_the_plain_route() -> None:
    """'/v%31/product%73/x' is '/v1/products/x' and routes the same."""
    assert TABLE.match("GET", "/v%31/product%73/x") == TABLE.match("GET", "/v1/products/x")


_METHODS = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"])
_PIECES = st.sampled_from(
    [
        "v1", "v%31", "%761", "products", "product%73", "orders", "%6Frders", "events",
        "ord_x", "ord_x:cancel", "ord_x%3Acancel", "ord_x%3acancel", "products:batchGet",
        "products%3AbatchGet", "orders:watch", "a%2Fb", "a%2fb", "%41", ":cancel", "x:",
        "reservations", "k:release", "stock:restock", "%C3%A9", "a%20b",
    ]
)  # fmt: skip
_HOSTILE = st.sampled_from(["", ".", "..", "%2e", "%2E%2e", ".%2e", "%2e.", "%2E"])
_POISON = st.sampled_from(["%00", "%252F", "%252f", "%252e", "%25252E", "%0A", "\x00", "%7f"])


# R-B20
@given(_METHODS, st.lists(_PIECES, min_size=1, max_size=4))
def test_route_of_a_path_equals_the_route_of_its_normalised_form(
    method: str, pieces: list[str]
) -> None:
    """Escaping differences never change the route or bindings: no method confusion."""
    path = "/" + "/".join(pieces)
    result = TABLE.match(method, path)
    assert not isinstance(result, BadPath)
    assert TABLE.match(method, normalise_path(path)) == result
    if isinstance(result, Match):
        assert result.route.http_method == method


# R-B20
@given(
    _METHODS,
    st.lists(_PIECES, min_size=1, max_size=4),
    st.integers(0, 4),
    st.one_of(_HOSTILE, st.tuples(_PIECES, _POISON).map("".join)),
)
def test_paths_with_hostile_segments_never_match(
    method: str, pieces: list[str], where: int, hostile: str
) -> None:
    """A path with an empty or dot segment, an encoded NUL or double encoding is a BadPath."""
    pieces.insert(min(where, len(pieces)), hostile)
    assert isinstance(TABLE.match(method, "/" + "/".join(pieces)), BadPath)


# R-B20
@given(
    st.one_of(st.text(), st.text("/%:.2eEfF5aA0C3-~*{}?#\x00é").map(lambda s: "/" + s)),
    st.one_of(_METHODS, st.text(max_size=5)),
)
def test_match_of_arbitrary_text_never_raises(path: str, method: str) -> None:
    """Any method and path gives a Match, NoRoute or BadPath, never an exception."""
    assert isinstance(TABLE.match(method, path), Match | NoRoute | BadPath)


# ---------------------------------------------------------------------------------------
# Rules from a test service: checks at build time, precedence, custom methods

_TEST_FILE = """
name: "test/v1/test.proto"
package: "test.v1"
syntax: "proto3"
dependency: "google/api/annotations.proto"
message_type {
  name: "Inner"
  field { name: "leaf" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL json_name: "leaf" }
}
message_type {
  name: "Req"
  field { name: "name" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL json_name: "name" }
  field { name: "id" number: 2 type: TYPE_INT64 label: LABEL_OPTIONAL json_name: "id" }
  field {
    name: "inner" number: 3 type: TYPE_MESSAGE label: LABEL_OPTIONAL
    type_name: ".test.v1.Inner" json_name: "inner"
  }
  field { name: "tags" number: 4 type: TYPE_STRING label: LABEL_REPEATED json_name: "tags" }
  field {
    name: "labels" number: 5 type: TYPE_MESSAGE label: LABEL_REPEATED
    type_name: ".test.v1.Req.LabelsEntry" json_name: "labels"
  }
  nested_type {
    name: "LabelsEntry"
    field { name: "key" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL json_name: "key" }
    field { name: "value" number: 2 type: TYPE_STRING label: LABEL_OPTIONAL json_name: "value" }
    options { map_entry: true }
  }
}
message_type {
  name: "Resp"
  field { name: "out" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL json_name: "out" }
}
"""


def _test_pool(
    rules: list[tuple[str, str]],
    visibility: Mapping[str, str] | None = None,
    *,
    with_visibility_option: bool = True,
) -> descriptor_pool.DescriptorPool:
    """A fresh pool with test.v1.TestService, one method per (name, http rule text), with
    the visibility option's value (text) for the methods ``visibility`` names."""
    pool = descriptor_pool.DescriptorPool()
    modules = [descriptor_pb2, http_pb2, annotations_pb2]
    for module in [*modules, visibility_pb2] if with_visibility_option else modules:
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        pool.Add(proto)
    visibility = visibility or {}

    def options(name: str, rule: str) -> str:
        values = [f"[google.api.http] {{ {rule} }}"] if rule else []
        if name in visibility:
            values.append(f"[shopmesh.api.v1.visibility]: {visibility[name]}")
        return f" options {{ {' '.join(values)} }}" if values else ""

    methods = "".join(
        f'method {{ name: "{name}" input_type: ".test.v1.Req" output_type: ".test.v1.Resp"'
        + options(name, rule)
        + " }"
        for name, rule in rules
    )
    text = _TEST_FILE + f'service {{ name: "TestService" {methods} }}'
    pool.Add(text_format.Parse(text, descriptor_pb2.FileDescriptorProto()))
    return pool


def _test_table(*rules: tuple[str, str]) -> RouteTable:
    """The test service's routes, every one routed: its methods declare no visibility, and
    these tests are about the rules."""
    pool = _test_pool(list(rules))
    return RouteTable.from_pool(pool, ["test.v1.TestService"], surface=WHOLE_CONTRACT)


def test_literal_route_beats_variable_route_in_any_declaration_order() -> None:
    """'/v1/shelves/{name}' wins over '/v1/{name}/{id}' whichever is declared first."""
    specific = ("Specific", 'get: "/v1/shelves/{name}"')
    general = ("General", 'get: "/v1/{name}/{id}"')
    for rules in ([specific, general], [general, specific]):
        table = _test_table(*rules)
        assert _rpc(table.match("GET", "/v1/shelves/s1")) == "test.v1.TestService.Specific"
        assert _rpc(table.match("GET", "/v1/books/1")) == "test.v1.TestService.General"


def test_verb_route_beats_the_same_route_without_verb() -> None:
    """'/v1/{name}:run' takes 'x:run', which '/v1/{name}' would also match."""
    table = _test_table(("Plain", 'post: "/v1/{name}"'), ("Run", 'post: "/v1/{name}:run"'))
    assert _rpc(table.match("POST", "/v1/x:run")) == "test.v1.TestService.Run"
    assert _rpc(table.match("POST", "/v1/x:walk")) == "test.v1.TestService.Plain"


def test_literal_with_verb_beats_a_variable_segment() -> None:
    """'/v1/products:batchGet' beats '/v1/{name}' for the path it names."""
    table = _test_table(("Get", 'get: "/v1/{name}"'), ("Batch", 'get: "/v1/products:batchGet"'))
    assert _rpc(table.match("GET", "/v1/products:batchGet")) == "test.v1.TestService.Batch"
    assert _rpc(table.match("GET", "/v1/other:batchGet")) == "test.v1.TestService.Get"


def test_double_star_route_takes_what_nothing_more_specific_takes() -> None:
    """'/v1/{name=**}' is the fallback under '/v1', losing to every other shape."""
    table = _test_table(("Any", 'get: "/v1/{name=**}"'), ("One", 'get: "/v1/{name}"'))
    assert _rpc(table.match("GET", "/v1/a")) == "test.v1.TestService.One"
    result = table.match("GET", "/v1/a/b%2Fc")
    assert _rpc(result) == "test.v1.TestService.Any"
    assert isinstance(result, Match)
    assert result.bindings == {"name": "a/b%2Fc"}


def test_nested_field_path_binds_a_scalar_inside_a_message() -> None:
    """A variable may bind a field of a singular message field, by dotted path."""
    table = _test_table(("Get", 'get: "/v1/{inner.leaf}/{id}"'))
    result = table.match("GET", "/v1/l1/7")
    assert isinstance(result, Match)
    assert result.bindings == {"inner.leaf": "l1", "id": "7"}


def test_custom_kind_is_the_http_method_and_star_takes_any() -> None:
    """custom {kind: "HEAD"} routes HEAD; kind "*" routes any method the others do not."""
    table = _test_table(
        ("Head", 'custom { kind: "HEAD" path: "/v1/{name}" }'),
        ("Anything", 'custom { kind: "*" path: "/v1/{name}" }'),
        ("Get", 'get: "/v1/{name}"'),
    )
    assert [r.http_method for r in table.routes] == ["HEAD", "*", "GET"]
    assert _rpc(table.match("HEAD", "/v1/x")) == "test.v1.TestService.Head"
    assert _rpc(table.match("GET", "/v1/x")) == "test.v1.TestService.Get"
    assert _rpc(table.match("OPTIONS", "/v1/x")) == "test.v1.TestService.Anything"


def test_additional_bindings_each_become_a_route() -> None:
    """The rule and each additional binding are routes of the same RPC, rule first."""
    table = _test_table(
        (
            "Get",
            'get: "/v1/{name}" additional_bindings { post: "/v1/{name}:get" body: "*" }'
            ' additional_bindings { get: "/v2/{id}" response_body: "out" }',
        )
    )
    assert [(r.http_method, str(r.template), r.body, r.response_body) for r in table.routes] == [
        ("GET", "/v1/{name}", "", ""),
        ("POST", "/v1/{name}:get", "*", ""),
        ("GET", "/v2/{id}", "", "out"),
    ]


def test_method_without_http_rule_has_no_route() -> None:
    """RPCs without google.api.http stay gRPC-only."""
    table = _test_table(("Hidden", ""), ("Shown", 'get: "/v1/{name}"'))
    assert [r.method.name for r in table.routes] == ["Shown"]


def test_get_with_a_body_is_accepted_without_warning() -> None:
    """The spec allows a body on GET and DELETE; the table takes it silently."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = _test_table(("Get", 'get: "/v1/{name}" body: "inner"'))
    assert table.routes[0].body == "inner"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('get: "/v1/{missing}"', "has no field 'missing'"),
        ('get: "/v1/{inner}"', "is a message, not a scalar"),
        ('get: "/v1/{tags}"', "test.v1.Req.tags is repeated"),
        ('get: "/v1/{labels}"', "test.v1.Req.labels is repeated"),
        ('get: "/v1/{name.x}"', "test.v1.Req.name is not a message"),
        ('get: "/v1/{inner.nope}"', "test.v1.Inner has no field 'nope'"),
        ('post: "/v1/x" body: "nope"', "body 'nope' is not a field of test.v1.Req"),
        ('post: "/v1/x" body: "inner.leaf"', "body 'inner.leaf' is not a field"),
        ('get: "/v1/x" response_body: "nope"', "response_body 'nope' is not a field of"),
        ('get: "/v1/{name"', "unclosed '{'"),
        ('custom { kind: "" path: "/v1/x" }', "is no HTTP method"),
        ('custom { kind: "GET /x" path: "/v1/x" }', "is no HTTP method"),
        ('body: "*"', "without a pattern"),
        (
            'get: "/v1/x" additional_bindings { get: "/v2/x" additional_bindings { get: "/v3" } }',
            "additional_bindings may not nest",
        ),
    ],
)
def test_invalid_rules_are_refused_when_the_table_is_built(rule: str, message: str) -> None:
    """Each bad rule raises RouteError naming the RPC and what is wrong."""
    with pytest.raises(RouteError, match=re.escape("TestService.Bad")) as raised:
        _test_table(("Bad", rule))
    assert message in str(raised.value)


def test_routes_matching_the_same_paths_conflict_naming_both_rpcs() -> None:
    """Same method, same template shape (names aside) is a conflict naming both RPCs."""
    with pytest.raises(RouteConflictError) as raised:
        _test_table(("First", 'get: "/v1/{name}"'), ("Second", 'get: "/v1/{id}"'))
    assert "test.v1.TestService.First" in str(raised.value)
    assert "test.v1.TestService.Second" in str(raised.value)


def test_same_template_under_different_methods_is_no_conflict() -> None:
    """GET and DELETE may share a template; each request finds its own RPC."""
    table = _test_table(("Get", 'get: "/v1/{name}"'), ("Delete", 'delete: "/v1/{name}"'))
    assert _rpc(table.match("DELETE", "/v1/x")) == "test.v1.TestService.Delete"


def test_unknown_service_is_refused() -> None:
    """Naming a service the pool lacks raises RouteError naming it."""
    with pytest.raises(RouteError, match=re.escape("'no.such.Service'")):
        RouteTable.from_pool(_test_pool([]), ["no.such.Service"])


# ---------------------------------------------------------------------------------------
# The edge's surface: which routes the table keeps, by the RPCs' visibility

PUBLIC_RPCS = {
    "CatalogService.GetProduct",
    "CatalogService.ListProducts",
    "CatalogService.BatchGetProducts",
    "PricingService.Quote",
    "PricingService.QuoteStream",
    "InventoryService.GetStock",
    "OrdersService.PlaceOrder",
    "OrdersService.GetOrder",
}
ADMIN_RPCS = {
    "OrdersService.CancelOrder",
    "OrdersService.WatchOrders",
    "InventoryService.Restock",
    "InventoryService.GetReservation",
    "PaymentsService.Refund",
    "PaymentsService.GetCharge",
}


def _rpcs(table: RouteTable) -> set[str]:
    return {f"{route.service.rsplit('.', 1)[-1]}.{route.method.name}" for route in table.routes}


def test_default_table_routes_the_public_rpcs_only() -> None:
    """Built without a surface, the real table holds exactly the public RPCs' routes."""
    table = RouteTable.from_descriptor_set()
    assert _rpcs(table) == PUBLIC_RPCS
    assert {route.visibility for route in table.routes} == {Visibility.PUBLIC}


def test_admin_surface_adds_the_admin_rpcs_and_no_internal_one() -> None:
    """With admin routes, both bindings of WatchOrders and every other admin RPC join."""
    table = RouteTable.from_descriptor_set(surface=ADMIN_SURFACE)
    assert _rpcs(table) == PUBLIC_RPCS | ADMIN_RPCS
    watch = [str(r.template) for r in table.routes if r.method.name == "WatchOrders"]
    assert watch == ["/v1/orders:watch", "/v1/orders/{order_id}/events"]


@pytest.mark.parametrize(
    ("method", "path", "made_up"),
    [
        ("POST", "/v1/charges", "/v1/payouts"),
        ("POST", "/v1/reservations/k1:release", "/v1/reservations/k1:frobnicate"),
        ("POST", "/v1/reservations:batchReserve", "/v1/reservations:frobnicate"),
        ("POST", "/v1/stock:restock", "/v1/stock:frobnicate"),
        ("POST", "/v1/orders/ord_x:cancel", "/v1/orders/ord_x:frobnicate"),
        ("GET", "/v1/charges/ch_1", "/v1/payouts/ch_1"),
    ],
)
def test_unrouted_rpcs_answer_as_made_up_paths(method: str, path: str, made_up: str) -> None:
    """An RPC outside the surface matches like a path nobody annotated (no route, or the
    methods another RPC has for it), so the edge's answer reveals nothing."""
    table = RouteTable.from_descriptor_set()
    assert not isinstance(table.match(method, path), Match)
    assert table.match(method, path) == table.match(method, made_up)


SURFACE_RULES = [
    ("Public", 'get: "/v1/public"'),
    ("Admin", 'get: "/v1/admin"'),
    ("Internal", 'get: "/v1/internal"'),
    ("Unspecified", 'get: "/v1/unspecified"'),
    ("Unset", 'get: "/v1/unset"'),
    ("Unknown", 'get: "/v1/unknown"'),
]
SURFACE_VISIBILITY = {
    "Public": "VISIBILITY_PUBLIC",
    "Admin": "VISIBILITY_ADMIN",
    "Internal": "VISIBILITY_INTERNAL",
    "Unspecified": "VISIBILITY_UNSPECIFIED",
    "Unknown": "7",  # a value a newer contract may define: closed until this gateway knows it
}


def test_table_keeps_the_routes_of_its_surface_and_closes_everything_else() -> None:
    """By default only PUBLIC is routed; the admin surface adds ADMIN; an RPC that is
    INTERNAL, UNSPECIFIED, unset or of an unknown value is INTERNAL and never routed."""
    pool = _test_pool(SURFACE_RULES, SURFACE_VISIBILITY)
    services = ["test.v1.TestService"]
    default = RouteTable.from_pool(pool, services)
    assert [r.method.name for r in default.routes] == ["Public"]
    admin = RouteTable.from_pool(pool, services, surface=ADMIN_SURFACE)
    assert [r.method.name for r in admin.routes] == ["Public", "Admin"]
    assert admin.match("GET", "/v1/internal") == NoRoute()
    every = RouteTable.from_pool(pool, services, surface=WHOLE_CONTRACT)
    assert [r.visibility for r in every.routes] == [
        Visibility.PUBLIC,
        Visibility.ADMIN,
        *[Visibility.INTERNAL] * 4,
    ]


def test_a_pool_without_the_visibility_option_routes_nothing() -> None:
    """Descriptors that lack visibility.proto leave every RPC INTERNAL: default closed."""
    pool = _test_pool(SURFACE_RULES, SURFACE_VISIBILITY, with_visibility_option=False)
    assert RouteTable.from_pool(pool, ["test.v1.TestService"]).routes == ()
    every = RouteTable.from_pool(pool, ["test.v1.TestService"], surface=WHOLE_CONTRACT)
    assert {r.visibility for r in every.routes} == {Visibility.INTERNAL}


def test_bad_rule_of_an_unrouted_rpc_still_stops_the_build() -> None:
    """Rules are checked whether routed or not: turning admin routes on cannot reveal one."""
    pool = _test_pool([("Bad", 'get: "/v1/{missing}"')], {"Bad": "VISIBILITY_ADMIN"})
    with pytest.raises(RouteError, match=re.escape("TestService.Bad")):
        RouteTable.from_pool(pool, ["test.v1.TestService"])


def test_unrouted_route_conflicting_with_a_routed_one_is_refused() -> None:
    """A conflict is a contract error even when one side of it is internal."""
    rules = [("Shown", 'get: "/v1/{name}"'), ("Hidden", 'get: "/v1/{id}"')]
    pool = _test_pool(rules, {"Shown": "VISIBILITY_PUBLIC", "Hidden": "VISIBILITY_INTERNAL"})
    with pytest.raises(RouteConflictError, match=re.escape("test.v1.TestService.Hidden")):
        RouteTable.from_pool(pool, ["test.v1.TestService"])
