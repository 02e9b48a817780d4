package event

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Record is one line of the JSON-lines ingest file: an event as the store
// keeps it. It is what the ingester reads and what a log row holds.
type Record struct {
	Timestamp  time.Time         `json:"timestamp"`
	Decky      string            `json:"decky"`
	Service    string            `json:"service"`
	EventType  string            `json:"event_type"`
	Severity   Severity          `json:"severity"`
	AttackerIP string            `json:"attacker_ip"`
	Fields     map[string]string `json:"fields"`
	Msg        string            `json:"msg"`
	RawLine    string            `json:"raw_line"`
}

// NewRecord builds the ingest record of an event, with its RFC 5424 line.
func NewRecord(e Event) Record {
	// The line carries microseconds; the record keeps the same instant.
	e.Time = e.Time.Truncate(time.Microsecond)
	return recordOf(e, Format(e))
}

// ParseRecord parses an RFC 5424 line (its newline, if any, dropped) into an ingest record that keeps the
// line as it came. Native syslog lines with MSGID "-" keep "-" as their type
// so they are never mistaken for a typed event.
func ParseRecord(line string) (Record, error) {
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	l, err := Parse(line)
	if err != nil {
		return Record{}, err
	}
	r := recordOf(l.Event, line)
	if r.EventType == "" {
		r.EventType = "-"
	}
	return r, nil
}

func recordOf(e Event, raw string) Record {
	fields := e.Fields
	if fields == nil {
		fields = map[string]string{}
	}
	return Record{
		Timestamp:  e.Time.UTC(),
		Decky:      e.Decky,
		Service:    e.Service,
		EventType:  e.Type,
		Severity:   e.Severity,
		AttackerIP: AttackerIP(fields, e.Msg),
		Fields:     fields,
		Msg:        e.Msg,
		RawLine:    raw,
	}
}

// Event returns the event the record holds.
func (r Record) Event() Event {
	return Event{Time: r.Timestamp, Decky: r.Decky, Service: r.Service, Type: r.EventType,
		Severity: r.Severity, Fields: r.Fields, Msg: r.Msg}
}

// AttackerIP names the attacker of an event: the first of the known address
// fields (src_ip first), else a key=value pair with such a key in the
// message (how the original attributed bash command lines), else Unknown.
func AttackerIP(fields map[string]string, msg string) string {
	for _, k := range attackerKeys {
		if v := fields[k]; v != "" {
			return v
		}
	}
	if msg != "" {
		for _, tok := range strings.Fields(msg) {
			k, v, ok := strings.Cut(tok, "=")
			if !ok || v == "" {
				continue
			}
			for _, ak := range attackerKeys {
				if k == ak {
					return v
				}
			}
		}
	}
	return Unknown
}

// legacyTimeLayouts are the timestamps the original's JSON records carry.
var legacyTimeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"}

// wireRecord is a Record as it stands in JSON, before defaults apply.
type wireRecord struct {
	Timestamp  string            `json:"timestamp"`
	Decky      string            `json:"decky"`
	Service    string            `json:"service"`
	EventType  string            `json:"event_type"`
	Severity   *int              `json:"severity"`
	AttackerIP string            `json:"attacker_ip"`
	Fields     map[string]string `json:"fields"`
	Msg        string            `json:"msg"`
	RawLine    string            `json:"raw_line"`
}

// UnmarshalJSON accepts our records and the original system's, whose
// timestamps are "YYYY-MM-DD HH:MM:SS" in UTC and whose severity is absent.
// Lines as the emitter writes them take a fast path (the ingester's hot
// loop); anything else goes through encoding/json, with the same result.
func (r *Record) UnmarshalJSON(b []byte) error {
	var w wireRecord
	if !decodeFast(b, &w) {
		w = wireRecord{}
		if err := json.Unmarshal(b, &w); err != nil {
			return err
		}
	}
	*r = Record{Decky: w.Decky, Service: w.Service, EventType: w.EventType, AttackerIP: w.AttackerIP,
		Fields: w.Fields, Msg: w.Msg, RawLine: w.RawLine, Severity: Info}
	if w.Severity != nil {
		r.Severity = Severity(*w.Severity)
	}
	if w.Timestamp == "" {
		return fmt.Errorf("record has no timestamp")
	}
	for _, layout := range legacyTimeLayouts {
		if t, err := time.Parse(layout, w.Timestamp); err == nil {
			r.Timestamp = t.UTC()
			break
		}
	}
	if r.Timestamp.IsZero() {
		return fmt.Errorf("record timestamp %q is not a time", w.Timestamp)
	}
	if r.Fields == nil {
		r.Fields = map[string]string{}
	}
	if r.AttackerIP == "" {
		r.AttackerIP = AttackerIP(r.Fields, r.Msg)
	}
	return nil
}
