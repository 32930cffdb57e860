package env

import "testing"

// TestReaderParsesAndNamesBadValues: blank is the default; malformed values fail with Python's wording.
func TestReaderParsesAndNamesBadValues(t *testing.T) {
	read := NewReader(map[string]string{"SHOPMESH_A": " 2.5 ", "SHOPMESH_B": "  "})
	if read.Number("A", 1, 0) != 2.5 || read.Number("B", 7, 0) != 7 || read.Err != nil {
		t.Fatal(read.Err)
	}
	cases := map[string]func(*Reader){
		"SHOPMESH_X must be a number, got 'abc'":               func(r *Reader) { r.Number("X", 0, 0) },
		"SHOPMESH_X must be a finite number >= 0.0, got 'inf'": func(r *Reader) { r.Number("X", 0, 0) },
		"SHOPMESH_X must be an integer 1..5, got '9'":          func(r *Reader) { r.Integer("X", 0, 1, 5) },
		"SHOPMESH_X must be a TCP port (0-65535), got '70000'": func(r *Reader) { r.Port("X", 0) },
		"SHOPMESH_X must be a boolean, got 'sometimes'":        func(r *Reader) { r.Flag("X", false) },
		"SHOPMESH_X must be grpc or rest, got 'soap'":          func(r *Reader) { r.Choice("X", "grpc", "grpc", "rest") },
		"SHOPMESH_X must be an integer >= 0, got \"it's\"":     func(r *Reader) { r.Integer("X", 0, 0, -1) },
	}
	values := map[string]string{
		"SHOPMESH_X must be a number, got 'abc'":               "abc",
		"SHOPMESH_X must be a finite number >= 0.0, got 'inf'": "inf",
		"SHOPMESH_X must be an integer 1..5, got '9'":          "9",
		"SHOPMESH_X must be a TCP port (0-65535), got '70000'": "70000",
		"SHOPMESH_X must be a boolean, got 'sometimes'":        "sometimes",
		"SHOPMESH_X must be grpc or rest, got 'soap'":          "SOAP",
		"SHOPMESH_X must be an integer >= 0, got \"it's\"":     "it's",
	}
	for want, read := range cases {
		reader := NewReader(map[string]string{"SHOPMESH_X": values[want]})
		read(reader)
		if reader.Err == nil || reader.Err.Error() != want {
			t.Errorf("want %q, got %v", want, reader.Err)
		}
	}
}
