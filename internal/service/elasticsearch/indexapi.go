package elasticsearch

import (
	"slices"
	"strconv"
	"strings"
)

// indexAPI answers the routes under /<index>. Callers hold s.mu.
func (s *Server) indexAPI(r *request, name string, seg []string) routed {
	if len(seg) == 0 {
		switch r.method {
		case "GET":
			return s.indexInfo(r, name, "")
		case "HEAD":
			names, missing := s.resolve(name)
			if missing != "" || len(names) == 0 {
				return routed{&response{status: 404, ctype: textType}, "index_read", name}
			}
			return routed{&response{status: 200, ctype: textType}, "index_read", name}
		case "PUT":
			return s.createIndex(r, name)
		case "DELETE":
			return s.deleteIndex(r, name)
		}
		return routed{s.allow(r, "HEAD", "DELETE", "GET", "PUT"), "", name}
	}
	switch seg[0] {
	case "_search", "_count":
		if len(seg) == 1 && is(r, "GET", "POST") {
			return s.search(r, name, seg[0])
		}
	case "_settings", "_mapping", "_aliases", "_alias":
		if len(seg) == 1 && is(r, "GET") {
			return s.indexInfo(r, name, seg[0])
		}
		if len(seg) == 1 && is(r, "PUT", "POST") {
			return routed{s.jsonResp(r, 200, obj{{"acknowledged", true}}, false), "index_settings_write", name}
		}
	case "_doc", "_create":
		if len(seg) == 1 && is(r, "POST") {
			return s.indexDoc(r, name, "", "_doc")
		}
		if len(seg) == 2 {
			switch r.method {
			case "PUT", "POST":
				return s.indexDoc(r, name, seg[1], "_doc")
			case "GET", "HEAD":
				return s.getDoc(r, name, seg[1])
			case "DELETE":
				return routed{s.jsonResp(r, 404, s.docResult(name, "_doc", seg[1], 1, "not_found"), false), "document_write", name}
			}
		}
	case "_bulk":
		if len(seg) == 1 && is(r, "POST", "PUT") {
			return routed{s.jsonResp(r, 200, obj{{"took", 3}, {"errors", false}, {"items", []any{}}}, false), "bulk", name}
		}
	case "_delete_by_query":
		if len(seg) == 1 && is(r, "POST") {
			names, missing := s.resolve(name)
			if missing != "" {
				return routed{s.notFound(r, missing), "delete_by_query", name}
			}
			n := 0
			for _, ix := range names {
				n += s.indices[ix].count
			}
			return routed{s.jsonResp(r, 200, obj{{"took", 912}, {"timed_out", false}, {"total", n}, {"deleted", n}, {"batches", n/1000 + 1},
				{"version_conflicts", 0}, {"noops", 0}, {"retries", obj{{"bulk", 0}, {"search", 0}}}, {"throttled_millis", 0},
				{"requests_per_second", fnum(-1)}, {"throttled_until_millis", 0}, {"failures", []any{}}}, false), "delete_by_query", name}
		}
	default:
		// 7.x still takes the typed endpoints of 6.x, which the old
		// ransom scripts use (PUT /read_me/howtogetmydataback/1), with a
		// deprecation warning; 8.x has no handler for them.
		if s.rel.major() < 8 && !strings.HasPrefix(seg[0], "_") && len(seg) <= 2 && is(r, "PUT", "POST") {
			id := ""
			if len(seg) == 2 {
				id = seg[1]
			}
			rt := s.indexDoc(r, name, id, seg[0])
			rt.resp.warnings = []string{"[types removal] Specifying types in document index requests is deprecated, use the typed endpoints instead."}
			return rt
		}
	}
	return routed{}
}

func (s *Server) createIndex(r *request, name string) routed {
	if reason := validIndexName(name); reason != "" {
		return routed{s.errorResp(r, 400, obj{{"type", "invalid_index_name_exception"}, {"reason", "Invalid index name [" + name + "], " + reason}, {"index_uuid", "_na_"}, {"index", name}}), "index_create", name}
	}
	if ix, ok := s.indices[name]; ok {
		return routed{s.errorResp(r, 400, obj{{"type", "resource_already_exists_exception"}, {"reason", "index [" + name + "/" + ix.uuid + "] already exists"}, {"index_uuid", ix.uuid}, {"index", name}}), "index_create", name}
	}
	if len(s.indices) < maxIndices {
		s.indices[name] = &index{name: name, uuid: esUUID(s.cfg.Host.Name, name, s.now().String()), created: s.now()}
	}
	return routed{s.jsonResp(r, 200, obj{{"acknowledged", true}, {"shards_acknowledged", true}, {"index", name}}, false), "index_create", name}
}

