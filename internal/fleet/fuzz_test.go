package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzLoadINI checks that no input makes the loader panic, that every
// error is located in the file, and that what it accepts is a valid fleet
// that survives the JSON state round trip.
func FuzzLoadINI(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := LoadINI(bytes.NewReader(data), "fuzz.ini", 7)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.ini") {
					t.Fatalf("error line without the file name: %q", line)
				}
			}
			var e *Error
			if errors.As(err, &e) && e.Line < 0 {
				t.Fatalf("negative line %d", e.Line)
			}
			return
		}
		if err := fl.Validate(); err != nil {
			t.Fatalf("accepted an invalid fleet: %v", err)
		}
		b, err := json.Marshal(fl)
		if err != nil {
			t.Fatal(err)
		}
		var back Fleet
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fl, back) {
			t.Fatalf("JSON round trip changed the fleet: %s", b)
		}
	})
}
