package elasticsearch

import (
	"strconv"
	"strings"
)

// catEndpoints is GET /_cat's list.
const catEndpoints = `=^.^=
/_cat/allocation
/_cat/shards
/_cat/shards/{index}
/_cat/master
/_cat/nodes
/_cat/tasks
/_cat/indices
/_cat/indices/{index}
/_cat/segments
/_cat/segments/{index}
/_cat/count
/_cat/count/{index}
/_cat/recovery
/_cat/recovery/{index}
/_cat/health
/_cat/pending_tasks
/_cat/aliases
/_cat/aliases/{alias}
/_cat/thread_pool
/_cat/thread_pool/{thread_pools}
/_cat/plugins
/_cat/fielddata
/_cat/fielddata/{fields}
/_cat/nodeattrs
/_cat/repositories
/_cat/snapshots/{repository}
/_cat/templates
/_cat/ml/anomaly_detectors
/_cat/ml/anomaly_detectors/{job_id}
/_cat/ml/trained_models
/_cat/ml/trained_models/{model_id}
/_cat/ml/datafeeds
/_cat/ml/datafeeds/{datafeed_id}
/_cat/ml/data_frame/analytics
/_cat/ml/data_frame/analytics/{id}
/_cat/transforms
/_cat/transforms/{transform_id}
`

// column is one _cat column: its header and whether it is right-aligned
// (numbers), as RestTable pads them.
type column struct {
	name  string
	right bool
}

// catTable answers a _cat API as RestTable does: the columns ?h picks,
// as JSON objects of strings with ?format=json, else as text.
func (s *Server) catTable(r *request, cols []column, rows [][]string) *response {
	cols, rows = pickColumns(r, cols, rows)
	if r.query.Get("format") == "json" {
		list := make([]any, len(rows))
		for i, row := range rows {
			o := make(obj, len(cols))
			for j, c := range cols {
				o[j] = field{c.name, row[j]}
			}
			list[i] = o
		}
		return s.jsonResp(r, 200, list, false)
	}
	return &response{status: 200, ctype: textType, body: table(r, cols, rows)}
}

// pickColumns keeps the columns ?h names, in its order.
func pickColumns(r *request, cols []column, rows [][]string) ([]column, [][]string) {
	if h := r.query.Get("h"); h != "" {
		want := strings.Split(h, ",")
		var keep []int
		for _, w := range want {
			for i, c := range cols {
				if c.name == strings.TrimSpace(w) {
					keep = append(keep, i)
				}
			}
		}
		nc := make([]column, len(keep))
		for j, i := range keep {
			nc[j] = cols[i]
		}
		nr := make([][]string, len(rows))
		for k, row := range rows {
			nr[k] = make([]string, len(keep))
			for j, i := range keep {
				nr[k][j] = row[i]
			}
		}
		cols, rows = nc, nr
	}
	return cols, rows
}

// table renders rows as RestTable's text/plain output: every cell padded
// to its column's width, one space between columns, the header with ?v.
func table(r *request, cols []column, rows [][]string) []byte {
	verbose := r.flag("v")
	width := make([]int, len(cols))
	for i, c := range cols {
		if verbose {
			width[i] = len(c.name)
		}
		for _, row := range rows {
			width[i] = max(width[i], len(row[i]))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-len(c))
			if cols[i].right {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
			if i < len(cells)-1 {
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	if verbose {
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = c.name
		}
		line(names)
	}
	for _, row := range rows {
		line(row)
	}
	return []byte(b.String())
}

// cat answers the _cat APIs. Callers hold s.mu.
func (s *Server) cat(r *request, seg []string) routed {
	if len(seg) == 0 {
		return routed{&response{status: 200, ctype: textType, body: []byte(catEndpoints)}, "cat_api", ""}
	}
	now := s.now()
	text := func(b []byte) *response { return &response{status: 200, ctype: textType, body: b} }
	switch seg[0] {
	case "indices":
		expr := "_all"
		if len(seg) > 1 {
			expr = seg[1]
		}
		names, missing := s.resolve(expr)
		if missing != "" {
			return routed{s.notFound(r, missing), "cat_api", expr}
		}
		cols := []column{{"health", false}, {"status", false}, {"index", false}, {"uuid", false}, {"pri", true}, {"rep", true},
			{"docs.count", true}, {"docs.deleted", true}, {"store.size", true}, {"pri.store.size", true}}
		if s.rel.atLeast(8, 11) {
			cols = append(cols, column{"dataset.size", true})
		}
		var rows [][]string
		for _, n := range names {
			ix := s.indices[n]
			size := byteSize(ix.storeSize())
			row := []string{"yellow", "open", n, ix.uuid, "1", "1", itoa(ix.count), itoa(ix.count / 97), size, size}
			if s.rel.atLeast(8, 11) {
				row = append(row, size)
			}
			rows = append(rows, row)
		}
		return routed{s.catTable(r, cols, rows), "cat_api", expr}
	case "nodes":
		cols := []column{{"ip", false}, {"heap.percent", true}, {"ram.percent", true}, {"cpu", true}, {"load_1m", true},
			{"load_5m", true}, {"load_15m", true}, {"node.role", false}, {"master", false}, {"name", false}}
		rng := seeded(s.cfg.Host.Name, "load", strconv.FormatInt(now.Unix()/60, 10))
		l1 := float64(rng.IntN(90)) / 100
		row := []string{s.hostIP(), itoa(30 + rng.IntN(40)), itoa(70 + rng.IntN(25)), itoa(rng.IntN(12)),
			strconv.FormatFloat(l1, 'f', 2, 64), strconv.FormatFloat(l1*0.9, 'f', 2, 64), strconv.FormatFloat(l1*0.8, 'f', 2, 64),
			"cdfhilmrstw", "*", s.node}
		return routed{s.catTable(r, cols, [][]string{row}), "cat_api", ""}
	case "health":
		st, pri, un := s.health()
		cols := []column{{"epoch", true}, {"timestamp", false}, {"cluster", false}, {"status", false}, {"node.total", true},
			{"node.data", true}, {"shards", true}, {"pri", true}, {"relo", true}, {"init", true}, {"unassign", true},
			{"pending_tasks", true}, {"max_task_wait_time", true}, {"active_shards_percent", true}}
		pct := "100.0%"
		if pri+un > 0 {
			pct = strconv.FormatFloat(float64(pri)*100/float64(pri+un), 'f', 1, 64) + "%"
		}
		row := []string{strconv.FormatInt(now.Unix(), 10), now.UTC().Format("15:04:05"), s.cluster, st, "1", "1",
			itoa(pri), itoa(pri), "0", "0", itoa(un), "0", "-", pct}
		return routed{s.catTable(r, cols, [][]string{row}), "cat_api", ""}
	case "master":
		cols := []column{{"id", false}, {"host", false}, {"ip", false}, {"node", false}}
		return routed{s.catTable(r, cols, [][]string{{s.nodeID, s.hostIP(), s.hostIP(), s.node}}), "cat_api", ""}
	case "count":
		n := 0
		for _, ix := range s.indices {
			n += ix.count
		}
		cols := []column{{"epoch", true}, {"timestamp", false}, {"count", true}}
		return routed{s.catTable(r, cols, [][]string{{strconv.FormatInt(now.Unix(), 10), now.UTC().Format("15:04:05"), itoa(n)}}), "cat_api", ""}
	case "shards", "allocation", "aliases", "templates", "plugins", "repositories", "tasks", "pending_tasks", "recovery", "segments", "thread_pool", "fielddata", "nodeattrs":
		return routed{text(nil), "cat_api", ""}
	}
	return routed{}
}
