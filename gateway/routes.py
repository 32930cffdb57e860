"""The route table: one Route per google.api.http binding, and request matching.

Routes are read from descriptors, never written by hand: an annotated RPC is routed
after regenerating the descriptors when its visibility (``gateway.visibility``) is in the
table's surface, which is public RPCs only unless the caller asks for more. Every rule of
every RPC is checked when the table is built (field paths, body, conflicts), routed or
not, so a bad annotation stops the gateway at start-up instead of failing requests, and
turning admin routes on cannot reveal one.

Matching normalises the raw path once (``templates.split_path``), refusing crafted paths
outright, then tries the candidate routes for the method in precedence order: the first
match is the most specific one.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor, descriptor_pb2, descriptor_pool

from gateway.descriptors import DEFAULT_DESCRIPTORS, load_pool
from gateway.templates import PathError, PathTemplate, SpecificityKey, TemplateError, split_path
from gateway.visibility import PUBLIC_SURFACE, Visibility, visibilities

if TYPE_CHECKING:
    from google.protobuf.internal.extension_dict import _ExtensionFieldDescriptor

ANY_METHOD = "*"
"""The ``custom`` kind that leaves the HTTP method unspecified: the route takes any."""

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 method token
# The generated stub types the extension as a plain FieldDescriptor; say what it extends.
_HTTP_OPTION = cast(
    "_ExtensionFieldDescriptor[descriptor_pb2.MethodOptions, http_pb2.HttpRule]",
    annotations_pb2.http,
)


class RouteError(ValueError):
    """A google.api.http rule the gateway cannot serve; names the RPC."""


class RouteConflictError(RouteError):
    """Two routes with one HTTP method that match exactly the same paths."""


@dataclass(frozen=True)
class Route:
    """One HTTP binding of an RPC."""

    http_method: str
    template: PathTemplate
    body: str
    response_body: str
    method: descriptor.MethodDescriptor
    service: str
    visibility: Visibility

    @property
    def grpc_path(self) -> str:
        """The gRPC method path, ``/package.Service/Method``."""
        return f"/{self.service}/{self.method.name}"

    def __str__(self) -> str:
        return f"{self.http_method} {self.template} ({self.method.full_name})"


@dataclass(frozen=True)
class Match:
    """The route for a request and its path variables (field path → decoded value)."""

    route: Route
    bindings: dict[str, str]


@dataclass(frozen=True)
class NoRoute:
    """No route for the request: ``allowed`` lists the methods the path has, if any."""

    allowed: tuple[str, ...] = ()

    @property
    def not_found(self) -> bool:
        """No route of any method matches the path (404)."""
        return not self.allowed

    @property
    def method_not_allowed(self) -> bool:
        """Routes of other methods match the path (405 with ``Allow``)."""
        return bool(self.allowed)


@dataclass(frozen=True)
class BadPath:
    """A path refused before matching (a 400), with the reason."""

    reason: str


MatchResult = Match | NoRoute | BadPath


def http_rules(method: descriptor.MethodDescriptor) -> list[http_pb2.HttpRule]:
    """The method's google.api.http rule followed by its additional bindings."""
    # A descriptor's options are parsed once and cached: if that happened before
    # annotations_pb2 was imported, the extension sits in unknown fields. Parsing the
    # bytes again, now that the import above has registered it, always finds it.
    options = descriptor_pb2.MethodOptions.FromString(method.GetOptions().SerializeToString())
    if not options.HasExtension(_HTTP_OPTION):
        return []
    rule = options.Extensions[_HTTP_OPTION]
    for extra in rule.additional_bindings:
        if extra.additional_bindings:
            raise RouteError(f"{method.full_name}: additional_bindings may not nest")
    return [rule, *rule.additional_bindings]


def _route(
    rule: http_pb2.HttpRule, method: descriptor.MethodDescriptor, visibility: Visibility
) -> Route:
    pattern = rule.WhichOneof("pattern")
    if pattern is None:
        raise RouteError(f"{method.full_name}: google.api.http rule without a pattern")
    if pattern == "custom":
        http_method, text = rule.custom.kind, rule.custom.path
        if not _TOKEN.fullmatch(http_method):
            raise RouteError(f"{method.full_name}: custom kind {http_method!r} is no HTTP method")
    else:
        http_method, text = pattern.upper(), getattr(rule, pattern)
    try:
        template = PathTemplate.parse(text)
    except TemplateError as exc:
        raise RouteError(f"{method.full_name}: {exc}") from None
    service = method.containing_service.full_name
    return Route(http_method, template, rule.body, rule.response_body, method, service, visibility)


def _check_variable(route: Route, field_path: str) -> None:
    """A path variable must name a singular scalar field, through singular messages."""
    message = route.method.input_type
    names = field_path.split(".")
    for depth, name in enumerate(names):
        field = message.fields_by_name.get(name)
        where = f"{route}: path variable {field_path!r}"
        if field is None:
            raise RouteError(f"{where}: {message.full_name} has no field {name!r}")
        if field.is_repeated:
            raise RouteError(f"{where}: {field.full_name} is repeated")
        if depth < len(names) - 1:
            if field.message_type is None:
                raise RouteError(f"{where}: {field.full_name} is not a message")
            message = field.message_type
        elif field.message_type is not None:
            raise RouteError(f"{where}: {field.full_name} is a message, not a scalar")


