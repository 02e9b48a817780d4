package mqtt

import (
	"unicode"
	"unicode/utf8"
)

// isText says whether p reads as text: valid UTF-8 without control
// characters other than tab and line ends.
func isText(p []byte) bool {
	if !utf8.Valid(p) {
		return false
	}
	for _, r := range string(p) {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

// clipText is the first n bytes of the text p, cut on a rune boundary.
func clipText(p []byte, n int) string {
	if len(p) <= n {
		return string(p)
	}
	for n > 0 && !utf8.RuneStart(p[n]) {
		n--
	}
	return string(p[:n])
}
