package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// commandWhere is the condition that a log is a command: a command event
// type and a non-empty command field. Its arguments bind in order.
func (s *SQL) commandWhere() (string, []any) {
	var args []any
	in := make([]string, len(CommandEventTypes))
	for i, t := range CommandEventTypes {
		in[i], args = "?", append(args, t)
	}
	has := make([]string, len(CommandFields))
	for i, f := range CommandFields {
		has[i], args = s.d.jsonText+" <> ''", append(args, s.d.jsonArg(f))
	}
	return "(event_type IN (" + strings.Join(in, ", ") + ") AND (" + strings.Join(has, " OR ") + "))", args
}

// commandText is the command of a command event's fields.
func commandText(fields map[string]string) string {
	for _, f := range CommandFields {
		if v := fields[f]; v != "" {
			return v
		}
	}
	return ""
}

// queryCommands runs a query selecting timestamp, decky, service, fields
// of command logs.
func (s *SQL) queryCommands(ctx context.Context, db queryer, query string, args ...any) ([]Command, error) {
	return queryAll(ctx, db, s.d.q(query), args, scanCommand)
}

func scanCommand(rows *sql.Rows) (Command, error) {
	var c Command
	var fields string
	if err := rows.Scan(timeCol{&c.Timestamp}, &c.Decky, &c.Service, &fields); err != nil {
		return Command{}, err
	}
	var f map[string]string
	if err := json.Unmarshal([]byte(fields), &f); err != nil {
		return Command{}, fmt.Errorf("command fields: %w", err)
	}
	c.Command = commandText(f)
	return c, nil
}

// Activity implements Repository. The counts, seen times, deckies and
// services come from one grouped pass over the attacker's logs.
func (s *SQL) Activity(ctx context.Context, ip string, recent int) (Activity, error) {
	a := Activity{IP: ip, Deckies: []string{}, Services: []string{}, Commands: []Command{}, Recent: []Log{}}
	key := s.d.key(ip)
	isCmd, cmdArgs := s.commandWhere()
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.d.q(`SELECT decky, service, COUNT(*), MIN(id), MIN(timestamp), MAX(timestamp),
			SUM(CASE WHEN `+isCmd+` THEN 1 ELSE 0 END)
			FROM logs WHERE attacker_ip = ? GROUP BY decky, service`), append(cmdArgs, key)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		firstID := map[string]int64{}
		services := map[string]bool{}
		for rows.Next() {
			var decky, service string
			var n, minID, cmds int64
			var first, last time.Time
			if err := rows.Scan(&decky, &service, &n, &minID, timeCol{&first}, timeCol{&last}, &cmds); err != nil {
				return err
			}
			a.EventCount += n
			a.CommandCount += cmds
			if a.FirstSeen.IsZero() || first.Before(a.FirstSeen) {
				a.FirstSeen = first
			}
			if last.After(a.LastSeen) {
				a.LastSeen = last
			}
			if id, ok := firstID[decky]; !ok || minID < id {
				firstID[decky] = minID
			}
			services[service] = true
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for d := range firstID {
			a.Deckies = append(a.Deckies, d)
		}
		slices.SortFunc(a.Deckies, func(x, y string) int { return cmp.Compare(firstID[x], firstID[y]) })
		for svc := range services {
			a.Services = append(a.Services, svc)
		}
		slices.Sort(a.Services)
		if a.CommandCount > 0 {
			if a.Commands, err = s.queryCommands(ctx, tx, `SELECT timestamp, decky, service, fields FROM logs
				WHERE attacker_ip = ? AND `+isCmd+` ORDER BY id DESC LIMIT ?`,
				append(append([]any{key}, cmdArgs...), MaxProfileCommands)...); err != nil {
				return err
			}
			slices.Reverse(a.Commands)
		}
		if recent > 0 && a.EventCount > 0 {
			if a.Recent, err = s.queryLogs(ctx, tx, "SELECT "+logColumns+" FROM logs WHERE attacker_ip = ? ORDER BY id DESC LIMIT ?",
				key, recent); err != nil {
				return err
			}
			slices.Reverse(a.Recent)
		}
		return nil
	})
	if err != nil {
		return Activity{}, fmt.Errorf("activity of %q: %w", ip, err)
	}
	return a, nil
}

// attackerColumns are written by UpsertAttacker after uuid and ip, in
// this order.
var attackerColumns = []string{"first_seen", "last_seen", "event_count", "service_count", "decky_count", "services",
	"deckies", "traversal_path", "is_traversal", "bounty_count", "credential_count", "fingerprints", "command_count", "commands", "updated_at"}

