package testutil

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// GoldenHex compares got with the golden file at path, which holds it in
// hex on one line, or rewrites the file when update is set (the package's
// -update flag: a flag here would clash with the packages' own).
func GoldenHex(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(got)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want, err := hex.DecodeString(string(bytes.TrimSpace(file))); err != nil || !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n got %x\nwant %s", path, got, bytes.TrimSpace(file))
	}
}
