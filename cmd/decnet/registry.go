package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"decnet/internal/flock"
)

// The worker registry: a decnet process that runs the workers of a data
// directory (up, api) holds daemonLock for as long as it runs and
// describes itself in daemonFile, so `status` can tell whether the
// workers run without matching process names (the original's way).
const (
	daemonLock = "daemon.lock"
	daemonFile = "daemon.json"
)

// daemonRecord describes the process running the workers.
type daemonRecord struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Started time.Time `json:"started"`
	URL     string    `json:"url"`
	Workers []string  `json:"workers"`
}

// registerDaemon claims the registry of dataDir for this process; release
// gives it up. Another live process holding it is not an error: status
// then shows that one.
func registerDaemon(dataDir, url string, workers []string) (func(), error) {
	unlock, err := flock.TryLock(filepath.Join(dataDir, daemonLock))
	if errors.Is(err, flock.ErrLocked) {
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("worker registry: %w", err)
	}
	rec := daemonRecord{PID: os.Getpid(), Command: strings.Join(os.Args, " "), Started: time.Now(), URL: url, Workers: workers}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err == nil {
		err = os.WriteFile(filepath.Join(dataDir, daemonFile), append(b, '\n'), 0o600)
	}
	if err != nil {
		unlock()
		return nil, fmt.Errorf("worker registry: %w", err)
	}
	return func() {
		os.Remove(filepath.Join(dataDir, daemonFile))
		unlock()
	}, nil
}

// readDaemonRecord tells whether a process runs the workers of dataDir,
// and which.
func readDaemonRecord(dataDir string) (daemonRecord, bool, error) {
	var rec daemonRecord
	release, err := flock.TryLock(filepath.Join(dataDir, daemonLock))
	switch {
	case err == nil:
		release()
		return rec, false, nil
	case errors.Is(err, os.ErrNotExist):
		return rec, false, nil
	case !errors.Is(err, flock.ErrLocked):
		return rec, false, err
	}
	b, err := os.ReadFile(filepath.Join(dataDir, daemonFile))
	if err != nil {
		return rec, true, err
	}
	return rec, true, json.Unmarshal(b, &rec)
}
