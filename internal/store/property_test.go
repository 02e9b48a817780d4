package store

import (
	"context"
	"reflect"
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"

	"decnet/internal/event"
)

// testIngestThenLogsProperty: whatever records go in, in whatever batches,
// Logs returns each exactly once, in order, with identical content (once
// made storable: see dialect.record; servers keep microseconds).
func testIngestThenLogsProperty(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
	ctx := context.Background()
	text := rapid.String()
	precision := time.Nanosecond
	if s.d != sqliteDialect {
		precision = time.Microsecond
	}
	rapid.Check(t, func(rt *rapid.T) {
		// Start from an empty store each run.
		for _, table := range []string{"logs", "bounties"} {
			if _, err := s.w.Exec("DELETE FROM " + table); err != nil {
				rt.Fatal(err)
			}
		}
		n := rapid.IntRange(0, 60).Draw(rt, "n")
		recs := make([]event.Record, n)
		for i := range recs {
			fields := rapid.MapOfN(rapid.StringMatching(`[a-z_]{1,8}`), text, 0, 5).Draw(rt, "fields")
			fields["seq"] = strconv.Itoa(i)
			recs[i] = event.Record{
				Timestamp:  time.Unix(0, rapid.Int64Range(0, 4102444800e9).Draw(rt, "ns")).UTC(),
				Decky:      text.Draw(rt, "decky"),
				Service:    text.Draw(rt, "service"),
				EventType:  text.Draw(rt, "type"),
				Severity:   event.Severity(rapid.IntRange(0, 7).Draw(rt, "sev")),
				AttackerIP: text.Draw(rt, "ip"),
				Fields:     fields,
				Msg:        text.Draw(rt, "msg"),
				RawLine:    text.Draw(rt, "raw"),
			}
		}
		for rest := recs; len(rest) > 0; {
			k := rapid.IntRange(1, len(rest)).Draw(rt, "batch")
			if err := s.Ingest(ctx, rest[:k], "cp", []byte("x")); err != nil {
				rt.Fatal(err)
			}
			rest = rest[k:]
		}
		var got []Log
		for after := int64(0); ; {
			p, err := s.Logs(ctx, LogQuery{AfterID: after, Ascending: true, Limit: 7})
			if err != nil {
				rt.Fatal(err)
			}
			if len(p.Data) == 0 {
				break
			}
			got = append(got, p.Data...)
			after = p.Data[len(p.Data)-1].ID
		}
		if len(got) != n {
			rt.Fatalf("%d logs back, %d in", len(got), n)
		}
		for i, l := range got {
			r := s.d.record(recs[i])
			want := Log{ID: l.ID, Timestamp: r.Timestamp.Truncate(precision), Decky: r.Decky, Service: r.Service, EventType: r.EventType,
				Severity: int(r.Severity), AttackerIP: r.AttackerIP, Fields: r.Fields, Msg: r.Msg, RawLine: r.RawLine}
			if !reflect.DeepEqual(l, want) {
				rt.Fatalf("log %d:\n got  %#v\n want %#v", i, l, want)
			}
		}
	})
}
