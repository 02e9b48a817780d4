package ldap

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"decnet/internal/testutil"
)

func TestParseElement(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantID   byte
		wantBody string
		wantRest string
		ok       bool
	}{
		{"short", "04 03 61 62 63 ff", 0x04, "616263", "ff", true},
		{"long 1", "04 81 03 61 62 63", 0x04, "616263", "", true},
		{"long 4 (AD)", "30 84 00 00 00 02 05 00", 0x30, "0500", "", true},
		{"empty body", "80 00", 0x80, "", "", true},
		{"indefinite", "30 80 00 00", 0, "", "", false},
		{"five length octets", "04 85 00 00 00 00 01 61", 0, "", "", false},
		{"past the end", "04 05 61", 0, "", "", false},
		{"long past the end", "04 84 ff ff ff ff 61", 0, "", "", false},
		{"missing length", "04", 0, "", "", false},
		{"high tag number", "1f 81 01 00", 0, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, rest, err := parseElement(testutil.Hex(tc.in))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, errBER) {
					t.Errorf("error %v does not wrap errBER", err)
				}
				return
			}
			if e.id != tc.wantID || !bytes.Equal(e.body, testutil.Hex(tc.wantBody)) || !bytes.Equal(rest, testutil.Hex(tc.wantRest)) {
				t.Errorf("got %02x %x rest %x", e.id, e.body, rest)
			}
		})
	}
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"00", 0, true}, {"7f", 127, true}, {"00 80", 128, true}, {"ff", -1, true},
		{"7f ff ff ff", 1<<31 - 1, true}, {"00 ff ff ff ff", 0, false}, {"", 0, false},
		{"01 00 00 00 00", 0, false}, {"00 7f ff ff ff", 1<<31 - 1, true},
	}
	for _, tc := range tests {
		got, err := parseInt(testutil.Hex(tc.in))
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseInt(%s) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestEncoder checks both products' length forms: slapd's shortest form,
// AD's 4-octet form on constructed elements only.
func TestEncoder(t *testing.T) {
	long := strings.Repeat("a", 200)
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"int 0", encoder{}.integer(tagInteger, 0), "02 01 00"},
		{"int 128", encoder{}.integer(tagInteger, 128), "02 02 00 80"},
		{"int -1", encoder{}.integer(tagInteger, -1), "02 01 ff"},
		{"int 65536", encoder{}.integer(tagInteger, 65536), "02 03 01 00 00"},
		{"slapd seq", encoder{}.tlv(tagSequence, []byte{5, 0}), "30 02 05 00"},
		{"AD seq", encoder{longConstructed: true}.tlv(tagSequence, []byte{5, 0}), "30 84 00 00 00 02 05 00"},
		{"AD string", encoder{longConstructed: true}.str(tagOctetString, "ab"), "04 02 61 62"},
		{"200 bytes", encoder{}.str(tagOctetString, long)[:3], "04 81 c8"},
	}
	for _, tc := range tests {
		if !bytes.Equal(tc.got, testutil.Hex(tc.want)) {
			t.Errorf("%s: %x, want %s", tc.name, tc.got, tc.want)
		}
	}
}

// TestFilterString decodes filters as ldapsearch encodes them and renders
// them back in RFC 4515 form.
func TestFilterString(t *testing.T) {
	e := encoder{}
	and := func(fs ...[]byte) []byte { return e.tlv(filterAnd, fs...) }
	or := func(fs ...[]byte) []byte { return e.tlv(filterOr, fs...) }
	not := func(f []byte) []byte { return e.tlv(filterNot, f) }
	ava := func(id byte, a, v string) []byte {
		return e.tlv(id, e.str(tagOctetString, a), e.str(tagOctetString, v))
	}
	subs := func(a string, parts ...[]byte) []byte {
		return e.tlv(filterSubstrings, e.str(tagOctetString, a), e.tlv(tagSequence, parts...))
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"present", present("objectClass"), "(objectClass=*)"},
		{"and or not", and(equality("objectClass", "user"), or(present("mail"), not(ava(filterGreater, "uidNumber", "1000")))),
			"(&(objectClass=user)(|(mail=*)(!(uidNumber>=1000))))"},
		{"approx and less", and(ava(filterApprox, "cn", "jon"), ava(filterLess, "uSNChanged", "5")), "(&(cn~=jon)(uSNChanged<=5))"},
		{"substrings", subs("cn", e.str(classContext, "ad"), e.str(classContext|1, "m"), e.str(classContext|2, "n")), "(cn=ad*m*n)"},
		{"substrings any only", subs("cn", e.str(classContext|1, "x")), "(cn=*x*)"},
		{"escaped", equality("cn", "a*(b)\\\x00\xff"), `(cn=a\2a\28b\29\5c\00\ff)`},
		{"extensible", e.tlv(filterExtensible, e.str(classContext|1, "2.5.13.5"), e.str(classContext|2, "cn"),
			e.str(classContext|3, "X"), e.tlv(classContext|4, []byte{0xff})), "(cn:dn:2.5.13.5:=X)"},
		{"empty and", and(), "(&)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			el, _, err := parseElement(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parseFilter(el, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.String(); got != tc.want {
				t.Errorf("String = %s, want %s", got, tc.want)
			}
		})
	}
	deep := present("cn")
	for range maxDepth + 2 {
		deep = not(deep)
	}
	el, _, _ := parseElement(deep)
	if _, err := parseFilter(el, 0); !errors.Is(err, errBER) {
		t.Errorf("a filter %d deep decoded: %v", maxDepth+2, err)
	}
	bad := subs("cn", e.str(classContext|2, "x"), e.str(classContext|1, "y"))
	el, _, _ = parseElement(bad)
	if _, err := parseFilter(el, 0); err == nil {
		t.Error("final before any decoded")
	}
}

func TestFilterMatches(t *testing.T) {
	e := &entry{attrs: []attr{a("objectClass", "top", "person"), a("cn", "Laura Whitfield"), a("uidNumber", "10001"),
		a("objectCategory", "CN=Person,CN=Schema,CN=Configuration,DC=corp,DC=local"), {name: "userPassword", vals: []string{"x"}, secret: true}}}
	sub := func(attr, init, fin string, any ...string) filter {
		return filter{id: filterSubstrings, attr: attr, initial: init, final: fin, any: any}
	}
	tests := []struct {
		f    filter
		want bool
	}{
		{filter{id: filterPresent, attr: "OBJECTCLASS"}, true},
		{filter{id: filterPresent, attr: "mail"}, false},
		{filter{id: filterPresent, attr: "userPassword"}, false},
		{filter{id: filterEquality, attr: "cn", value: "laura whitfield"}, true},
		{filter{id: filterEquality, attr: "objectCategory", value: "person"}, true},
		{filter{id: filterEquality, attr: "objectCategory", value: "computer"}, false},
		{filter{id: filterGreater, attr: "uidNumber", value: "9999"}, true},
		{filter{id: filterLess, attr: "uidNumber", value: "9999"}, false},
		{sub("cn", "lau", "eld", "whit"), true},
		{sub("cn", "", "", "a", "a", "a"), false},
		{filter{id: filterNot, subs: []filter{{id: filterPresent, attr: "cn"}}}, false},
		{filter{id: filterAnd}, true},
		{filter{id: filterOr}, false},
	}
	for _, tc := range tests {
		if got := tc.f.matches(e); got != tc.want {
			t.Errorf("%s matches = %v, want %v", tc.f, got, tc.want)
		}
	}
}