// behaviorColumns are written after attacker_uuid, in this order.
var behaviorColumns = []string{"os_guess", "hop_distance", "tcp_fingerprint", "retransmit_count", "behavior_class",
	"beacon_interval_s", "beacon_jitter_pct", "tool_guesses", "timing_stats", "phase_sequence", "updated_at"}

// jsonText encodes v for a JSON column; nil slices become [].
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// nullIf stores an empty string as NULL.
func nullIf(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// attackerArgs are the values of attackerColumns for a.
func (s *SQL) attackerArgs(a Attacker) ([]any, error) {
	var js [4]string
	for i, v := range []any{orEmpty(a.Services), orEmpty(a.Deckies), orEmpty(a.Fingerprints), orEmpty(a.Commands)} {
		var err error
		if js[i], err = jsonText(v); err != nil {
			return nil, err
		}
	}
	updated := a.UpdatedAt
	if updated.IsZero() {
		updated = time.Now()
	}
	d := s.d
	return []any{d.timeArg(a.FirstSeen), d.timeArg(a.LastSeen), a.EventCount, a.ServiceCount, a.DeckyCount,
		d.text(js[0]), d.text(js[1]), nullIf(d.text(a.TraversalPath)), a.IsTraversal, a.BountyCount, a.CredentialCount,
		d.text(js[2]), a.CommandCount, d.text(js[3]), d.timeArg(updated)}, nil
}

// behaviorArgs are the values of behaviorColumns for b.
func (s *SQL) behaviorArgs(b *Behavior) ([]any, error) {
	var js [4]string
	for i, v := range []any{b.TCPFingerprint, b.ToolGuesses, b.TimingStats, b.PhaseSequence} {
		var err error
		if js[i], err = jsonText(v); err != nil {
			return nil, err
		}
	}
	updated := b.UpdatedAt
	if updated.IsZero() {
		updated = time.Now()
	}
	d := s.d
	return []any{nullIf(d.text(b.OSGuess)), b.HopDistance, js[0], b.RetransmitCount, nullIf(d.text(b.BehaviorClass)),
		b.BeaconIntervalS, b.BeaconJitterPct, js[1], js[2], js[3], d.timeArg(updated)}, nil
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// UpsertAttacker implements Repository. A concurrent insert of the same
// IP (servers only: SQLite has one writer) makes the insert fail on the
// unique key; the retry then finds the row and updates it.
func (s *SQL) UpsertAttacker(ctx context.Context, a Attacker) (string, error) {
	if a.IP == "" {
		return "", fmt.Errorf("upsert attacker: %w: no IP", ErrBadQuery)
	}
	args, err := s.attackerArgs(a)
	if err != nil {
		return "", fmt.Errorf("upsert attacker %q: %w", a.IP, err)
	}
	var bargs []any
	if a.Behavior != nil {
		if bargs, err = s.behaviorArgs(a.Behavior); err != nil {
			return "", fmt.Errorf("upsert attacker %q behavior: %w", a.IP, err)
		}
	}
	for attempt := 1; ; attempt++ {
		uuid, err := s.upsertAttacker(ctx, s.d.key(a.IP), a.UUID, args, bargs)
		if err != nil && s.d.isUnique(err) && attempt < 3 {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("upsert attacker %q: %w", a.IP, err)
		}
		return uuid, nil
	}
}

func (s *SQL) upsertAttacker(ctx context.Context, ip, uuid string, args, bargs []any) (string, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	var stored string
	err = tx.QueryRowContext(ctx, s.d.q("SELECT uuid FROM attackers WHERE ip = ?"), ip).Scan(&stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if stored = uuid; stored == "" {
			stored = newUUID()
		}
		_, err = tx.ExecContext(ctx, s.d.q("INSERT INTO attackers (uuid, ip, "+strings.Join(attackerColumns, ", ")+
			") VALUES ("+placeholders(len(attackerColumns)+2)+")"), append([]any{stored, ip}, args...)...)
	case err == nil:
		_, err = tx.ExecContext(ctx, s.d.q("UPDATE attackers SET "+strings.Join(attackerColumns, " = ?, ")+" = ? WHERE uuid = ?"),
			append(args, stored)...)
	}
	if err != nil {
		return "", err
	}
	if bargs != nil {
		if _, err := tx.ExecContext(ctx, s.d.q("INSERT INTO attacker_behavior (attacker_uuid, "+strings.Join(behaviorColumns, ", ")+
			") VALUES ("+placeholders(len(behaviorColumns)+1)+")"+s.d.upsertSet("attacker_uuid", behaviorColumns...)),
			append([]any{stored}, bargs...)...); err != nil {
			return "", err
		}
	}
	return stored, tx.Commit()
}

// attackerSelect reads an attacker with its behaviour (NULLs when it has
// none).
const attackerSelect = `SELECT a.uuid, a.ip, a.first_seen, a.last_seen, a.event_count, a.service_count, a.decky_count,
	a.services, a.deckies, a.traversal_path, a.is_traversal, a.bounty_count, a.credential_count, a.fingerprints,
	a.command_count, a.commands, a.updated_at, b.attacker_uuid, b.os_guess, b.hop_distance, b.tcp_fingerprint, b.retransmit_count,
	b.behavior_class, b.beacon_interval_s, b.beacon_jitter_pct, b.tool_guesses, b.timing_stats, b.phase_sequence,
	b.updated_at
	FROM attackers a LEFT JOIN attacker_behavior b ON b.attacker_uuid = a.uuid`

// attackerOrders are the ORDER BY of each sort; ip breaks ties so pages
// are stable, in the same direction so one index serves each order.
var attackerOrders = map[string]string{
	"":             " ORDER BY a.last_seen DESC, a.ip DESC",
	SortRecent:     " ORDER BY a.last_seen DESC, a.ip DESC",
	SortActive:     " ORDER BY a.event_count DESC, a.ip DESC",
	SortTraversals: " ORDER BY a.is_traversal DESC, a.last_seen DESC, a.ip DESC",
}

// Attackers implements Repository.
func (s *SQL) Attackers(ctx context.Context, q AttackerQuery) (Page[Attacker], error) {
	order, ok := attackerOrders[q.SortBy]
	if !ok {
		return Page[Attacker]{}, fmt.Errorf("attackers: %w: sort %q: want recent, active or traversals", ErrBadQuery, q.SortBy)
	}
	var conds []string
	var args []any
	if q.Search != "" {
		conds, args = append(conds, s.d.like("a.ip")), append(args, likeEscape(s.d.text(q.Search)))
	}
	if q.Service != "" {
		conds, args = append(conds, s.d.jsonHas), append(args, s.d.text(q.Service))
	}
	if q.Traversal {
		conds, args = append(conds, "a.is_traversal = ?"), append(args, true)
	}
	p := Page[Attacker]{Data: []Attacker{}}
	p.Limit, p.Offset = clampPage(q.Limit, q.Offset)
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, s.d.q("SELECT COUNT(*) FROM attackers a"+where(conds)), args...).Scan(&p.Total); err != nil {
			return err
		}
		var err error
		p.Data, err = s.queryAttackers(ctx, tx, attackerSelect+where(conds)+order+" LIMIT ? OFFSET ?", append(args, p.Limit, p.Offset)...)
		return err
	})
	if err != nil {
		return Page[Attacker]{}, fmt.Errorf("attackers: %w", err)
	}
	return p, nil
}

