package rest

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopmesh/shopmesh/meshkit/go/domainerr"
)

func problemOf(t *testing.T, err error) *domainerr.Error {
	t.Helper()
	var de *domainerr.Error
	if !errors.As(err, &de) {
		t.Fatalf("want a domain error, got %v", err)
	}
	return de
}

// TestObjectRefusesUnknownFieldsSortedAndNamed: every field nobody read is one violation, sorted, with its path.
func TestObjectRefusesUnknownFieldsSortedAndNamed(t *testing.T) {
	body := ParseObject([]byte(`{"zz": 1, "items": [{"sku": "a", "extra": 2}], "aa": 3}`))
	body.Each("items", func(item *Object) { item.String("sku") })
	de := problemOf(t, body.Done())
	if de.Reason != "UNKNOWN_FIELD" || de.Message != "items[0].extra: unknown field" {
		t.Fatalf("the first problem in reading order wins: %+v", de)
	}
	body = ParseObject([]byte(`{"zz": 1, "aa": 3}`))
	de = problemOf(t, body.Done())
	if de.Message != "aa: unknown field; zz: unknown field" {
		t.Fatalf("%q", de.Message)
	}
}

// TestObjectChecksTypes: integers are JSON integers only; strings are strings; null is the default.
func TestObjectChecksTypes(t *testing.T) {
	for body, want := range map[string]string{
		`{"q": 1.0}`:   "q: must be an integer",
		`{"q": "1"}`:   "q: must be an integer",
		`{"q": true}`:  "q: must be an integer",
		`{"q": 1e2}`:   "q: must be an integer",
		`{"s": 1}`:     "s: must be a string",
		`{"l": {}}`:    "l: must be an array of objects",
		`{"l": [1]}`:   "l[0]: must be a JSON object",
		`[]`:           "body: must be a JSON object",
		`{"q": null}`:  "",
		`{"q": -12}`:   "",
		`{"s": "é\n"}`: "",
	} {
		object := ParseObject([]byte(body))
		object.Integer("q")
		object.String("s")
		object.Each("l", func(*Object) {})
		err := object.Done()
		if want == "" && err != nil || want != "" && (err == nil || err.Error() != want) {
			t.Errorf("%s: %v", body, err)
		}
	}
}

// TestMalformedBodiesAreMalformedJSON: empty, truncated, trailing data and invalid UTF-8 are MALFORMED_JSON.
func TestMalformedBodiesAreMalformedJSON(t *testing.T) {
	for _, body := range []string{"", "  ", `{"a":`, `{} {}`, "{\"a\": \"\xff\"}", `{"a": NaN}`} {
		if de := problemOf(t, ParseObject([]byte(body)).Done()); de.Reason != "MALFORMED_JSON" {
			t.Errorf("%q: %+v", body, de)
		}
	}
}

// TestRouterPrefersLiteralsAndKeepsEncodedSlashes: literal segments win; %2F stays inside its variable; methods of a known path are listed.
func TestRouterPrefersLiteralsAndKeepsEncodedSlashes(t *testing.T) {
	noop := func(*Request) (any, error) { return nil, nil }
	r := newRouter([]Route{
		{"POST", "/v1/reservations/{key}/release", noop},
		{"POST", "/v1/reservations/batch", noop},
		{"POST", "/v1/reservations", noop},
		{"GET", "/v1/stock/{sku}", noop},
	})
	route, params, _, _ := r.match("POST", "/v1/reservations/batch")
	if route == nil || route.Template != "/v1/reservations/batch" || len(params) != 0 {
		t.Fatalf("%+v", route)
	}
	route, params, _, _ = r.match("GET", "/v1/stock/a%2Fb")
	if route == nil || params["sku"] != "a/b" {
		t.Fatalf("%+v %v", route, params)
	}
	if route, _, allowed, _ := r.match("GET", "/v1/reservations"); route != nil || strings.Join(allowed, ",") != "POST" {
		t.Fatalf("%v", allowed)
	}
	if route, _, allowed, _ := r.match("GET", "/v1/stock/"); route != nil || allowed != nil {
		t.Fatal("an empty variable matched")
	}
	if _, _, _, err := r.match("GET", "/v1/stock/%ff"); err == nil {
		t.Fatal("a non-UTF-8 segment was accepted")
	}
	if unquote("100%zz%4") != "100%zz%4" {
		t.Fatal("malformed escapes must stay as they are")
	}
}
