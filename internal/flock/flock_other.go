//go:build !unix

package flock

import "context"

// TryLock has no advisory locks to use here: sharing a data directory
// between processes is then the operator's mistake to avoid.
func TryLock(string) (func(), error) { return func() {}, nil }

// Lock is TryLock: there is nothing to wait for.
func Lock(_ context.Context, path string) (func(), error) { return TryLock(path) }
