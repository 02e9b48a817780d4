package store

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestMarshalFields(t *testing.T) {
	for _, tc := range []struct {
		in   map[string]string
		want string
	}{
		{nil, `{}`},
		{map[string]string{"b": "2", "a": "1"}, `{"a":"1","b":"2"}`},
		{map[string]string{"q": "\"\\\n\r\t\x00\x1f<&>"}, `{"q":"\"\\\n\r\t\u0000\u001f<&>"}`},
		{map[string]string{"u": "ü\u2028€", "bad": "a\xffb"}, `{"bad":"a\ufffdb","u":"ü` + "\u2028" + `€"}`},
	} {
		if got := marshalFields(tc.in); got != tc.want {
			t.Errorf("marshalFields(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzMarshalFields: the encoding decodes to what encoding/json's own
// encoding of the same map decodes to.
func FuzzMarshalFields(f *testing.F) {
	f.Add("k", "v", "k2", "\x00\"\\\xff\u2028")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		m := map[string]string{k1: v1, k2: v2}
		var got, want map[string]string
		if err := json.Unmarshal([]byte(marshalFields(m)), &got); err != nil {
			t.Fatalf("%q: %v", marshalFields(m), err)
		}
		ref, _ := json.Marshal(m)
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q decodes to %q, want %q", marshalFields(m), got, want)
		}
	})
}
