package shell

import "testing"

// TestEscapes: each dialect as the real tool decodes the same text (bash
// 5.2's echo -e and printf, checked by hand).
func TestEscapes(t *testing.T) {
	const in = `a\"b\'c\x41\0101\101\e\q|`
	tests := []struct {
		name string
		e    escapes
		in   string
		want string
		stop bool
	}{
		{"echo -e", escEcho, in, "a\\\"b\\'cAA\\101\x1b\\q|", false},
		{"printf %b", escArg, in, "a\\\"b\\'cAAA\x1b\\q|", false},
		{"printf format", escFormat, in, "a\"b'cA\b1A\x1b\\q|", false},
		{"echo -e stops at \\c", escEcho, `one\ctwo`, "one", true},
		{"printf's format prints \\c", escFormat, `one\ctwo`, `one\ctwo`, false},
		{"awk", escAwk, `\"\/\101\n\x41`, "\"/A\n\\x41", false},
		{"a trailing backslash stays", escEcho, `end\`, `end\`, false},
		{"no hex digits", escEcho, `\xg`, `\xg`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, stop := tt.e.decodeAll(tt.in)
			if got != tt.want || stop != tt.stop {
				t.Errorf("decodeAll(%q) = %q, %v; want %q, %v", tt.in, got, stop, tt.want, tt.stop)
			}
		})
	}
}
