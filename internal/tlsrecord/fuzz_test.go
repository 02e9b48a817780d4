package tlsrecord

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fuzzModes are the protections FuzzOpen opens records under, chosen by
// the input's first byte; the seeds of gnutls-cli are named after them.
var fuzzModes = []struct {
	version uint16
	suite   Suite
	etm     bool
}{
	{tls.VersionTLS10, Suite{KeyLen: 16, MAC: sha1.New}, false},
	{tls.VersionTLS10, Suite{KeyLen: 16, MAC: sha1.New}, true},
	{tls.VersionTLS11, Suite{KeyLen: 16, MAC: sha1.New}, false},
	{tls.VersionTLS12, Suite{KeyLen: 32, MAC: sha1.New, PRF: sha256.New}, true},
	{tls.VersionTLS12, Suite{KeyLen: 32, MAC: sha1.New, PRF: sha256.New}, false},
	{tls.VersionTLS12, Suite{KeyLen: 32, PRF: sha512.New384}, false},
	{tls.VersionTLS12, Suite{KeyLen: 16, PRF: sha256.New}, false},
	{tls.VersionTLS12, Suite{KeyLen: 16, MAC: sha256.New, PRF: sha256.New}, false},
}

// secretsLen is the master secret and the two randoms that follow the
// mode byte.
const secretsLen = 48 + 32 + 32

// openAll opens the records in data, a mode byte, the master secret, the
// client and server randoms and a client's records after its
// ChangeCipherSpec, under the client's keys. It returns how many opened
// before the first that did not, and that one's error.
func openAll(t *testing.T, data []byte) (int, error) {
	if len(data) < 1+secretsLen {
		return 0, nil
	}
	m := fuzzModes[int(data[0])%len(fuzzModes)]
	keys, _ := m.suite.KeyBlock(m.version, data[1:49], data[49:81], data[81:113])
	p, err := m.suite.Protect(m.version, keys, m.etm)
	if err != nil {
		t.Fatal(err)
	}
	opened := 0
	var first error
	for b := data[1+secretsLen:]; len(b) >= 5; {
		n := min(len(b)-5, int(b[3])<<8|int(b[4]))
		payload := b[5 : 5+n]
		plain, err := p.Open(b[0], payload)
		if err != nil && !errors.Is(err, ErrBadRecordMAC) {
			t.Fatalf("error %v", err)
		}
		if len(plain) > len(payload) {
			t.Fatalf("%d bytes opened from %d", len(plain), len(payload))
		}
		if err == nil && first == nil {
			opened++
		} else if first == nil {
			first = err
		}
		b = b[5+n:]
	}
	return opened, first
}

// FuzzOpen opens hostile records under keys from the input (see
// openAll). The seeds in testdata are gnutls-cli 3.7.9's Finished, data
// and close_notify records with its key log, one for each mode, against
// tlsanon and (HMAC-SHA256) crypto/tls.
func FuzzOpen(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { openAll(t, data) })
}

// Every record of the seeds opens: gnutls-cli is a second implementation
// of the PRF, key block and record protection.
func TestGnutlsRecords(t *testing.T) {
	files, err := filepath.Glob("testdata/fuzz/FuzzOpen/gnutls-cli-*")
	if err != nil || len(files) != len(fuzzModes) {
		t.Fatalf("%d seeds, %v", len(files), err)
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			lit, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "go test fuzz v1\n[]byte(")
			data, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
			if !ok || err != nil {
				t.Fatalf("seed: %v", err)
			}
			// Finished, "hello\n", close_notify.
			if n, err := openAll(t, []byte(data)); n != 3 || err != nil {
				t.Errorf("%d records opened, then %v", n, err)
			}
		})
	}
}
