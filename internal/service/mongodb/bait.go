package mongodb

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"time"
)

// oid makes a stable ObjectId for bait: a creation time and a counter.
func oid(unix uint32, n uint32) objectID {
	var o objectID
	binary.BigEndian.PutUint32(o[:], unix)
	copy(o[4:], []byte{0x5e, 0x1a, 0x9c, 0x03, 0x77})
	o[9], o[10], o[11] = byte(n>>16), byte(n>>8), byte(n)
	return o
}

// baitData is what an open mongod of a small web shop holds: customers
// with contact details, staff logins with password hashes, and orders.
func baitData() map[string]map[string][]doc {
	t := uint32(1709251200) // March 2024
	customers := []doc{}
	people := []struct{ first, last, city, card string }{
		{"Olivia", "Martin", "Lyon", "4539 **** **** 1842"},
		{"James", "Walker", "Leeds", "5425 **** **** 9031"},
		{"Sofia", "Romano", "Turin", "4716 **** **** 2274"},
		{"Lukas", "Becker", "Bremen", "4929 **** **** 6610"},
		{"Emma", "Jansen", "Utrecht", "5301 **** **** 4418"},
	}
	for i, p := range people {
		customers = append(customers, doc{
			{"_id", oid(t+uint32(i)*86400, uint32(i+1))},
			{"firstName", p.first}, {"lastName", p.last},
			{"email", strings.ToLower(p.first+"."+p.last) + "@example.com"},
			{"phone", fmt.Sprintf("+44 7700 9%05d", 10233+i*7919)},
			{"city", p.city}, {"card", p.card},
			{"createdAt", dateTime(int64(t+uint32(i)*86400) * 1000)},
		})
	}
	users := []doc{
		{{"_id", oid(t-86400*90, 1)}, {"username", "admin"}, {"email", "admin@example.com"}, {"role", "admin"},
			{"password", "$2b$12$Q0R8p1m2Zx1uS9gM8cYb3eH4uWlq2Y1j0qf7H7C3t6oB8oZ0Y5w1K"}},
		{{"_id", oid(t-86400*60, 2)}, {"username", "deploy"}, {"email", "ops@example.com"}, {"role", "service"},
			{"password", "$2b$12$8fJx7n5Kq2Lr9Tb1Vz0eUO0sJ4m6Yp3Wc2Qx9Ld5Hg7Nf1Ra8Su2i"}, {"apiKey", "sk_live_4f9a1c7e2b8d3f6a0e5c9b2d7a1f4e8c"}},
		{{"_id", oid(t-86400*30, 3)}, {"username", "j.walker"}, {"email", "james.walker@example.com"}, {"role", "support"},
			{"password", "$2b$12$Zk3Lm9Qw2Er5Ty8Ui1Op4AsDf7Gh0Jk3Lz6Xc9Vb2Nm5Qw8Er1Ty4"}},
	}
	orders := []doc{}
	for i := range 4 {
		orders = append(orders, doc{
			{"_id", oid(t+uint32(i)*43200, uint32(100+i))}, {"orderNo", int32(10231 + i)},
			{"customer", customers[i%len(customers)].str("email")},
			{"total", []float64{89.9, 249.0, 18.5, 1240.0}[i]}, {"currency", "EUR"}, {"status", []string{"shipped", "paid", "refunded", "paid"}[i]},
		})
	}
	return map[string]map[string][]doc{
		"admin":  {"system.version": {{{"_id", "featureCompatibilityVersion"}, {"version", "6.0"}}}},
		"config": {"system.sessions": nil},
		"local":  {"startup_log": nil},
		"shop":   {"customers": customers, "orders": orders},
		"webapp": {"users": users, "sessions": nil},
	}
}

// newObjectID is a fresh ObjectId: seconds, then random bytes.
func newObjectID(t time.Time) objectID {
	var o objectID
	binary.BigEndian.PutUint32(o[:], uint32(t.Unix()))
	rand.Read(o[4:])
	return o
}

func newStore() *store {
	return &store{dbs: baitData()}
}

