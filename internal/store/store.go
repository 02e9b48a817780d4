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
	// ErrLastAdmin: deleting or demoting that user would leave no admin,
	// and nobody could manage users any more.
	ErrLastAdmin = errors.New("the last admin cannot be deleted or demoted")
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
	// NoTotal skips counting the matches (Page.Total stays 0): the count
	// costs far more than a page, and callers that page through one search
	// count once with CountLogs.
	NoTotal bool
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

// ServiceCount is how many logs one service has.
type ServiceCount struct {
	Service string `json:"service"`
	Count   int64  `json:"count"`
}

// Roles of users, from least to most privileged: a viewer reads
// everything but artifact bytes; an analyst also downloads artifacts,
// forces mutations and sets mutation intervals; an admin does everything.
const (
	RoleViewer  = "viewer"
	RoleAnalyst = "analyst"
	RoleAdmin   = "admin"
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
	// CountLogs counts the logs q selects (its paging fields are ignored).
	CountLogs(ctx context.Context, q LogQuery) (int64, error)
	Bounties(ctx context.Context, q BountyQuery) (Page[Bounty], error)
	Stats(ctx context.Context) (Stats, error)
	// ServiceCounts counts the logs of each service, most logs first
	// (ties by service name), at most limit of them.
	ServiceCounts(ctx context.Context, limit int) ([]ServiceCount, error)

	// State returns the value stored under key, or ErrNotFound.
	State(ctx context.Context, key string) ([]byte, error)
	SetState(ctx context.Context, key string, value []byte) error

	CreateUser(ctx context.Context, u User) error // ErrConflict on a taken username
	UserByName(ctx context.Context, username string) (User, error)
	UserByUUID(ctx context.Context, uuid string) (User, error)
	SetPassword(ctx context.Context, uuid, hash string, mustChange bool) error
	CountUsers(ctx context.Context) (int64, error)
	ListUsers(ctx context.Context) ([]User, error)        // oldest first
	DeleteUser(ctx context.Context, uuid string) error    // ErrNotFound, ErrLastAdmin
	SetRole(ctx context.Context, uuid, role string) error // ErrNotFound, ErrLastAdmin

	// Histogram counts the logs q selects (its Limit, Offset, AfterID
	// and Ascending are ignored) per interval-wide bucket aligned on the
	// Unix epoch, oldest bucket first; empty buckets are left out.
	Histogram(ctx context.Context, q LogQuery, interval time.Duration) ([]Bucket, error)
	// MaxLogID is the id of the newest log, 0 when there is none.
	MaxLogID(ctx context.Context) (int64, error)
	// LogsAfter returns up to limit logs with id > afterID, oldest first,
	// without counting a total (the profiler's and the stream's cursor).
	LogsAfter(ctx context.Context, afterID int64, limit int) ([]Log, error)

	// Activity summarises everything stored about one attacker IP, with
	// its newest `recent` logs (oldest first) for timing analysis.
	Activity(ctx context.Context, ip string, recent int) (Activity, error)
	// BountiesByIP returns every bounty of an attacker IP, oldest first.
	BountiesByIP(ctx context.Context, ip string) ([]Bounty, error)
	// UpsertAttacker inserts or updates the profile of a.IP (one row per
	// IP; an existing row keeps its UUID) together with a.Behavior when
	// it is not nil, in one transaction, and returns the stored UUID.
	UpsertAttacker(ctx context.Context, a Attacker) (string, error)

	Attackers(ctx context.Context, q AttackerQuery) (Page[Attacker], error)
	// Attacker returns one profile with its behaviour (nil when the
	// profiler has none), or ErrNotFound.
	Attacker(ctx context.Context, uuid string) (Attacker, error)
	// AttackerCommands pages the commands of an attacker, newest first,
	// read from its logs; ErrNotFound when the attacker does not exist.
	AttackerCommands(ctx context.Context, uuid string, q CommandQuery) (Page[Command], error)
	// AttackerArtifacts returns up to limit file_captured logs of an
	// attacker, newest first; ErrNotFound when it does not exist.
	AttackerArtifacts(ctx context.Context, uuid string, limit int) (Page[Log], error)

	// Purge deletes every log, bounty, attacker and behaviour (users and
	// state stay) and says how many of each went.
	Purge(ctx context.Context) (Purged, error)

	// Ping checks the store answers.
	Ping(ctx context.Context) error
	Close() error
}

// Bucket is one bar of a histogram: the bucket's start and its count.
type Bucket struct {
	Time  time.Time `json:"time"`
	Count int64     `json:"count"`
}

// CommandEventTypes are the event types whose command field (or query,
// input, line, sql, cmd, the first present) is a command an attacker ran.
var CommandEventTypes = []string{"command", "exec", "query", "input", "shell_input", "execute", "run", "sql_query", "redis_command"}

// CommandFields are the fields, in order of preference, that hold the
// command of a command event.
var CommandFields = []string{"command", "query", "input", "line", "sql", "cmd"}

// Command is one command an attacker ran.
type Command struct {
	Timestamp time.Time `json:"timestamp"`
	Decky     string    `json:"decky"`
	Service   string    `json:"service"`
	Command   string    `json:"command"`
}