// Attacker implements Repository.
func (s *SQL) Attacker(ctx context.Context, uuid string) (Attacker, error) {
	as, err := s.queryAttackers(ctx, s.r, attackerSelect+" WHERE a.uuid = ?", uuid)
	if err != nil {
		return Attacker{}, fmt.Errorf("attacker %q: %w", uuid, err)
	}
	if len(as) == 0 {
		return Attacker{}, fmt.Errorf("attacker %q: %w", uuid, ErrNotFound)
	}
	return as[0], nil
}

func (s *SQL) queryAttackers(ctx context.Context, db queryer, query string, args ...any) ([]Attacker, error) {
	return queryAll(ctx, db, s.d.q(query), args, scanAttacker)
}

func scanAttacker(rows *sql.Rows) (Attacker, error) {
	var a Attacker
	var b Behavior
	var services, deckies, fingerprints, commands string
	var path, buuid, osGuess, class, tcp, tools, timing, phase sql.NullString
	var hop, retrans sql.NullInt64
	var interval, jitter sql.NullFloat64
	if err := rows.Scan(&a.UUID, &a.IP, timeCol{&a.FirstSeen}, timeCol{&a.LastSeen}, &a.EventCount, &a.ServiceCount,
		&a.DeckyCount, &services, &deckies, &path, &a.IsTraversal, &a.BountyCount, &a.CredentialCount, &fingerprints,
		&a.CommandCount, &commands, timeCol{&a.UpdatedAt}, &buuid, &osGuess, &hop, &tcp, &retrans, &class, &interval, &jitter,
		&tools, &timing, &phase, timeCol{&b.UpdatedAt}); err != nil {
		return Attacker{}, err
	}
	a.TraversalPath = path.String
	for _, j := range []struct {
		text string
		v    any
	}{{services, &a.Services}, {deckies, &a.Deckies}, {fingerprints, &a.Fingerprints}, {commands, &a.Commands}} {
		if err := json.Unmarshal([]byte(j.text), j.v); err != nil {
			return Attacker{}, fmt.Errorf("attacker %s: %w", a.UUID, err)
		}
	}
	if buuid.Valid {
		b.OSGuess, b.BehaviorClass, b.RetransmitCount = osGuess.String, class.String, int(retrans.Int64)
		if hop.Valid {
			h := int(hop.Int64)
			b.HopDistance = &h
		}
		if interval.Valid {
			b.BeaconIntervalS = &interval.Float64
		}
		if jitter.Valid {
			b.BeaconJitterPct = &jitter.Float64
		}
		for _, j := range []struct {
			text sql.NullString
			v    any
		}{{tcp, &b.TCPFingerprint}, {tools, &b.ToolGuesses}, {timing, &b.TimingStats}, {phase, &b.PhaseSequence}} {
			if j.text.Valid {
				if err := json.Unmarshal([]byte(j.text.String), j.v); err != nil {
					return Attacker{}, fmt.Errorf("attacker %s behavior: %w", a.UUID, err)
				}
			}
		}
		a.Behavior = &b
	}
	return a, nil
}