// dbNames lists the databases in name order, as listDatabases does.
func (st *store) dbNames() []string {
	names := make([]string, 0, len(st.dbs))
	for n := range st.dbs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// sizeOf is a plausible sizeOnDisk for a database: WiredTiger files grow
// in 4 KiB pages, two files (data and _id index) per collection.
func sizeOf(colls map[string][]doc) int64 {
	var n int64
	for _, docs := range colls {
		bytes := 0
		for _, d := range docs {
			bytes += len(appendDoc(nil, d))
		}
		n += 2*4096 + int64((bytes+4095)/4096)*4096
	}
	if n == 0 {
		n = 8192
	}
	return n
}

func (s *Server) listDatabases(_ *client, _ string, cmd doc) doc {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	nameOnly := truthy(fieldValue(cmd.get("nameOnly")))
	var dbs []any
	var total int64
	for _, n := range st.dbNames() {
		if nameOnly {
			dbs = append(dbs, doc{{"name", n}})
			continue
		}
		size := sizeOf(st.dbs[n])
		total += size
		dbs = append(dbs, doc{{"name", n}, {"sizeOnDisk", size}, {"empty", false}})
	}
	if nameOnly {
		return doc{{"databases", dbs}, {"ok", 1.0}}
	}
	return doc{{"databases", dbs}, {"totalSize", total}, {"totalSizeMb", total >> 20}, {"ok", 1.0}}
}

// uuidOf is a stable collection UUID (binary subtype 4).
func uuidOf(db, coll string) binaryVal {
	var u [16]byte
	h := fnv64(db + "." + coll)
	binary.BigEndian.PutUint64(u[:], h)
	binary.BigEndian.PutUint64(u[8:], fnv64(coll+"/"+db))
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return binaryVal{4, u[:]}
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func cursorDoc(ns string, batch []any, idFirst bool) doc {
	if batch == nil {
		batch = []any{}
	}
	if idFirst {
		return doc{{"cursor", doc{{"id", int64(0)}, {"ns", ns}, {"firstBatch", batch}}}, {"ok", 1.0}}
	}
	return doc{{"cursor", doc{{"firstBatch", batch}, {"id", int64(0)}, {"ns", ns}}}, {"ok", 1.0}}
}

func (s *Server) listCollections(_ *client, db string, cmd doc) doc {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	nameOnly := truthy(fieldValue(cmd.get("nameOnly")))
	names := []string{}
	for n := range st.dbs[db] {
		names = append(names, n)
	}
	sort.Strings(names)
	filter := cmd.sub("filter")
	var batch []any
	for _, n := range names {
		if want := filter.str("name"); want != "" && want != n {
			continue
		}
		if nameOnly {
			batch = append(batch, doc{{"name", n}, {"type", "collection"}})
			continue
		}
		batch = append(batch, doc{
			{"name", n}, {"type", "collection"}, {"options", doc{}},
			{"info", doc{{"readOnly", false}, {"uuid", uuidOf(db, n)}}},
			{"idIndex", doc{{"v", int32(2)}, {"key", doc{{"_id", int32(1)}}}, {"name", "_id_"}}},
		})
	}
	return cursorDoc(db+".$cmd.listCollections", batch, true)
}

func (s *Server) listIndexes(_ *client, db string, cmd doc) doc {
	coll := cmd.str("listIndexes")
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.dbs[db][coll]; !ok {
		return errorDoc(26, "NamespaceNotFound", "ns does not exist: "+db+"."+coll)
	}
	return cursorDoc(db+"."+coll, []any{doc{{"v", int32(2)}, {"key", doc{{"_id", int32(1)}}}, {"name", "_id_"}}}, true)
}

// matches applies an equality filter on top-level fields; operators
// ($gt, $regex, ...) match everything, which is enough for bait.
func matches(d, filter doc) bool {
	for _, f := range filter {
		if strings.HasPrefix(f.Key, "$") {
			continue
		}
		if _, isOp := f.Val.(doc); isOp {
			continue
		}
		v, ok := d.get(f.Key)
		if !ok || toJSON(v) != toJSON(f.Val) {
			return false
		}
	}
	return true
}

// selectDocs returns the documents of db.coll matching filter, after skip,
// at most limit (0: no limit).
func (st *store) selectDocs(db, coll string, filter doc, skip, limit int64) []any {
	var out []any
	for _, d := range st.dbs[db][coll] {
		if !matches(d, filter) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		out = append(out, d)
		if limit > 0 && int64(len(out)) >= limit {
			break
		}
	}
	return out
}

func (s *Server) find(_ *client, db string, cmd doc) doc {
	coll := cmd.str("find")
	skip, _ := number(fieldValue(cmd.get("skip")))
	limit, _ := number(fieldValue(cmd.get("limit")))
	if limit < 0 {
		limit = -limit
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	return cursorDoc(db+"."+coll, st.selectDocs(db, coll, cmd.sub("filter"), skip, limit), false)
}

func (s *Server) count(_ *client, db string, cmd doc) doc {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	return doc{{"n", int32(len(st.selectDocs(db, cmd.str("count"), cmd.sub("query"), 0, 0)))}, {"ok", 1.0}}
}

// aggregate runs the stages drivers use to count and page ($match, $skip,
// $limit, $count and a {$group: {_id: 1, n: {$sum: 1}}}); other stages
// pass documents through.
func (s *Server) aggregate(_ *client, db string, cmd doc) doc {
	coll, _ := fieldValue(cmd.get("aggregate")).(string)
	st := s.store
	st.mu.Lock()
	docs := st.selectDocs(db, coll, nil, 0, 0)
	st.mu.Unlock()
	pipeline, _ := fieldValue(cmd.get("pipeline")).([]any)
	for _, stage := range pipeline {
		sd, ok := stage.(doc)
		if !ok || len(sd) == 0 {
			continue
		}
		switch sd[0].Key {
		case "$match":
			f, _ := sd[0].Val.(doc)
			var kept []any
			for _, d := range docs {
				if matches(d.(doc), f) {
					kept = append(kept, d)
				}
			}
			docs = kept
		case "$skip":
			n, _ := number(sd[0].Val)
			docs = docs[min(max(n, 0), int64(len(docs))):]
		case "$limit":
			n, _ := number(sd[0].Val)
			docs = docs[:min(max(n, 0), int64(len(docs)))]
		case "$count":
			name, _ := sd[0].Val.(string)
			if len(docs) > 0 {
				docs = []any{doc{{name, int32(len(docs))}}}
			}
		case "$group":
			g, _ := sd[0].Val.(doc)
			if len(docs) > 0 && len(g) == 2 {
				docs = []any{doc{{"_id", g[0].Val}, {g[1].Key, int32(len(docs))}}}
			}
		}
	}
	return cursorDoc(db+"."+coll, docs, false)
}

func (s *Server) getMore(_ *client, _ string, cmd doc) doc {
	id, _ := number(fieldValue(cmd.get("getMore")))
	return errorDoc(43, "CursorNotFound", fmt.Sprintf("cursor id %d not found", id))
}

func (s *Server) killCursors(_ *client, _ string, cmd doc) doc {
	ids, _ := fieldValue(cmd.get("cursors")).([]any)
	if ids == nil {
		ids = []any{}
	}
	return doc{{"cursorsKilled", []any{}}, {"cursorsNotFound", ids}, {"cursorsAlive", []any{}}, {"cursorsUnknown", []any{}}, {"ok", 1.0}}
}

// room makes db.coll exist if the store's bounds allow and says whether
// it does.
func (st *store) room(db, coll string) bool {
	colls, ok := st.dbs[db]
	if !ok {
		if len(st.dbs) >= maxDBs {
			return false
		}
		colls = map[string][]doc{}
		st.dbs[db] = colls
	}
	if _, ok := colls[coll]; !ok {
		if len(colls) >= maxColls {
			return false
		}
		colls[coll] = nil
	}
	return true
}

func (s *Server) insert(_ *client, db string, cmd doc) doc {
	coll := cmd.str("insert")
	docs, _ := fieldValue(cmd.get("documents")).([]any)
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	n := int32(0)
	if st.room(db, coll) {
		for _, d := range docs {
			dd, ok := d.(doc)
			if _, hasID := dd.get("_id"); ok && !hasID {
				// The server gives a document without one an ObjectId, first.
				dd = append(doc{{"_id", newObjectID(s.now())}}, dd...)
			}
			size := len(appendDoc(nil, dd))
			if !ok || len(st.dbs[db][coll]) >= maxDocsPerColl || st.bytes+size > maxStoreBytes {
				break
			}
			st.dbs[db][coll] = append(st.dbs[db][coll], dd)
			st.bytes += size
			n++
		}
	}
	return doc{{"n", n}, {"ok", 1.0}}
}

func (s *Server) delete(_ *client, db string, cmd doc) doc {
	coll := cmd.str("delete")
	dels, _ := fieldValue(cmd.get("deletes")).([]any)
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	n := int32(0)
	for _, d := range dels {
		dd, _ := d.(doc)
		q := dd.sub("q")
		var kept []doc
		for _, x := range st.dbs[db][coll] {
			if matches(x, q) {
				n++
				continue
			}
			kept = append(kept, x)
		}
		if _, ok := st.dbs[db][coll]; ok {
			st.dbs[db][coll] = kept
		}
	}
	return doc{{"n", n}, {"ok", 1.0}}
}

// update records the change but leaves the bait as it was: the reply says
// the documents matched were modified.
func (s *Server) update(_ *client, db string, cmd doc) doc {
	coll := cmd.str("update")
	ups, _ := fieldValue(cmd.get("updates")).([]any)
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	n := int32(0)
	for _, u := range ups {
		ud, _ := u.(doc)
		m := int32(len(st.selectDocs(db, coll, ud.sub("q"), 0, 0)))
		if !truthy(fieldValue(ud.get("multi"))) {
			m = min(m, 1)
		}
		n += m
	}
	return doc{{"n", n}, {"nModified", n}, {"ok", 1.0}}
}

func (s *Server) drop(_ *client, db string, cmd doc) doc {
	coll := cmd.str("drop")
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.dbs[db][coll]; !ok {
		return errorDoc(26, "NamespaceNotFound", "ns not found")
	}
	delete(st.dbs[db], coll)
	if len(st.dbs[db]) == 0 {
		delete(st.dbs, db)
	}
	return doc{{"nIndexesWas", int32(1)}, {"ns", db + "." + coll}, {"ok", 1.0}}
}

func (s *Server) dropDatabase(_ *client, db string, _ doc) doc {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if db != "admin" && db != "config" && db != "local" {
		delete(st.dbs, db)
	}
	return doc{{"ok", 1.0}, {"dropped", db}}
}

func (s *Server) create(_ *client, db string, cmd doc) doc {
	coll := cmd.str("create")
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.dbs[db][coll]; ok {
		return errorDoc(48, "NamespaceExists", "Collection "+db+"."+coll+" already exists.")
	}
	st.room(db, coll)
	return okDoc()
}
