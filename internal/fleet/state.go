package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"decnet/internal/atomicfile"
	"decnet/internal/flock"
)

// The runtimes a Deployment may record.
const (
	ModeLocal  = "local"
	ModeDocker = "docker"
)

// StateFile is the name of the deployment record in the data directory.
const StateFile = "deployment.json"

// ErrNoDeployment is wrapped when the data directory records no deployment.
var ErrNoDeployment = errors.New("no deployment recorded")

// Deployment is the one record of what is deployed from a data directory:
// the CLI (deploy, status, teardown, mutate), the API and the mutator all
// read it and change it only through UpdateDeployment, so there is no
// second truth to drift from it (the original kept two).
type Deployment struct {
	Mode    string     `json:"mode"`
	General General    `json:"general"`
	Customs []Custom   `json:"customs,omitempty"`
	Deckies []Deployed `json:"deckies"`
	// PID is the process serving a local fleet (0 for docker, whose
	// containers outlive the command that made them).
	PID int `json:"pid,omitempty"`
	// Runtime holds what only the runtime that wrote it reads (docker:
	// network, image, compose file).
	Runtime json.RawMessage `json:"runtime,omitempty"`
	Updated time.Time       `json:"updated"`
}

// Fleet is the fleet the deployment runs.
func (d Deployment) Fleet() Fleet {
	f := Fleet{General: d.General, Customs: d.Customs}
	for _, dd := range d.Deckies {
		f.Deckies = append(f.Deckies, dd.Decky)
	}
	return f
}

// Decky returns the deployed decky with that name.
func (d *Deployment) Decky(name string) (*Deployed, error) {
	for i := range d.Deckies {
		if d.Deckies[i].Name == name {
			return &d.Deckies[i], nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrNoDecky, name)
}

// LoadDeployment reads the deployment recorded in dir.
func LoadDeployment(dir string) (Deployment, error) {
	var d Deployment
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return d, fmt.Errorf("%w in %s", ErrNoDeployment, dir)
	}
	if err != nil {
		return d, fmt.Errorf("deployment record: %w", err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("deployment record %s: %w", filepath.Join(dir, StateFile), err)
	}
	return d, nil
}

// UpdateDeployment changes the deployment recorded in dir under its lock:
// fn gets the current record (the zero Deployment and exists false when
// there is none) and changes it; returning an error leaves the record as
// it was. The record is replaced atomically, so a reader never sees half
// of it and a crash keeps the old one.
func UpdateDeployment(ctx context.Context, dir string, fn func(d *Deployment, exists bool) error) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("deployment record: %w", err)
	}
	release, err := flock.Lock(ctx, filepath.Join(dir, StateFile+".lock"))
	if err != nil {
		return fmt.Errorf("deployment record lock: %w", err)
	}
	defer release()
	d, err := LoadDeployment(dir)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNoDeployment) {
		return err
	}
	if err := fn(&d, exists); err != nil {
		return err
	}
	d.Updated = time.Now().UTC()
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("deployment record: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, StateFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("deployment record: %w", err)
	}
	return nil
}

// RemoveDeployment deletes the deployment record of dir, under its lock.
func RemoveDeployment(ctx context.Context, dir string) error {
	release, err := flock.Lock(ctx, filepath.Join(dir, StateFile+".lock"))
	if err != nil {
		return fmt.Errorf("deployment record lock: %w", err)
	}
	defer release()
	if err := os.Remove(filepath.Join(dir, StateFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deployment record: %w", err)
	}
	return nil
}
