// Package artifact keeps the files attackers leave on a decky (written in
// the fake shell, uploaded over ftp, tftp, smb): each distinct content
// once, under a name that is safe to copy anywhere, within a byte budget
// per decky, so a loop of uploads cannot fill the disk. Nothing stored is
// ever executed or opened by decnet.
package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"decnet/internal/atomicfile"
)

// Budget bounds the bytes one store keeps, so a loop of uploads across
// sessions cannot fill the disk. It is a variable so tests can lower it;
// the runtime never changes it.
var Budget int64 = 256 << 20

// Why a file's bytes were not kept (Kept.NotStored).
const (
	NotStoredBudget = "budget" // the decky's ArtifactBudget is spent
	NotStoredError  = "error"  // the copy could not be written
)

// artifactName matches the names store gives (the original's capture
// names): time, the first 12 hex digits of the sha256, the base name.
var artifactName = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z_([0-9a-f]{12})_`)

// Store is one directory of attacker-written bytes: each distinct content
// is kept once, and the total stays within Budget. It is safe for
// concurrent use.
type Store struct {
	dir string

	mu   sync.Mutex
	used int64             // bytes of every file in dir
	sums map[string]string // sha256 -> stored name, for files known by content
	// unhashed are files found at open, by sha256 prefix: hashed only
	// when a write with that prefix comes, as a 48-bit prefix alone is
	// cheap to collide and a collision must not hide a new payload.
	unhashed map[string][]string
}

// Open returns the store of dir (created on the first file kept),
// accounting for what an earlier run left there.
func Open(dir string) (*Store, error) {
	a := &Store{dir: dir, sums: map[string]string{}, unhashed: map[string][]string{}}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return a, nil
	}
	if err != nil {
		return nil, fmt.Errorf("artifacts: %w", err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		if strings.HasPrefix(e.Name(), atomicfile.TempPrefix) { // a copy cut short by a crash
			os.Remove(filepath.Join(dir, e.Name()))
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		a.used += info.Size()
		if m := artifactName.FindStringSubmatch(e.Name()); m != nil {
			a.unhashed[m[1]] = append(a.unhashed[m[1]], e.Name())
		}
	}
	return a, nil
}

// Kept is what Keep did with a file.
type Kept struct {
	// SHA256 is the hex digest of the bytes, kept or not.
	SHA256 string
	Size   int64
	// StoredAs is the file's name in the store's directory, "" when the
	// bytes were not kept.
	StoredAs string
	// NotStored says why StoredAs is empty: NotStoredBudget or
	// NotStoredError.
	NotStored string
}

// Fields are the file_captured event's fields for a file the attacker
// named origPath: sha256, size, orig_path, stored_as, stored, and reason
// when the bytes were not kept.
func (k Kept) Fields(origPath string) map[string]string {
	f := map[string]string{"sha256": k.SHA256, "size": strconv.FormatInt(k.Size, 10), "orig_path": origPath,
		"stored_as": k.StoredAs, "stored": strconv.FormatBool(k.NotStored == "")}
	if k.NotStored != "" {
		f["reason"] = k.NotStored
	}
	return f
}

// Keep keeps a copy of data, which the attacker wrote to p at now, unless
// the same bytes are kept already (their name is returned) or the budget
// is spent.
func (a *Store) Keep(p string, data []byte, now time.Time) Kept {
	sum, stored, why := a.store(p, data, now)
	return Kept{SHA256: sum, Size: int64(len(data)), StoredAs: stored, NotStored: why}
}

func (a *Store) store(p string, data []byte, now time.Time) (sum, stored, notStored string) {
	h := sha256.Sum256(data)
	sum = hex.EncodeToString(h[:])
	a.mu.Lock()
	defer a.mu.Unlock()
	if name := a.find(sum, int64(len(data))); name != "" {
		return sum, name, ""
	}
	if a.used+int64(len(data)) > Budget {
		return sum, "", NotStoredBudget
	}
	// The stored name keeps only a safe alphabet of the original name (the
	// event's orig_path has all of it): it must be a plain file name on
	// every system an analyst copies it to, and the download route accepts
	// no other characters.
	base := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, path.Base(p))
	if len(base) > 64 {
		base = base[:64]
	}
	stored = now.UTC().Format("2006-01-02T15:04:05Z") + "_" + sum[:12] + "_" + base
	if err := os.MkdirAll(a.dir, 0o700); err != nil {
		return sum, "", NotStoredError
	}
	// A same-named file not found by content is other bytes written the
	// same second to the same base name with a colliding prefix: keep the
	// first rather than overwrite it.
	if _, err := os.Lstat(filepath.Join(a.dir, stored)); err == nil {
		return sum, "", NotStoredError
	}
	if err := atomicfile.Write(filepath.Join(a.dir, stored), data, 0o600); err != nil {
		return sum, "", NotStoredError
	}
	a.used += int64(len(data))
	a.sums[sum] = stored
	return sum, stored, ""
}

// find returns the name of a kept file with that sha256 and size, hashing
// files from an earlier run that share its prefix. A file someone removed
// from the directory is forgotten and its bytes given back. Callers hold
// a.mu.
func (a *Store) find(sum string, size int64) string {
	if name, ok := a.sums[sum]; ok {
		if _, err := os.Stat(filepath.Join(a.dir, name)); err == nil {
			return name
		}
		delete(a.sums, sum)
		a.used = max(0, a.used-size)
	}
	prefix := sum[:12]
	for len(a.unhashed[prefix]) > 0 {
		names := a.unhashed[prefix]
		name := names[len(names)-1]
		a.unhashed[prefix] = names[:len(names)-1]
		b, err := os.ReadFile(filepath.Join(a.dir, name))
		if err != nil {
			continue
		}
		h := sha256.Sum256(b)
		got := hex.EncodeToString(h[:])
		if _, dup := a.sums[got]; !dup {
			a.sums[got] = name
		}
		if got == sum {
			return name
		}
	}
	delete(a.unhashed, prefix)
	return ""
}