// deleteIndex removes indices; 8.x refuses wildcards and _all
// (action.destructive_requires_name defaults to true there).
func (s *Server) deleteIndex(r *request, expr string) routed {
	if s.rel.major() >= 8 && (expr == "_all" || slices.ContainsFunc([]byte(expr), func(c byte) bool { return c == '*' || c == '?' })) {
		return routed{s.errorResp(r, 400, obj{{"type", "illegal_argument_exception"}, {"reason", "Wildcard expressions or all indices are not allowed"}}), "index_delete", expr}
	}
	names, missing := s.resolve(expr)
	if missing != "" {
		return routed{s.notFound(r, missing), "index_delete", expr}
	}
	for _, n := range names {
		delete(s.indices, n)
	}
	return routed{s.jsonResp(r, 200, obj{{"acknowledged", true}}, false), "index_delete", expr}
}

// indexDoc stores a client's document (the ransom note), creating the
// index as auto-create does.
func (s *Server) indexDoc(r *request, name, id, typ string) routed {
	src, err := decodeOrdered(r.body)
	if _, isObj := src.(obj); err != nil || !isObj {
		reason := "failed to parse"
		if len(r.body) == 0 {
			reason = "request body is required"
		}
		return routed{s.errorResp(r, 400, obj{{"type", "mapper_parsing_exception"}, {"reason", reason}}), "document_write", name}
	}
	ix, ok := s.indices[name]
	if !ok {
		if reason := validIndexName(name); reason != "" {
			return routed{s.errorResp(r, 400, obj{{"type", "invalid_index_name_exception"}, {"reason", "Invalid index name [" + name + "], " + reason}, {"index_uuid", "_na_"}, {"index", name}}), "document_write", name}
		}
		if len(s.indices) >= maxIndices {
			return routed{s.jsonResp(r, 201, s.docResult(name, typ, docID(name, s.now().String()), 1, "created"), false), "document_write", name}
		}
		ix = &index{name: name, uuid: esUUID(s.cfg.Host.Name, name, s.now().String()), created: s.now()}
		s.indices[name] = ix
	}
	if id == "" {
		id = docID(s.cfg.Host.Name, name, strconv.Itoa(ix.count), s.now().String())
	}
	ix.count++
	if ix.bait == nil && len(ix.docs) < maxClientDoc && s.keep(len(r.body)) {
		ix.docs = append(ix.docs, storedDoc{id: id, src: src})
	}
	return routed{s.jsonResp(r, 201, s.docResult(name, typ, id, 1, "created"), false), "document_write", name}
}

func (s *Server) docResult(name, typ, id string, version int, result string) obj {
	o := obj{{"_index", name}}
	if s.rel.major() < 8 {
		o = append(o, field{"_type", typ})
	}
	return append(o, obj{{"_id", id}, {"_version", version}, {"result", result},
		{"_shards", obj{{"total", 2}, {"successful", 1}, {"failed", 0}}}, {"_seq_no", 0}, {"_primary_term", 1}}...)
}

func (s *Server) getDoc(r *request, name, id string) routed {
	ix, ok := s.indices[name]
	if !ok {
		return routed{s.notFound(r, name), "document_read", name}
	}
	head := obj{{"_index", name}}
	if s.rel.major() < 8 {
		head = append(head, field{"_type", "_doc"})
	}
	head = append(head, field{"_id", id})
	for i := 0; i < min(ix.available(), 1000); i++ {
		if d := ix.doc(i, s.now()); d.id == id {
			return routed{s.jsonResp(r, 200, append(head, obj{{"_version", 1}, {"_seq_no", i}, {"_primary_term", 1}, {"found", true}, {"_source", d.src}}...), false), "document_read", name}
		}
	}
	return routed{s.jsonResp(r, 404, append(head, field{"found", false}), false), "document_read", name}
}
