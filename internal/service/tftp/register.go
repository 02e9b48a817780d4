// Package tftp is the TFTP honeypot: tftpd-hpa 5.2 as Debian runs it
// (--secure), hand-written on UDP so its error texts, option negotiation,
// retransmission timing and ephemeral reply ports are the real server's.
// Reads of the decky's bait files (router configurations, or a PXE
// server's boot and install files) are served; every requested name is
// recorded, and uploads are kept as artifacts.
package tftp

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "tftp"

// Port is the TFTP port.
const Port = 69

// Bounds of the persona's own files.
const (
	maxPersonaFile  = 4 << 20
	maxPersonaFiles = 16 << 20
)

// Persona is what a decky's TFTP server holds and allows.
type Persona struct {
	// Bait picks the generated files: "router" (a config backup server:
	// running-config, startup-config, <host>-confg, network-confg),
	// "pxe" (a PXE boot server: pxelinux.0, ldlinux.c32,
	// pxelinux.cfg/default and preseed.cfg or ks.cfg), "none", or empty
	// for the decky's OS family (router for cisco and embedded, pxe for
	// the others).
	Bait string `ini:"bait"`
	// Files are more files to serve, a JSON object of path to content.
	// They replace generated files of the same path.
	Files map[string]string `ini:"files"`
	// Create lets clients upload new files, as tftpd's --create does.
	// Debian's stock server has no --create and answers "File not found"
	// to every upload; the default true accepts them, because captured
	// uploads are what the honeypot is for.
	Create bool `ini:"create"`
	// MaxBlksize caps the blksize option, as tftpd's --blocksize does
	// (default 65464, tftp-hpa's own limit).
	MaxBlksize int `ini:"max_blksize"`
}

func defaultPersona() any { return &Persona{Create: true, MaxBlksize: maxBlksize} }

// Validate checks the bait set, the block size and the persona's files.
func (p *Persona) Validate() error {
	switch p.Bait {
	case baitAuto, baitRouter, baitPXE, baitNone:
	default:
		return fmt.Errorf("bait %q: want router, pxe, none or empty", p.Bait)
	}
	if p.MaxBlksize < 8 || p.MaxBlksize > maxBlksize {
		return fmt.Errorf("max_blksize %d: want 8 to %d", p.MaxBlksize, maxBlksize)
	}
	total := 0
	clean := map[string]bool{}
	for name, content := range p.Files {
		c, err := cleanPath(name)
		if err != nil {
			return fmt.Errorf("files: %w", err)
		}
		if len(content) > maxPersonaFile {
			return fmt.Errorf("files: %q is over %d bytes", name, maxPersonaFile)
		}
		total += len(content)
		clean[c] = true
	}
	if total > maxPersonaFiles {
		return fmt.Errorf("files: over %d bytes in all", maxPersonaFiles)
	}
	for c := range clean {
		for d := path.Dir(c); d != "."; d = path.Dir(d) {
			if clean[d] {
				return fmt.Errorf("files: %q is a file and a directory", d)
			}
		}
	}
	return nil
}

// cleanPath is a persona file's path from the TFTP root.
func cleanPath(name string) (string, error) {
	c := strings.Trim(name, "/")
	if c == "" {
		return "", errors.New("empty path")
	}
	for _, comp := range strings.Split(c, "/") {
		switch {
		case comp == "" || comp == "." || comp == "..":
			return "", fmt.Errorf("%q: want a plain path", name)
		case len(comp) > nameMax:
			return "", fmt.Errorf("%q: a component is over %d bytes", name, nameMax)
		case strings.ContainsRune(comp, 0):
			return "", fmt.Errorf("%q: NUL in path", name)
		}
	}
	return c, nil
}

// Service is the tftp honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares UDP port 69 and the persona.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "tftpd-hpa look-alike serving bait configs and boot files, capturing uploads",
		Ports:       []service.Port{{Number: Port, Proto: service.UDP}},
		Persona:     defaultPersona,
	}
}

// New builds one decky's TFTP server.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return newServer(cfg, p)
}

// Fragment implements service.Composer: uploads are kept in the data
// directory, and their bytes are held in memory while they arrive.
func (Service) Fragment(h service.Host, keys map[string]string) service.Fragment {
	f := service.DataFragment(Slug, h, keys)
	f.MemoryMB = 128
	return f
}

var (
	_ service.Service   = Service{}
	_ service.Composer  = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
