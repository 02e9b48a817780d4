// Package flock takes advisory file locks: how decnet processes sharing a
// data directory (an ingester and a second one on the same file; the CLI,
// the API and the mutator changing one deployment) take turns. The kernel
// drops a lock when its holder exits, however it exits, so a crash never
// leaves a stale lock behind.
package flock

import "errors"

// ErrLocked is returned by TryLock when another holder has the lock.
var ErrLocked = errors.New("locked by another process")
