package rest

import (
	"context"
	"errors"
	"sort"
	"strings"
	"unicode/utf8"
)

// Request is what a handler is given: path variables, headers and the body.
type Request struct {
	Context context.Context
	Params  map[string]string
	Body    []byte
}

// JSON is the body's object, read strictly.
func (r *Request) JSON() *Object { return ParseObject(r.Body) }

// OptionalJSON is the body's object, or an empty one when there is no body at all.
func (r *Request) OptionalJSON() *Object {
	if len(strings.TrimSpace(string(r.Body))) == 0 {
		return EmptyObject()
	}
	return ParseObject(r.Body)
}

// Route is one operation: Handler answers "Method Template" with a JSON document.
type Route struct {
	Method   string
	Template string
	Handler  func(*Request) (any, error)
}

// Name is how counters and logs name the operation, e.g. "GET /v1/stock/{sku}".
func (r Route) Name() string { return r.Method + " " + r.Template }

type compiled struct {
	route     Route
	segments  []string // "" at a variable
	variables []string
}

// router matches templates segment by segment on the raw path (meshkit/runtime/rest/
// router.py): an encoded "/" stays inside its variable, literal segments win over
// variables.
type router struct {
	byLength map[int][]compiled
}

func newRouter(routes []Route) *router {
	var all []compiled
	for _, route := range routes {
		entry := compiled{route: route}
		for _, part := range strings.Split(route.Template[1:], "/") {
			if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
				entry.segments = append(entry.segments, "")
				entry.variables = append(entry.variables, part[1:len(part)-1])
			} else {
				entry.segments = append(entry.segments, part)
			}
		}
		all = append(all, entry)
	}
	sort.SliceStable(all, func(i, j int) bool { return len(all[i].variables) < len(all[j].variables) })
	r := &router{byLength: map[int][]compiled{}}
	for _, entry := range all {
		r.byLength[len(entry.segments)] = append(r.byLength[len(entry.segments)], entry)
	}
	return r
}

var errBadPath = errors.New("path is not UTF-8")

// match is the route and its variables, or the methods the path allows (none: no such
// path); errBadPath when a segment does not decode to UTF-8.
func (r *router) match(method, rawPath string) (*Route, map[string]string, []string, error) {
	parts := strings.Split(rawPath, "/")
	if parts[0] != "" {
		return nil, nil, nil, nil
	}
	segments := make([]string, len(parts)-1)
	for i, part := range parts[1:] {
		segments[i] = unquote(part)
		if !utf8.ValidString(segments[i]) {
			return nil, nil, nil, errBadPath
		}
	}
	var allowed []string
	for _, entry := range r.byLength[len(segments)] {
		values, ok := bind(entry, segments)
		if !ok {
			continue
		}
		if entry.route.Method == method {
			return &entry.route, values, nil, nil
		}
		allowed = append(allowed, entry.route.Method)
	}
	return nil, nil, allowed, nil
}

func bind(entry compiled, segments []string) (map[string]string, bool) {
	values := map[string]string{}
	next := 0
	for i, expected := range entry.segments {
		actual := segments[i]
		if expected == "" {
			if actual == "" {
				return nil, false
			}
			values[entry.variables[next]] = actual
			next++
		} else if expected != actual {
			return nil, false
		}
	}
	return values, true
}

// unquote decodes %XX escapes and leaves malformed ones as they are (urllib's unquote).
func unquote(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
