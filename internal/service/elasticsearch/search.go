package elasticsearch

import (
	"slices"
	"strconv"
	"strings"
)

// Bounds of a search's page.
const maxPage = 100

// search answers _search and _count over an index expression.
// Callers hold s.mu.
func (s *Server) search(r *request, expr, what string) routed {
	names, missing := s.resolve(expr)
	if missing != "" {
		return routed{s.notFound(r, missing), "search", expr}
	}
	total := 0
	for _, n := range names {
		total += s.indices[n].count
	}
	shards := obj{{"total", len(names)}, {"successful", len(names)}, {"skipped", 0}, {"failed", 0}}
	if what == "_count" {
		return routed{s.jsonResp(r, 200, obj{{"count", total}, {"_shards", shards}}, false), "search", expr}
	}
	size, from := 10, 0
	if body, err := decodeOrdered(r.body); err == nil {
		if o, ok := body.(obj); ok {
			size = intOf(o, "size", size)
			from = intOf(o, "from", from)
		}
	}
	if v := r.query.Get("size"); v != "" {
		size, _ = strconv.Atoi(v)
	}
	if v := r.query.Get("from"); v != "" {
		from, _ = strconv.Atoi(v)
	}
	size = min(max(size, 0), maxPage)
	from = max(from, 0)
	now := s.now()
	hits := []any{}
	skip := from
	for _, n := range names {
		ix := s.indices[n]
		avail := ix.available()
		if skip >= avail {
			skip -= avail
			continue
		}
		for i := skip; i < avail && len(hits) < size; i++ {
			d := ix.doc(i, now)
			h := obj{{"_index", n}}
			if s.rel.major() < 8 {
				h = append(h, field{"_type", "_doc"})
			}
			hits = append(hits, append(h, obj{{"_id", d.id}, {"_score", fnum(1)}, {"_source", d.src}}...))
		}
		skip = 0
		if len(hits) >= size {
			break
		}
	}
	relation, shown := "eq", total
	if total > 10000 {
		relation, shown = "gte", 10000
	}
	var maxScore any = fnum(1)
	if len(hits) == 0 {
		maxScore = nil
	}
	took := 1 + seeded(s.cfg.Host.Name, r.target).IntN(40)
	return routed{s.jsonResp(r, 200, obj{
		{"took", took}, {"timed_out", false}, {"_shards", shards},
		{"hits", obj{{"total", obj{{"value", shown}, {"relation", relation}}}, {"max_score", maxScore}, {"hits", hits}}},
	}, false), "search", expr}
}

func intOf(o obj, key string, def int) int {
	v, ok := o.lookup(key)
	if !ok {
		return def
	}
	if n, ok := v.(num); ok {
		if i, err := strconv.Atoi(string(n)); err == nil {
			return i
		}
	}
	return def
}

// indexInfo answers GET <index>, _settings, _mapping and _aliases.
func (s *Server) indexInfo(r *request, expr, what string) routed {
	names, missing := s.resolve(expr)
	if missing != "" {
		return routed{s.notFound(r, missing), "index_read", expr}
	}
	out := obj{}
	for _, n := range names {
		ix := s.indices[n]
		settings := obj{{"index", obj{
			{"routing", obj{{"allocation", obj{{"include", obj{{"_tier_preference", "data_content"}}}}}}},
			{"number_of_shards", "1"}, {"provided_name", n}, {"creation_date", ix.creationMillis()},
			{"number_of_replicas", "1"}, {"uuid", ix.uuid}, {"version", obj{{"created", s.versionID()}}},
		}}}
		mappings := obj{{"properties", s.mappingOf(ix)}}
		var v obj
		switch what {
		case "_settings":
			v = obj{{"settings", settings}}
		case "_mapping":
			v = obj{{"mappings", mappings}}
		case "_aliases":
			v = obj{{"aliases", obj{}}}
		default:
			v = obj{{"aliases", obj{}}, {"mappings", mappings}, {"settings", settings}}
		}
		out = append(out, field{n, v})
	}
	return routed{s.jsonResp(r, 200, out, false), "index_read", expr}
}

// versionID is Version.id as index.version.created prints it.
func (s *Server) versionID() string {
	p := strings.Split(s.rel.number, ".")
	a, _ := strconv.Atoi(p[0])
	b, _ := strconv.Atoi(p[1])
	c, _ := strconv.Atoi(p[2])
	return strconv.Itoa(a*1000000 + b*10000 + c*100 + 99)
}

// mappingOf infers a mapping from a sample document, as dynamic mapping
// would have made it.
func (s *Server) mappingOf(ix *index) obj {
	if ix.available() == 0 {
		return obj{}
	}
	src, _ := ix.doc(0, s.now()).src.(obj)
	return mapFields(src, 0)
}

func mapFields(o obj, depth int) obj {
	out := obj{}
	for _, f := range o {
		var t obj
		switch v := f.v.(type) {
		case obj:
			if depth < 8 {
				out = append(out, field{f.k, obj{{"properties", mapFields(v, depth+1)}}})
			}
			continue
		case bool:
			t = obj{{"type", "boolean"}}
		case num:
			if strings.ContainsAny(string(v), ".eE") {
				t = obj{{"type", "float"}}
			} else {
				t = obj{{"type", "long"}}
			}
		case int:
			t = obj{{"type", "long"}}
		case string:
			if len(v) >= 20 && v[4] == '-' && v[10] == 'T' {
				t = obj{{"type", "date"}}
			} else {
				t = obj{{"type", "text"}, {"fields", obj{{"keyword", obj{{"type", "keyword"}, {"ignore_above", 256}}}}}}
			}
		default:
			t = obj{{"type", "text"}, {"fields", obj{{"keyword", obj{{"type", "keyword"}, {"ignore_above", 256}}}}}}
		}
		out = append(out, field{f.k, t})
	}
	// Mappings are printed with their properties sorted by name.
	slices.SortStableFunc(out, func(a, b field) int { return strings.Compare(a.k, b.k) })
	return out
}
