package pytext

import "testing"

// TestRepr: strings are quoted and escaped as Python's repr() does.
func TestRepr(t *testing.T) {
	cases := map[string]string{
		"abc":       `'abc'`,
		"it's":      `"it's"`,
		`a'b"c`:     `'a\'b"c'`,
		"tab\there": `'tab\there'`,
		"nl\n":      `'nl\n'`,
		"\x00\x7f":  `'\x00\x7f'`,
		"\u00a0":    `'\xa0'`,
		"\u200b":    `'\u200b'`,
		"é☃":        `'é☃'`,
		`back\`:     `'back\\'`,
	}
	for in, want := range cases {
		if got := Repr(in); got != want {
			t.Errorf("Repr(%q) = %s, want %s", in, got, want)
		}
	}
}