def _check(route: Route) -> None:
    for field_path in route.template.variables:
        _check_variable(route, field_path)
    inputs, outputs = route.method.input_type, route.method.output_type
    if route.body not in ("", "*") and route.body not in inputs.fields_by_name:
        raise RouteError(f"{route}: body {route.body!r} is not a field of {inputs.full_name}")
    if route.response_body and route.response_body not in outputs.fields_by_name:
        raise RouteError(
            f"{route}: response_body {route.response_body!r} is not a field of {outputs.full_name}"
        )


def _check_conflicts(routes: Iterable[Route]) -> None:
    seen: dict[tuple[str, tuple[tuple[str, ...], str]], Route] = {}
    for route in routes:
        key = (route.http_method, route.template.shape)
        other = seen.setdefault(key, route)
        if other is not route:
            raise RouteConflictError(f"{other} and {route} match exactly the same paths")


def _bucket_key(template: PathTemplate) -> str | None:
    """The first segment every path the template matches starts with, if there is one."""
    first = template.segments[0]
    if first in ("*", "**"):
        return None
    # With a verb, a path of one segment carries it in that segment ("/v1:verb").
    fixed = len(template.segments) - (template.segments[-1] == "**")
    if template.verb and fixed <= 1:
        return None
    return first


@dataclass(frozen=True)
class _Candidates:
    """One method's routes in precedence order, pre-filtered by the first path segment."""

    by_first: dict[str, tuple[Route, ...]]
    fallback: tuple[Route, ...]

    @classmethod
    def build(cls, routes: Iterable[Route]) -> _Candidates:
        def precedence(route: Route) -> tuple[SpecificityKey, bool]:
            # Equal templates: the route of the exact method beats a custom "*" route.
            return route.template.specificity, route.http_method == ANY_METHOD

        ordered = sorted(routes, key=precedence)
        keys = [_bucket_key(r.template) for r in ordered]
        by_first = {
            key: tuple(r for r, k in zip(ordered, keys, strict=True) if k in (key, None))
            for key in keys
            if key is not None
        }
        fallback = tuple(r for r, k in zip(ordered, keys, strict=True) if k is None)
        return cls(by_first, fallback)

    def find(self, segments: Sequence[str]) -> Match | None:
        routes = self.by_first.get(segments[0], self.fallback) if segments else self.fallback
        for route in routes:
            bindings = route.template.match_normalised(segments)
            if bindings is not None:
                return Match(route, bindings)
        return None


class RouteTable:
    """The HTTP routes of a set of services that are in the table's surface, and the
    matcher over them."""

    def __init__(
        self,
        routes: Iterable[Route],
        pool: descriptor_pool.DescriptorPool | None = None,
        *,
        surface: Collection[Visibility] = PUBLIC_SURFACE,
    ) -> None:
        """Checks every route given and their conflicts, routed or not (``RouteError``
        naming the RPC), then keeps those whose visibility is in ``surface``."""
        every = tuple(routes)
        for route in every:
            _check(route)
        _check_conflicts(every)
        self.surface = frozenset(surface)
        self.routes: tuple[Route, ...] = tuple(r for r in every if r.visibility in self.surface)
        self.pool = pool
        self._methods = sorted({r.http_method for r in self.routes} - {ANY_METHOD})
        self._by_method = {
            m: _Candidates.build(r for r in self.routes if r.http_method in (m, ANY_METHOD))
            for m in self._methods
        }
        self._any = _Candidates.build(r for r in self.routes if r.http_method == ANY_METHOD)

    @classmethod
    def from_pool(
        cls,
        pool: descriptor_pool.DescriptorPool,
        services: Iterable[str],
        *,
        surface: Collection[Visibility] = PUBLIC_SURFACE,
    ) -> RouteTable:
        """The routes in ``surface`` of the named services (a pool cannot list its
        services itself), each with its RPC's visibility.

        Order is deterministic: services by name, methods as declared, each method's
        rule before its additional bindings.
        """
        visibility_of = visibilities(pool)
        routes: list[Route] = []
        for name in sorted(set(services)):
            try:
                service = pool.FindServiceByName(name)
            except KeyError:
                raise RouteError(f"service {name!r} is not in the descriptor pool") from None
            for method in service.methods:
                visibility = visibility_of(method)
                routes.extend(_route(rule, method, visibility) for rule in http_rules(method))
        return cls(routes, pool, surface=surface)

    @classmethod
    def from_descriptor_set(
        cls, path: Path = DEFAULT_DESCRIPTORS, *, surface: Collection[Visibility] = PUBLIC_SURFACE
    ) -> RouteTable:
        """The routes in ``surface`` of every service in a serialized FileDescriptorSet,
        in a fresh pool. The pool is the table's ``pool`` attribute.
        """
        pool = load_pool(path)
        files = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes()).file
        services = (
            service.full_name
            for file in files
            for service in pool.FindFileByName(file.name).services_by_name.values()
        )
        return cls.from_pool(pool, services, surface=surface)

    def match(self, http_method: str, raw_path: str) -> MatchResult:
        """The route for a request, given the raw path (percent-encoded, no query).

        ``http_method`` is compared exactly (methods are case-sensitive). Never raises.
        """
        try:
            segments = split_path(raw_path)
        except PathError as exc:
            return BadPath(exc.reason)
        found = self._by_method.get(http_method, self._any).find(segments)
        if found is not None:
            return found
        allowed = tuple(m for m in self._methods if self._by_method[m].find(segments))
        return NoRoute(allowed)


def request_path(scope: Mapping[str, Any]) -> str:
    """The path of an ASGI request as routes match it: as the client sent it (still
    percent-encoded, without the query). Whatever decides by route reads it from here."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    return raw_path.decode("latin-1")
