package service

import (
	"maps"
	"slices"
)

// ContainerDataDir is where a service container of the docker runtime
// finds its Host.DataDir: the volume of the decky's service data.
const ContainerDataDir = "/data"

// ContainerSharedDir is where a service container of the docker runtime
// finds its Host.SharedDir: the decky's shared directory, the same host
// directory in every container of the decky that asks for it.
const ContainerSharedDir = "/shared"

// Fragment is a service's part of the container that runs it in the
// docker runtime: the seed's compose_fragment. The composer adds what every
// service container gets (image, name, labels, the decky's network
// namespace, non-root user, capabilities, read-only root, logging).
type Fragment struct {
	// Command is the container's arguments to the image's entrypoint (the
	// decnet binary), normally HoneypotArgs.
	Command []string
	// Environment is extra environment of the container.
	Environment map[string]string
	// Data asks for a volume at ContainerDataDir: the service keeps files
	// there that must outlive the container (host keys, captures). Services
	// without it get a read-only filesystem and nothing else.
	Data bool
	// Shared asks for the decky's shared directory at ContainerSharedDir
	// (see Host.SharedDir), writable like the data volume.
	Shared bool
	// MemoryMB and Pids bound the container's memory and processes.
	MemoryMB int
	Pids     int
}

// Composer is implemented by services that describe their own container;
// the others get DefaultFragment.
type Composer interface {
	Fragment(h Host, keys map[string]string) Fragment
}

// Default limits of a service container: a honeypot holds little beyond
// its sessions, and a flood must not take the host's memory.
const (
	DefaultMemoryMB = 64
	DefaultPids     = 128
)

// DefaultFragment is the container of a service that keeps no files: its
// honeypot command with the decky's identity and persona keys (and no data
// directory), and the default limits.
func DefaultFragment(slug string, h Host, keys map[string]string) Fragment {
	h.DataDir, h.SharedDir = "", ""
	return Fragment{Command: HoneypotArgs(slug, h, keys), MemoryMB: DefaultMemoryMB, Pids: DefaultPids}
}

// DataFragment is DefaultFragment for a service that keeps files: a volume
// at ContainerDataDir is its data directory.
func DataFragment(slug string, h Host, keys map[string]string) Fragment {
	h.DataDir, h.SharedDir = ContainerDataDir, ""
	return Fragment{Command: HoneypotArgs(slug, h, keys), Data: true, MemoryMB: DefaultMemoryMB, Pids: DefaultPids}
}

// SharedFragment is DataFragment for a service that also keeps state of
// the machine: the decky's shared directory at ContainerSharedDir is its
// SharedDir.
func SharedFragment(slug string, h Host, keys map[string]string) Fragment {
	h.DataDir, h.SharedDir = ContainerDataDir, ContainerSharedDir
	return Fragment{Command: HoneypotArgs(slug, h, keys), Data: true, Shared: true, MemoryMB: DefaultMemoryMB, Pids: DefaultPids}
}

// FragmentOf returns the fragment of service svc for a decky: its own when
// it is a Composer, else DefaultFragment.
func FragmentOf(svc Service, h Host, keys map[string]string) Fragment {
	if c, ok := svc.(Composer); ok {
		return c.Fragment(h, keys)
	}
	return DefaultFragment(svc.Info().Slug, h, keys)
}

// The flags of `decnet honeypot`, written by HoneypotArgs and read by the
// command: one list, so the two cannot drift apart.
const (
	FlagDecky     = "decky"
	FlagHostname  = "hostname"
	FlagDistro    = "distro"
	FlagOS        = "os"
	FlagArchetype = "archetype"
	FlagIP        = "ip"
	FlagDataDir   = "data-dir"
	FlagSharedDir = "shared-dir"
	FlagPersona   = "persona"
)

// HoneypotArgs are the arguments of `decnet honeypot` that run service
// slug for the decky h with its persona keys (sorted, one --persona
// key=value each); --data-dir and --shared-dir only when h has them.
func HoneypotArgs(slug string, h Host, keys map[string]string) []string {
	args := []string{"honeypot", slug,
		"--" + FlagDecky, h.Name,
		"--" + FlagHostname, h.Hostname,
		"--" + FlagDistro, h.Distro,
		"--" + FlagOS, h.OS,
		"--" + FlagIP, h.IP,
	}
	if h.Archetype != "" {
		args = append(args, "--"+FlagArchetype, h.Archetype)
	}
	if h.DataDir != "" {
		args = append(args, "--"+FlagDataDir, h.DataDir)
	}
	if h.SharedDir != "" {
		args = append(args, "--"+FlagSharedDir, h.SharedDir)
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		args = append(args, "--"+FlagPersona, k+"="+keys[k])
	}
	return args
}
