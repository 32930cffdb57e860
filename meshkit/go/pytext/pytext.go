// Package pytext formats text as Python does where messages must read the same from the
// Go and the Python implementations: repr() quoting and str.isprintable.
package pytext

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Repr quotes s as Python's repr() does, so error messages read the same from either
// implementation ("got 'sku 1'"): single quotes unless s holds a single quote and no
// double quote; backslash escapes for the quote, \\, \t, \n, \r and every character
// Python does not consider printable.
func Repr(s string) string {
	quote := '\''
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	var b strings.Builder
	b.WriteRune(quote)
	for _, r := range s {
		switch {
		case r == quote || r == '\\':
			b.WriteRune('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case Printable(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteRune(quote)
	return b.String()
}

// Printable is Python's str.isprintable for one character: letters, marks, numbers,
// punctuation, symbols and the ASCII space — which is exactly Go's unicode.IsPrint.
// (An invalid UTF-8 byte decodes to U+FFFD, a printable symbol.)
func Printable(r rune) bool { return unicode.IsPrint(r) }

// Float formats v as Python's repr(float) does for the values settings and logs use
// ("0.0", "0.001", "5.0", "1e-05").
func Float(v float64) string {
	text := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(text, ".eEn") {
		text += ".0"
	}
	return text
}