// attackerIP is the IP of the attacker uuid, or ErrNotFound.
func (s *SQL) attackerIP(ctx context.Context, db queryer, uuid string) (string, error) {
	var ip string
	err := db.QueryRowContext(ctx, s.d.q("SELECT ip FROM attackers WHERE uuid = ?"), uuid).Scan(&ip)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("attacker %q: %w", uuid, ErrNotFound)
	}
	return ip, err
}

// AttackerCommands implements Repository.
func (s *SQL) AttackerCommands(ctx context.Context, uuid string, q CommandQuery) (Page[Command], error) {
	isCmd, cmdArgs := s.commandWhere()
	p := Page[Command]{Data: []Command{}}
	p.Limit, p.Offset = clampPage(q.Limit, q.Offset)
	err := s.read(ctx, func(tx *sql.Tx) error {
		ip, err := s.attackerIP(ctx, tx, uuid)
		if err != nil {
			return err
		}
		conds, args := []string{"attacker_ip = ?", isCmd}, append([]any{ip}, cmdArgs...)
		if q.Service != "" {
			conds, args = append(conds, "service = ?"), append(args, s.d.key(q.Service))
		}
		if err := tx.QueryRowContext(ctx, s.d.q("SELECT COUNT(*) FROM logs"+where(conds)), args...).Scan(&p.Total); err != nil {
			return err
		}
		p.Data, err = s.queryCommands(ctx, tx, "SELECT timestamp, decky, service, fields FROM logs"+where(conds)+
			" ORDER BY id DESC LIMIT ? OFFSET ?", append(args, p.Limit, p.Offset)...)
		return err
	})
	if err != nil {
		return Page[Command]{}, fmt.Errorf("commands: %w", err)
	}
	return p, nil
}

// eventFileCaptured is the event of a file an attacker uploaded or
// fetched, whose fields name the stored artifact.
const eventFileCaptured = "file_captured"

// AttackerArtifacts implements Repository; limit is clamped as a page's.
func (s *SQL) AttackerArtifacts(ctx context.Context, uuid string, limit int) (Page[Log], error) {
	p := Page[Log]{Data: []Log{}}
	p.Limit, _ = clampPage(limit, 0)
	err := s.read(ctx, func(tx *sql.Tx) error {
		ip, err := s.attackerIP(ctx, tx, uuid)
		if err != nil {
			return err
		}
		const w = " WHERE attacker_ip = ? AND event_type = ?"
		if err := tx.QueryRowContext(ctx, s.d.q("SELECT COUNT(*) FROM logs"+w), ip, eventFileCaptured).Scan(&p.Total); err != nil {
			return err
		}
		p.Data, err = s.queryLogs(ctx, tx, "SELECT "+logColumns+" FROM logs"+w+" ORDER BY id DESC LIMIT ?", ip, eventFileCaptured, p.Limit)
		return err
	})
	if err != nil {
		return Page[Log]{}, fmt.Errorf("artifacts: %w", err)
	}
	return p, nil
}
