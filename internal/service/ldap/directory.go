package ldap

import (
	"strings"
)

// attr is one attribute of an entry, in the order the product returns it.
type attr struct {
	name string
	vals []string
	// op marks an operational attribute, returned only when asked for by
	// name or with "+" (RFC 3673).
	op bool
	// secret marks an attribute no anonymous client may read or match
	// (userPassword under Debian's default ACL: "by anonymous auth").
	secret bool
}

// entry is one directory entry.
type entry struct {
	dn    string
	attrs []attr
}

// get returns an attribute's values, or nil when the entry has none.
func (e *entry) get(name string) []string {
	for _, a := range e.attrs {
		if strings.EqualFold(a.name, name) && !a.secret {
			return a.vals
		}
	}
	return nil
}

// selectAttrs returns the attributes a search asked for (RFC 4511
// §4.5.1.8): all user attributes for none or "*", the operational ones
// for "+", none for "1.1" alone, and any named ones.
func (e *entry) selectAttrs(sel []string) []attr {
	user, op := len(sel) == 0, false
	named := map[string]bool{}
	for _, s := range sel {
		switch s {
		case "*":
			user = true
		case "+":
			op = true
		case "1.1":
		default:
			named[strings.ToLower(s)] = true
		}
	}
	var out []attr
	for _, a := range e.attrs {
		if !a.secret && ((a.op && op) || (!a.op && user) || named[strings.ToLower(a.name)]) {
			out = append(out, a)
		}
	}
	return out
}

// directory is a persona's seeded tree, in the order entries were added
// (parents first), which is the order slapd's back-mdb returns them.
type directory struct {
	entries []*entry
	byDN    map[string]*entry
}

func newDirectory() *directory { return &directory{byDN: map[string]*entry{}} }

// add appends an entry.
func (d *directory) add(dn string, attrs ...attr) *entry {
	e := &entry{dn: dn, attrs: attrs}
	d.entries = append(d.entries, e)
	d.byDN[normDN(dn)] = e
	return e
}

// lookup finds an entry by DN, in any case and spacing.
func (d *directory) lookup(dn string) *entry { return d.byDN[normDN(dn)] }

// matched is the DN of the nearest existing ancestor of a missing entry,
// the matchedDN of a noSuchObject result; empty when there is none.
func (d *directory) matched(dn string) string {
	rdns := splitDN(dn)
	for i := 1; i < len(rdns); i++ {
		if e := d.byDN[strings.Join(normRDNs(rdns[i:]), ",")]; e != nil {
			return e.dn
		}
	}
	return ""
}

// scope returns the entries a search of base with scope covers, base
// included for base and subtree scopes.
func (d *directory) scope(base *entry, scope int64) []*entry {
	if scope == scopeBase {
		return []*entry{base}
	}
	nb := normDN(base.dn)
	var out []*entry
	for _, e := range d.entries {
		rd := normRDNs(splitDN(e.dn))
		n := strings.Join(rd, ",")
		switch {
		case n == nb:
			if scope == scopeSub {
				out = append(out, e)
			}
		case len(rd) > 0 && strings.Join(rd[1:], ",") == nb:
			out = append(out, e)
		case scope == scopeSub && strings.HasSuffix(n, ","+nb):
			out = append(out, e)
		}
	}
	return out
}

// splitDN splits a DN into its RDNs at the commas that are not escaped.
func splitDN(dn string) []string {
	var out []string
	start := 0
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',', ';':
			out = append(out, dn[start:i])
			start = i + 1
		}
	}
	if strings.TrimSpace(dn) != "" {
		out = append(out, dn[start:])
	}
	return out
}

// normRDNs lowers and trims each RDN's type and value.
func normRDNs(rdns []string) []string {
	out := make([]string, len(rdns))
	for i, r := range rdns {
		t, v, _ := strings.Cut(r, "=")
		out[i] = strings.ToLower(strings.TrimSpace(t)) + "=" + strings.ToLower(strings.TrimSpace(v))
	}
	return out
}

// normDN is a DN's comparison form.
func normDN(dn string) string { return strings.Join(normRDNs(splitDN(dn)), ",") }

// validDN reports whether a DN is syntactically one (RFC 4514), the test
// slapd applies before a bind: every RDN is type=value with a
// descriptor or numeric OID as its type.
func validDN(dn string) bool {
	for _, r := range splitDN(dn) {
		t, _, ok := strings.Cut(r, "=")
		t = strings.TrimSpace(t)
		if !ok || t == "" {
			return false
		}
		for i := 0; i < len(t); i++ {
			c := t[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
				return false
			}
		}
	}
	return true
}
