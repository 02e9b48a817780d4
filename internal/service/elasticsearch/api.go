package elasticsearch

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// methods Elasticsearch's RestRequest knows; others are refused with 405.
var knownMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "DELETE": true, "HEAD": true, "OPTIONS": true, "PATCH": true, "TRACE": true, "CONNECT": true}

// serve answers one request: authentication first (when security is on),
// then the REST routes. It returns the response, the action it names in
// the event and the index expression concerned.
func (s *Server) serve(c net.Conn, r *request) (*response, string, string) {
	user, denied := s.authenticate(c, r)
	if denied != nil {
		return denied, "auth_required", ""
	}
	if !knownMethods[r.method] {
		return s.simpleError(r, 405, "Unexpected http method: "+r.method), "bad_method", ""
	}
	seg := strings.Split(strings.Trim(r.path, "/"), "/")
	if len(seg) == 1 && seg[0] == "" {
		seg = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.route(r, seg, user)
	switch {
	case rt.resp == nil && r.method == "OPTIONS":
		return &response{status: 200, ctype: textType}, "options", ""
	case rt.resp == nil:
		return s.simpleError(r, 400, ""), "unknown", ""
	case r.method == "OPTIONS" && rt.resp.status == 200 && len(rt.resp.body) == 0:
		return rt.resp, "options", rt.index
	case rt.resp.status == 405:
		return rt.resp, "bad_method", rt.index
	}
	return rt.resp, rt.action, rt.index
}

type routed struct {
	resp   *response
	action string
	index  string
}

// allow answers a known path with a method it does not take; OPTIONS
// gets the methods it does take, as RestController's handleOptionsRequest.
func (s *Server) allow(r *request, methods ...string) *response {
	if r.method == "OPTIONS" {
		return &response{status: 200, ctype: textType, headers: []header{{"Allow", strings.Join(methods, ",")}}}
	}
	resp := s.simpleError(r, 405, "Incorrect HTTP method for uri ["+r.target+"] and method ["+r.method+"], allowed: ["+strings.Join(methods, ", ")+"]")
	resp.headers = []header{{"Allow", strings.Join(methods, ",")}}
	return resp
}

func is(r *request, methods ...string) bool {
	for _, m := range methods {
		if r.method == m {
			return true
		}
	}
	return false
}

// route dispatches on the path's segments. Callers hold s.mu.
func (s *Server) route(r *request, seg []string, user string) routed {
	if len(seg) == 0 {
		switch r.method {
		case "GET":
			return routed{s.jsonResp(r, 200, s.rootDoc(), !r.has("pretty") || r.flag("pretty")), "root_probe", ""}
		case "HEAD":
			return routed{&response{status: 200, ctype: textType}, "root_probe", ""}
		}
		return routed{s.allow(r, "HEAD", "GET"), "", ""}
	}
	first := seg[0]
	switch first {
	case "_cat":
		if !is(r, "GET", "HEAD") {
			return routed{s.allow(r, "GET"), "", ""}
		}
		return s.cat(r, seg[1:])
	case "_cluster":
		return s.clusterAPI(r, seg[1:])
	case "_nodes":
		if !is(r, "GET", "HEAD") {
			return routed{s.allow(r, "GET"), "", ""}
		}
		return routed{s.jsonResp(r, 200, s.nodesInfo(), false), "nodes_recon", ""}
	case "_security", "_xpack", "_license":
		return s.securityAPI(r, seg, user)
	case "_snapshot":
		return s.snapshotAPI(r, seg[1:])
	case "_search", "_count":
		if len(seg) == 1 && is(r, "GET", "POST") {
			return s.search(r, "_all", first)
		}
	case "_aliases", "_mapping", "_settings":
		if len(seg) == 1 && is(r, "GET") {
			return s.indexInfo(r, "_all", first)
		}
	case "_bulk":
		if len(seg) == 1 && is(r, "POST", "PUT") {
			return routed{s.jsonResp(r, 200, obj{{"took", 3}, {"errors", false}, {"items", []any{}}}, false), "bulk", ""}
		}
	}
	if strings.HasPrefix(first, "_") && first != "_all" {
		if len(seg) == 1 && is(r, "GET", "HEAD") {
			return routed{s.notFound(r, first), "index_read", first}
		}
		return routed{}
	}
	return s.indexAPI(r, first, seg[1:])
}

// has reports whether a query parameter is present.
func (r *request) has(name string) bool {
	_, ok := r.query[name]
	return ok
}

// rootDoc is GET /'s document, field for field as RestMainAction writes it.
func (s *Server) rootDoc() obj {
	v := obj{
		{"number", s.rel.number},
		{"build_flavor", s.p.Flavor},
		{"build_type", s.build},
		{"build_hash", s.rel.hash},
		{"build_date", s.rel.date},
		{"build_snapshot", false},
		{"lucene_version", s.rel.lucene},
		{"minimum_wire_compatibility_version", s.rel.minWire},
		{"minimum_index_compatibility_version", s.rel.minIndex},
	}
	return obj{{"name", s.node}, {"cluster_name", s.cluster}, {"cluster_uuid", s.uuid}, {"version", v}, {"tagline", "You Know, for Search"}}
}

// jsonResp renders v with ?pretty (or the handler's default).
func (s *Server) jsonResp(r *request, status int, v any, pretty bool) *response {
	return &response{status: status, ctype: s.jsonType(r), body: encode(v, pretty || r.flag("pretty"))}
}

// errorResp is an ElasticsearchException's JSON: its root cause, itself
// and the status.
func (s *Server) errorResp(r *request, status int, cause obj) *response {
	e := obj{{"root_cause", []any{cause}}}
	e = append(e, cause...)
	return s.jsonResp(r, status, obj{{"error", e}, {"status", status}}, false)
}

// simpleError is the {"error": "...", "status": n} form of the REST
// controller's own refusals; an empty reason is its "no handler found".
func (s *Server) simpleError(r *request, status int, reason string) *response {
	if reason == "" {
		return s.jsonResp(r, status, obj{{"error", "no handler found for uri [" + r.target + "] and method [" + r.method + "]"}}, false)
	}
	return s.jsonResp(r, status, obj{{"error", reason}, {"status", status}}, false)
}

func (s *Server) notFound(r *request, name string) *response {
	return s.errorResp(r, 404, obj{
		{"type", "index_not_found_exception"}, {"reason", "no such index [" + name + "]"},
		{"resource.type", "index_or_alias"}, {"resource.id", name}, {"index_uuid", "_na_"}, {"index", name},
	})
}

// health is the cluster's colour: one node cannot hold the replicas.
func (s *Server) health() (status string, primaries, unassigned int) {
	for range s.indices {
		primaries++
	}
	if primaries > 0 {
		return "yellow", primaries, primaries
	}
	return "green", 0, 0
}

func (s *Server) clusterHealth() obj {
	status, pri, unassigned := s.health()
	pct := 100.0
	if pri+unassigned > 0 {
		pct = float64(pri) * 100 / float64(pri+unassigned)
	}
	h := obj{
		{"cluster_name", s.cluster}, {"status", status}, {"timed_out", false},
		{"number_of_nodes", 1}, {"number_of_data_nodes", 1},
		{"active_primary_shards", pri}, {"active_shards", pri}, {"relocating_shards", 0},
		{"initializing_shards", 0}, {"unassigned_shards", unassigned},
	}
	if s.rel.atLeast(8, 12) {
		h = append(h, field{"unassigned_primary_shards", 0})
	}
	return append(h, obj{
		{"delayed_unassigned_shards", 0}, {"number_of_pending_tasks", 0}, {"number_of_in_flight_fetch", 0},
		{"task_max_waiting_in_queue_millis", 0}, {"active_shards_percent_as_number", fnum(pct)},
	}...)
}

func (s *Server) clusterAPI(r *request, seg []string) routed {
	if len(seg) == 0 {
		return routed{}
	}
	switch seg[0] {
	case "health":
		if !is(r, "GET", "HEAD") {
			return routed{s.allow(r, "GET"), "", ""}
		}
		return routed{s.jsonResp(r, 200, s.clusterHealth(), false), "cluster_recon", ""}
	case "settings":
		switch r.method {
		case "GET":
			return routed{s.jsonResp(r, 200, obj{{"persistent", s.persistent()}, {"transient", obj{}}}, false), "cluster_recon", ""}
		case "PUT":
			doc, err := decodeOrdered(r.body)
			o, _ := doc.(obj)
			if err != nil || o == nil {
				return routed{s.parseError(r, err), "cluster_settings_write", ""}
			}
			p, _ := o.lookup("persistent")
			if po, ok := p.(obj); ok && len(s.persist) < 64 && s.keep(len(r.body)) {
				s.persist = append(s.persist, po...)
			}
			t, _ := o.lookup("transient")
			if t == nil {
				t = obj{}
			}
			if p == nil {
				p = obj{}
			}
			return routed{s.jsonResp(r, 200, obj{{"acknowledged", true}, {"persistent", p}, {"transient", t}}, false), "cluster_settings_write", ""}
		}
		return routed{s.allow(r, "GET", "PUT"), "", ""}
	case "state", "stats":
		if !is(r, "GET") {
			return routed{s.allow(r, "GET"), "", ""}
		}
		st, _, _ := s.health()
		return routed{s.jsonResp(r, 200, obj{{"cluster_name", s.cluster}, {"cluster_uuid", s.uuid}, {"status", st}, {"master_node", s.nodeID}}, false), "cluster_recon", ""}
	}
	return routed{}
}

func (s *Server) persistent() obj {
	if s.persist == nil {
		return obj{}
	}
	return s.persist
}

// parseError is the answer to a body that is not the JSON asked for.
func (s *Server) parseError(r *request, err error) *response {
	if len(r.body) == 0 {
		return s.errorResp(r, 400, obj{{"type", "parse_exception"}, {"reason", "request body is required"}})
	}
	reason := "Failed to parse content to map"
	if err != nil {
		reason = "failed to parse request body"
	}
	return s.errorResp(r, 400, obj{{"type", "parse_exception"}, {"reason", reason}})
}

func (s *Server) nodeRoles() []string {
	return []string{"data", "data_cold", "data_content", "data_frozen", "data_hot", "data_warm", "ingest", "master", "ml", "remote_cluster_client", "transform"}
}

func (s *Server) hostIP() string {
	if s.cfg.Host.IP != "" {
		return s.cfg.Host.IP
	}
	return "127.0.0.1"
}

func (s *Server) nodesInfo() obj {
	ip := s.hostIP()
	node := obj{
		{"name", s.node}, {"transport_address", ip + ":9300"}, {"host", ip}, {"ip", ip},
		{"version", s.rel.number}, {"build_flavor", s.p.Flavor}, {"build_type", s.build}, {"build_hash", s.rel.hash},
		{"total_indexing_buffer", 103079215}, {"roles", s.nodeRoles()},
		{"attributes", obj{{"ml.machine_memory", "8201887744"}, {"xpack.installed", "true"}, {"ml.max_open_jobs", "512"}}},
		{"os", obj{{"name", "Linux"}, {"pretty_name", s.prettyOS()}, {"arch", "amd64"}, {"available_processors", 4}}},
		{"jvm", obj{{"version", s.jvm()}, {"vm_name", "OpenJDK 64-Bit Server VM"}, {"vm_vendor", "Oracle Corporation"}, {"start_time_in_millis", s.started.UnixMilli()}}},
		{"http", obj{{"bound_address", []string{"[::]:9200"}}, {"publish_address", ip + ":9200"}, {"max_content_length_in_bytes", 104857600}}},
	}
	return obj{
		{"_nodes", obj{{"total", 1}, {"successful", 1}, {"failed", 0}}},
		{"cluster_name", s.cluster},
		{"nodes", obj{{s.nodeID, node}}},
	}
}

func (s *Server) jvm() string {
	switch {
	case s.rel.major() >= 8:
		return "21.0.2"
	case s.rel.atLeast(7, 17):
		return "19.0.2"
	}
	return "15.0.1"
}

func (s *Server) prettyOS() string {
	switch s.cfg.Host.Distro {
	case "ubuntu22", "ubuntu":
		return "Ubuntu 22.04.4 LTS"
	case "ubuntu20":
		return "Ubuntu 20.04.6 LTS"
	case "rocky", "rhel", "centos", "fedora":
		return "Rocky Linux 9.3 (Blue Onyx)"
	}
	return "Debian GNU/Linux 12 (bookworm)"
}

// securityAPI answers _security, _xpack and _license probes.
func (s *Server) securityAPI(r *request, seg []string, user string) routed {
	switch seg[0] {
	case "_xpack":
		return routed{s.jsonResp(r, 200, obj{
			{"build", obj{{"hash", s.rel.hash}, {"date", s.rel.date}}},
			{"license", s.license(false)},
			{"features", obj{{"security", obj{{"available", true}, {"enabled", s.p.secured()}}}}},
			{"tagline", "You know, for X"},
		}, false), "security_probe", ""}
	case "_license":
		return routed{s.jsonResp(r, 200, obj{{"license", s.license(true)}}, true), "security_probe", ""}
	}
	if !s.p.secured() {
		return routed{s.errorResp(r, 500, obj{{"type", "exception"}, {"reason", "Security must be explicitly enabled when using a [basic] license. Enable security by setting [xpack.security.enabled] to [true] in the elasticsearch.yml file and restart the node."}}), "security_probe", ""}
	}
	if len(seg) >= 2 && seg[1] == "_authenticate" {
		return routed{s.jsonResp(r, 200, obj{
			{"username", user}, {"roles", []string{"superuser"}}, {"full_name", nil}, {"email", nil},
			{"metadata", obj{{"_reserved", true}}}, {"enabled", true},
			{"authentication_realm", obj{{"name", "reserved"}, {"type", "reserved"}}},
			{"lookup_realm", obj{{"name", "reserved"}, {"type", "reserved"}}},
			{"authentication_type", "realm"},
		}, false), "security_probe", ""}
	}
	return routed{s.jsonResp(r, 200, obj{}, false), "security_probe", ""}
}

func (s *Server) license(full bool) obj {
	issued := s.started.Add(-time.Duration(seeded(s.cfg.Host.Name, "license").IntN(90*24)) * time.Hour)
	l := obj{{"status", "active"}, {"uid", esUUIDDashed(s.cfg.Host.Name)}, {"type", "basic"}}
	if !full {
		return append(l, obj{{"mode", "basic"}}...)
	}
	return append(l, obj{
		{"issue_date", issued.UTC().Format("2006-01-02T15:04:05.000Z")}, {"issue_date_in_millis", issued.UnixMilli()},
		{"max_nodes", 1000}, {"max_resource_units", nil}, {"issued_to", s.cluster}, {"issuer", "elasticsearch"},
		{"start_date_in_millis", -1},
	}...)
}

func esUUIDDashed(seed string) string {
	rng := seeded(seed, "license-uid")
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// snapshotAPI answers the repository probes and records registrations,
// the first step of exfiltration by snapshot.
func (s *Server) snapshotAPI(r *request, seg []string) routed {
	switch {
	case len(seg) == 0:
		if !is(r, "GET") {
			return routed{s.allow(r, "GET"), "", ""}
		}
		return routed{s.jsonResp(r, 200, s.repoList(), false), "snapshot_probe", ""}
	case len(seg) == 1 && is(r, "PUT", "POST"):
		doc, err := decodeOrdered(r.body)
		if err != nil {
			return routed{s.parseError(r, err), "snapshot_repository", seg[0]}
		}
		if _, known := s.repos[seg[0]]; (known || len(s.repos) < 16) && s.keep(len(r.body)) {
			s.repos[seg[0]] = doc
		}
		return routed{s.jsonResp(r, 200, obj{{"acknowledged", true}}, false), "snapshot_repository", seg[0]}
	case len(seg) == 1 && is(r, "GET"):
		if v, ok := s.repos[seg[0]]; ok {
			return routed{s.jsonResp(r, 200, obj{{seg[0], v}}, false), "snapshot_probe", seg[0]}
		}
		return routed{s.errorResp(r, 404, obj{{"type", "repository_missing_exception"}, {"reason", "[" + seg[0] + "] missing"}}), "snapshot_probe", seg[0]}
	case len(seg) == 2 && is(r, "PUT", "POST"):
		if _, ok := s.repos[seg[0]]; !ok {
			return routed{s.errorResp(r, 404, obj{{"type", "repository_missing_exception"}, {"reason", "[" + seg[0] + "] missing"}}), "snapshot_create", seg[0]}
		}
		return routed{s.jsonResp(r, 200, obj{{"accepted", true}}, false), "snapshot_create", seg[0]}
	}
	return routed{}
}

func (s *Server) repoList() obj {
	o := obj{}
	for name, v := range s.repos {
		o = append(o, field{name, v})
	}
	slices.SortFunc(o, func(a, b field) int { return strings.Compare(a.k, b.k) })
	return o
}

// itoa is strconv.Itoa for the _cat tables.
func itoa(n int) string { return strconv.Itoa(n) }