// CommandQuery selects an attacker's commands.
type CommandQuery struct {
	Service string // exact service, or all
	Limit   int
	Offset  int
}

// Activity is what the store knows of one attacker IP, computed from its
// logs.
type Activity struct {
	IP         string
	EventCount int64
	FirstSeen  time.Time
	LastSeen   time.Time
	// Deckies in first-contact order; Services sorted.
	Deckies  []string
	Services []string
	// CommandCount counts command events; Commands are the newest
	// MaxProfileCommands of them, oldest first.
	CommandCount int64
	Commands     []Command
	// Recent are the newest logs asked for, oldest first.
	Recent []Log
}

// MaxProfileCommands is how many commands an attacker profile carries
// inline; the commands endpoint pages through all of them.
const MaxProfileCommands = 50

// Attacker sort orders.
const (
	SortRecent     = "recent"     // last_seen, newest first
	SortActive     = "active"     // event_count, largest first
	SortTraversals = "traversals" // traversals first, then recent
)

// AttackerQuery selects attacker profiles.
type AttackerQuery struct {
	Search  string // substring of the IP
	SortBy  string // a Sort constant; "" is SortRecent
	Service string // only attackers that touched this service
	// Traversal selects only traversals (attackers seen on two deckies or
	// more); false selects everyone.
	Traversal bool
	Limit     int
	Offset    int
}

// Attacker is the profile of one attacker IP, kept by the profiler.
type Attacker struct {
	UUID            string    `json:"uuid"`
	IP              string    `json:"ip"`
	FirstSeen       time.Time `json:"first_seen"`
	LastSeen        time.Time `json:"last_seen"`
	EventCount      int64     `json:"event_count"`
	ServiceCount    int       `json:"service_count"`
	DeckyCount      int       `json:"decky_count"`
	Services        []string  `json:"services"`
	Deckies         []string  `json:"deckies"`        // first-contact order
	TraversalPath   string    `json:"traversal_path"` // "a → b → c", "" unless a traversal
	IsTraversal     bool      `json:"is_traversal"`   // touched two deckies or more
	BountyCount     int64     `json:"bounty_count"`
	CredentialCount int64     `json:"credential_count"`
	Fingerprints    []Bounty  `json:"fingerprints"`
	CommandCount    int64     `json:"command_count"`
	Commands        []Command `json:"commands"` // newest MaxProfileCommands, oldest first
	UpdatedAt       time.Time `json:"updated_at"`
	Behavior        *Behavior `json:"behavior"`
}

// Behavior is the behavioural analysis of an attacker.
type Behavior struct {
	OSGuess         string          `json:"os_guess,omitempty"`
	HopDistance     *int            `json:"hop_distance"`
	TCPFingerprint  *TCPFingerprint `json:"tcp_fingerprint"`
	RetransmitCount int             `json:"retransmit_count"`
	// BehaviorClass is unknown, slow_scan, scanning, brute_force,
	// beaconing, interactive or mixed.
	BehaviorClass   string        `json:"behavior_class"`
	BeaconIntervalS *float64      `json:"beacon_interval_s"`
	BeaconJitterPct *float64      `json:"beacon_jitter_pct"`
	ToolGuesses     []string      `json:"tool_guesses"`
	TimingStats     TimingStats   `json:"timing_stats"`
	PhaseSequence   PhaseSequence `json:"phase_sequence"`
	UpdatedAt       time.Time     `json:"updated_at"`
}

// TCPFingerprint is the latest TCP stack snapshot of an attacker.
type TCPFingerprint struct {
	Window        *int   `json:"window"`
	WScale        *int   `json:"wscale"`
	MSS           *int   `json:"mss"`
	OptionsSig    string `json:"options_sig"`
	HasSACK       bool   `json:"has_sack"`
	HasTimestamps bool   `json:"has_timestamps"`
}

// TimingStats describe the inter-arrival times of an attacker's events;
// the pointers are nil with fewer than two events.
type TimingStats struct {
	EventCount int64    `json:"event_count"`
	DurationS  float64  `json:"duration_s"`
	MeanIATS   *float64 `json:"mean_iat_s"`
	MedianIATS *float64 `json:"median_iat_s"`
	StdevIATS  *float64 `json:"stdev_iat_s"`
	MinIATS    *float64 `json:"min_iat_s"`
	MaxIATS    *float64 `json:"max_iat_s"`
	CV         *float64 `json:"cv"`
}

// PhaseSequence places an attacker's reconnaissance and action phases.
type PhaseSequence struct {
	ReconEndTS        *time.Time `json:"recon_end_ts"`
	ExfilStartTS      *time.Time `json:"exfil_start_ts"`
	ExfilLatencyS     *float64   `json:"exfil_latency_s"`
	LargePayloadCount int        `json:"large_payload_count"`
}

// Purged counts what Purge deleted.
type Purged struct {
	Logs      int64 `json:"logs"`
	Bounties  int64 `json:"bounties"`
	Attackers int64 `json:"attackers"`
}
