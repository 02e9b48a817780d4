// Package store is the persistence of events, bounties, users and worker
// state behind one Repository interface. SQLite (embedded, pure Go) is the
// default implementation; MySQL and PostgreSQL implement the same interface.
package store

import (
	"context"
	"errors"
	"time"

	"decnet/internal/event"
)

// Errors callers test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	ErrBadQuery = errors.New("bad query")
)

// Log is one stored event (a row of the logs table).
type Log struct {
	ID         int64             `json:"id"`
	Timestamp  time.Time         `json:"timestamp"`
	Decky      string            `json:"decky"`
	Service    string            `json:"service"`
	EventType  string            `json:"event_type"`
	Severity   int               `json:"severity"`
	AttackerIP string            `json:"attacker_ip"`
	Fields     map[string]string `json:"fields"`
	Msg        string            `json:"msg"`
	RawLine    string            `json:"raw_line"`
}

// LogQuery selects logs. Search is the search language: whitespace-separated
// terms, ANDed; `key:value` matches a column (decky, service, event,
// attacker / attacker_ip / attacker-ip) or else a field; a bare word matches
// a substring of the raw line, decky, service or attacker IP; values may be
// double-quoted to hold spaces.
type LogQuery struct {
	Search  string
	Since   time.Time // inclusive; zero means unbounded
	Until   time.Time // exclusive; zero means unbounded
	AfterID int64     // only rows with a larger id (live streaming)
	Limit   int
	Offset  int
	// Ascending orders by id ascending (streaming); the default is newest first.
	Ascending bool
}

// Page is one page of a list.
type Page[T any] struct {
	Total  int64 `json:"total"`
	Limit  int   `json:"limit"`
	Offset int   `json:"offset"`
	Data   []T   `json:"data"`
}

// Bounty is something of value an attacker revealed: a credential, a
// fingerprint, a payload.
type Bounty struct {
	ID         int64          `json:"id"`
	Timestamp  time.Time      `json:"timestamp"`
	Decky      string         `json:"decky"`
	Service    string         `json:"service"`
	AttackerIP string         `json:"attacker_ip"`
	BountyType string         `json:"bounty_type"`
	Payload    map[string]any `json:"payload"`
}

// BountyQuery selects bounties.
type BountyQuery struct {
	Type   string // exact bounty_type, or all
	Search string // substring of decky, service, attacker IP or payload
	Limit  int
	Offset int
}

// Stats are the store's counters.
type Stats struct {
	TotalLogs       int64 `json:"total_logs"`
	UniqueAttackers int64 `json:"unique_attackers"`
	TotalBounties   int64 `json:"total_bounties"`
}

// Roles of users.
const (
	RoleAdmin  = "admin"
	RoleViewer = "viewer"
)

// User is an account of the API.
type User struct {
	UUID               string    `json:"uuid"`
	Username           string    `json:"username"`
	PasswordHash       string    `json:"-"`
	Role               string    `json:"role"`
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
}

// Repository is everything the workers and the API need from a store.
// Implementations are safe for concurrent use.
type Repository interface {
	// Ingest stores recs as logs, with the bounties they reveal, and sets
	// the state key checkpointKey to checkpoint, all in one transaction: a
	// crash leaves either all of it or none.
	Ingest(ctx context.Context, recs []event.Record, checkpointKey string, checkpoint []byte) error

	Logs(ctx context.Context, q LogQuery) (Page[Log], error)
	Bounties(ctx context.Context, q BountyQuery) (Page[Bounty], error)
	Stats(ctx context.Context) (Stats, error)

	// State returns the value stored under key, or ErrNotFound.
	State(ctx context.Context, key string) ([]byte, error)
	SetState(ctx context.Context, key string, value []byte) error

	CreateUser(ctx context.Context, u User) error // ErrConflict on a taken username
	UserByName(ctx context.Context, username string) (User, error)
	UserByUUID(ctx context.Context, uuid string) (User, error)
	SetPassword(ctx context.Context, uuid, hash string, mustChange bool) error
	CountUsers(ctx context.Context) (int64, error)

	// Ping checks the store answers.
	Ping(ctx context.Context) error
	Close() error
}
