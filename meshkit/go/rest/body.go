package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/shopmesh/shopmesh/meshkit/go/domainerr"
)

// BadField is an InvalidArgument naming one field.
func BadField(field, description string) *domainerr.Error {
	return domainerr.Invalid("INVALID_ARGUMENT", domainerr.FieldViolation{Field: field, Description: description})
}

func malformed(message string) *domainerr.Error {
	return &domainerr.Error{Kind: domainerr.InvalidArgument, Message: message, Reason: "MALFORMED_JSON"}
}

// parseJSON is one JSON document (numbers kept as written); malformed input is
// INVALID_ARGUMENT MALFORMED_JSON, as orjson's refusals are on the Python side (invalid
// UTF-8 included).
func parseJSON(body []byte) (any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, malformed("request body is empty; a JSON document is required")
	}
	if !utf8.Valid(body) {
		return nil, malformed("malformed JSON: str is not valid UTF-8")
	}
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.UseNumber()
	var value any
	if err := decoder.Decode(&value); err != nil {
		return nil, malformed("malformed JSON: " + err.Error())
	}
	if _, err := decoder.Token(); err != io.EOF {
		return nil, malformed("malformed JSON: trailing data after the document")
	}
	return value, nil
}

// Object reads one JSON object strictly (meshkit/runtime/rest/body.py JsonObject): fields
// by name and type, and Done refuses every field nobody asked for, so a typo is a 400
// naming the field. The first problem met, in reading order, is kept in the root
// object's error.
type Object struct {
	values map[string]any
	path   string
	seen   map[string]bool
	err    *error
}

// ParseObject is the body's object.
func ParseObject(body []byte) *Object {
	var err error
	value, parseErr := parseJSON(body)
	if parseErr != nil {
		err = parseErr
		return &Object{values: map[string]any{}, seen: map[string]bool{}, err: &err}
	}
	return newObject(value, "", &err)
}

// EmptyObject is the object of an absent body.
func EmptyObject() *Object {
	var err error
	return &Object{values: map[string]any{}, seen: map[string]bool{}, err: &err}
}

func newObject(value any, path string, err *error) *Object {
	values, ok := value.(map[string]any)
	if !ok {
		name := path
		if name == "" {
			name = "body"
		}
		fail(err, BadField(name, "must be a JSON object"))
		values = map[string]any{}
	}
	return &Object{values: values, path: path, seen: map[string]bool{}, err: err}
}

func fail(err *error, problem error) {
	if *err == nil {
		*err = problem
	}
}

func (o *Object) name(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

func (o *Object) get(key string) any {
	o.seen[key] = true
	return o.values[key] // JSON null and absent alike: the default
}

// String is a string field ("" when absent or null).
func (o *Object) String(key string) string {
	value := o.get(key)
	if value == nil {
		return ""
	}
	text, ok := value.(string)
	if !ok {
		fail(o.err, BadField(o.name(key), "must be a string"))
	}
	return text
}

// Integer is an integer field (0 when absent or null); 1.0 or "1" is refused.
func (o *Object) Integer(key string) int64 {
	value := o.get(key)
	if value == nil {
		return 0
	}
	number, ok := value.(json.Number)
	if ok && !strings.ContainsAny(number.String(), ".eE") {
		if integer, err := number.Int64(); err == nil {
			return integer
		}
	}
	fail(o.err, BadField(o.name(key), "must be an integer"))
	return 0
}

// Each applies read to every object of the array field key, checking each for fields
// read did not ask for.
func (o *Object) Each(key string, read func(*Object)) int {
	value := o.get(key)
	if value == nil {
		return 0
	}
	items, ok := value.([]any)
	if !ok {
		fail(o.err, BadField(o.name(key), "must be an array of objects"))
		return 0
	}
	for i, item := range items {
		object := newObject(item, fmt.Sprintf("%s[%d]", o.name(key), i), o.err)
		read(object)
		object.Done()
	}
	return len(items)
}

// Done refuses the fields nobody asked for and returns the first problem met.
func (o *Object) Done() error {
	var unknown []string
	for key := range o.values {
		if !o.seen[key] {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		violations := make([]domainerr.FieldViolation, len(unknown))
		for i, key := range unknown {
			violations[i] = domainerr.FieldViolation{Field: o.name(key), Description: "unknown field"}
		}
		fail(o.err, domainerr.Invalid("UNKNOWN_FIELD", violations...))
	}
	return *o.err
}
