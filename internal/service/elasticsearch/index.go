package elasticsearch

import (
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Bounds on what clients may add, so the node's memory stays small.
const (
	maxIndices   = 256
	maxClientDoc = 64 // documents kept per index created by a client
	// maxKept bounds the bytes of everything clients' requests leave in
	// the node (documents, repositories, settings); past it, writes are
	// acknowledged and recorded but not kept.
	maxKept = 8 << 20
)

// keep reports whether n more bytes of a client's data may be kept, and
// counts them. Callers hold s.mu.
func (s *Server) keep(n int) bool {
	if s.kept+n > maxKept {
		return false
	}
	s.kept += n
	return true
}

// index is one index of the node: seeded bait or made by a client.
type index struct {
	name, uuid string
	created    time.Time
	bait       *baitIndex
	seed       string
	docs       []storedDoc // a client's documents, newest last
	count      int         // documents including those not kept
}

type storedDoc struct {
	id  string
	src any
}

func seedIndices(decky, bait string, started, now time.Time) map[string]*index {
	m := map[string]*index{}
	for _, b := range baitSets[bait](now) {
		rng := seeded(decky, b.name, "created")
		m[b.name] = &index{
			name: b.name, uuid: esUUID(decky, b.name), bait: &b, seed: decky,
			created: started.Add(-time.Duration(rng.IntN(300*24*3600)) * time.Second),
			count:   b.count + rng.IntN(b.count/10+1),
		}
	}
	return m
}

// doc returns the document at position i.
func (ix *index) doc(i int, now time.Time) storedDoc {
	if ix.bait == nil {
		return ix.docs[i]
	}
	return storedDoc{id: docID(ix.seed, ix.name, strconv.Itoa(i)), src: ix.bait.make(seeded(ix.seed, ix.name, strconv.Itoa(i)), i, now)}
}

// available is how many documents can be shown.
func (ix *index) available() int {
	if ix.bait == nil {
		return len(ix.docs)
	}
	return ix.count
}

func (ix *index) storeSize() int64 {
	if ix.bait == nil {
		return int64(225 + 512*ix.count)
	}
	return int64(ix.count) * int64(ix.bait.avg)
}

func (ix *index) creationMillis() string { return strconv.FormatInt(ix.created.UnixMilli(), 10) }

// sortedNames lists the indices by name. Callers hold s.mu.
func (s *Server) sortedNames() []string {
	names := make([]string, 0, len(s.indices))
	for n := range s.indices {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// resolve expands an index expression (comma list, wildcards, _all)
// to existing indices; missing is the first concrete name not found.
// Callers hold s.mu.
func (s *Server) resolve(expr string) (names []string, missing string) {
	seen := map[string]bool{}
	for _, part := range strings.Split(expr, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if part == "_all" || strings.ContainsAny(part, "*?") {
			for _, n := range s.sortedNames() {
				ok, _ := path.Match(part, n)
				if (part == "_all" || ok) && !seen[n] {
					seen[n] = true
					names = append(names, n)
				}
			}
			continue
		}
		if _, ok := s.indices[part]; !ok {
			return nil, part
		}
		if !seen[part] {
			seen[part] = true
			names = append(names, part)
		}
	}
	return names, ""
}

// validIndexName checks a new index's name as MetadataCreateIndexService
// does, returning the reason it is refused.
func validIndexName(n string) string {
	switch {
	case n != strings.ToLower(n):
		return "must be lowercase"
	case strings.HasPrefix(n, "_") || strings.HasPrefix(n, "-") || strings.HasPrefix(n, "+"):
		return "must not start with '_', '-', or '+'"
	case strings.ContainsAny(n, "\\/*?\"<>| ,#:"):
		return `must not contain the following characters [ , ", *, \, <, |, ,, >, /, ?]`
	case n == "." || n == "..":
		return "must not be '.' or '..'"
	case len(n) > 255:
		return "index name is too long, (" + strconv.Itoa(len(n)) + " > 255)"
	}
	return ""
}
