package store

import (
	"fmt"
	"strings"
)

// Limits of the search language: the API caps the text at 512 bytes; the
// store refuses anything much larger so no caller can build a huge query.
const (
	maxSearchBytes = 1024
	maxSearchTerms = 32
	maxFieldKey    = 64
)

// searchTerm is one term of a log search: Key:Value, or a bare word when
// Key is empty.
type searchTerm struct {
	Key   string
	Value string
}

// parseSearch splits a search into terms. Terms are separated by
// unquoted whitespace; a double quote opens a quoted run in which
// whitespace and ':' are literal and \" and \\ escape; quotes may open
// mid-term (key:"a b"). A term whose first ':' comes before any quote and
// whose prefix is a valid key is key:value; every other term (a quoted
// phrase, a URL-like "http://x" in quotes, ":x") is a bare word.
func parseSearch(s string) ([]searchTerm, error) {
	if len(s) > maxSearchBytes {
		return nil, fmt.Errorf("%w: search longer than %d bytes", ErrBadQuery, maxSearchBytes)
	}
	var terms []searchTerm
	for i := 0; i < len(s); {
		if isSpace(s[i]) {
			i++
			continue
		}
		var b strings.Builder
		colon, quoted, sawQuote := -1, false, false
		for ; i < len(s) && (quoted || !isSpace(s[i])); i++ {
			c := s[i]
			switch {
			case c == '"':
				quoted, sawQuote = !quoted, true
			case quoted && c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
				i++
				b.WriteByte(s[i])
			case c == ':' && !sawQuote && colon < 0:
				colon = b.Len()
				b.WriteByte(c)
			default:
				b.WriteByte(c)
			}
		}
		if quoted {
			return nil, fmt.Errorf("%w: unterminated quote", ErrBadQuery)
		}
		text := b.String()
		t := searchTerm{Value: text}
		if colon > 0 && validKey(text[:colon]) {
			t = searchTerm{Key: text[:colon], Value: text[colon+1:]}
		}
		if t.Key == "" && t.Value == "" {
			continue // "" matches everything; dropping it changes nothing
		}
		if len(terms) == maxSearchTerms {
			return nil, fmt.Errorf("%w: more than %d search terms", ErrBadQuery, maxSearchTerms)
		}
		terms = append(terms, t)
	}
	return terms, nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// validKey reports whether k can name a column or a field: letters,
// digits, '_', '-' and '.', which never need quoting in a JSON path label
// and can never close one.
func validKey(k string) bool {
	if k == "" || len(k) > maxFieldKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// searchColumns are the keys that name a column of logs.
var searchColumns = map[string]string{
	"decky":       "decky",
	"service":     "service",
	"event":       "event_type",
	"event_type":  "event_type",
	"attacker":    "attacker_ip",
	"attacker_ip": "attacker_ip",
	"attacker-ip": "attacker_ip",
}

// likeEscape makes v a LIKE pattern matching v as a substring, with '\'
// as the escape character.
func likeEscape(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(v) + "%"
}

// compileSearch turns terms into SQL conditions on the logs table, ANDed
// by the caller, with '?' placeholders. Every value is a bound argument;
// the SQL text is built only from the dialect's constant fragments,
// whatever the input. Values get the dialect's text cleaning, as stored
// values did, so they still match.
func compileSearch(d *dialect, terms []searchTerm) (conds []string, args []any) {
	for _, t := range terms {
		switch col, isCol := searchColumns[strings.ToLower(t.Key)]; {
		case t.Key == "":
			p := likeEscape(d.text(t.Value))
			conds = append(conds, "("+d.like("raw_line")+" OR "+d.like("decky")+" OR "+d.like("service")+" OR "+d.like("attacker_ip")+")")
			args = append(args, p, p, p, p)
		case isCol:
			conds = append(conds, col+" = ?")
			args = append(args, d.key(t.Value))
		default:
			// The key is validKey, so a quoted path label cannot be
			// closed early; it is bound, not spliced, all the same.
			conds = append(conds, d.jsonText+" = ?")
			args = append(args, d.jsonArg(t.Key), d.text(t.Value))
		}
	}
	return conds, args
}
