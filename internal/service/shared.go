package service

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SharedDirName is the name of a decky's shared directory (Host.SharedDir)
// on the host, beside its services' data directories
// (<data>/<decky>/<slug>), in both runtimes. It starts with an underscore,
// which no service slug does, so it never meets a service's own directory.
const SharedDirName = "_host"

// Legacy is implemented by services that kept in their own DataDir, before
// Host.SharedDir existed, state that now lives there.
type Legacy interface {
	// LegacyShared maps each name the service keeps under SharedDir to
	// the name under its DataDir where older versions kept that state.
	LegacyShared() map[string]string
}

// AdoptShared moves into a decky's shared directory, created if needed,
// the state its services kept in their own data directories (dataDir of
// a slug) before it existed, so an upgraded decky keeps its files and the
// passwords its accounts took. Each name the shared directory lacks comes
// from the first registered service in slug order (ssh before telnet)
// that has it; what the others kept stays where it was, unused.
func AdoptShared(shared string, dataDir func(slug string) string) error {
	if err := os.MkdirAll(shared, 0o700); err != nil {
		return fmt.Errorf("shared directory: %w", err)
	}
	for _, svc := range All() {
		l, ok := svc.(Legacy)
		if !ok {
			continue
		}
		for name, old := range l.LegacyShared() {
			if err := adopt(filepath.Join(dataDir(svc.Info().Slug), old), filepath.Join(shared, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// adopt renames src to dst when dst does not exist and src does.
func adopt(src, dst string) error {
	if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		return err // there already (nil), or unreadable
	}
	_, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("adopting %s: %w", src, err)
	}
	return nil
}
