package tftp

import (
	"time"

	"decnet/internal/udplimit"
)

// limits bound what requests may take: UDP sources are cheap to forge, so
// every source IP gets a request rate and a number of transfers at once
// (the limiter's busy bounds), and the server as a whole a rate, a number
// of transfers and a number of sources it remembers. A forged source can
// then draw at most a few small retransmitted packets towards its victim.
type limits struct {
	udplimit.Limits
	// Lifetime is the longest a transfer may last, whatever its timeouts.
	Lifetime time.Duration
}

// defaultLimits let a scanner walk a list of file names at full speed and
// a client fetch a few files at once.
func defaultLimits() limits {
	return limits{
		Limits: udplimit.Limits{
			MaxBusy: 64, MaxBusyPerSource: 8,
			Rate: 20, Burst: 100, GlobalRate: 500, GlobalBurst: 1000,
			MaxSources: 4096,
		},
		Lifetime: 10 * time.Minute,
	}
}

// Why a transfer was refused, as tftp's events have always named the
// limiter's busy drops: its work is transfers.
const (
	dropTransfers    = "too many transfers"
	dropSrcTransfers = "too many transfers from source"
)

// dropText is the dropped field's text for a refusal.
func dropText(d udplimit.Drop) string {
	switch d {
	case udplimit.Busy:
		return dropTransfers
	case udplimit.SourceBusy:
		return dropSrcTransfers
	}
	return string(d)
}
