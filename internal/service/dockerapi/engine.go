package dockerapi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Bounds on what attackers can make the daemon remember: past them the
// oldest of their own objects are forgotten (the bait stays).
const (
	maxContainers = 200
	maxImages     = 200
	maxExecs      = 500
)

// container is one container of the fake daemon.
type container struct {
	ID, Name            string // Name without the leading "/"
	Image, ImageID      string
	Entrypoint, Cmd     []string
	Env                 []string
	Binds               []string
	Privileged, Tty     bool
	AutoRemove          bool
	NetworkMode         string
	Labels              map[string]string
	Created             time.Time
	Started, Finished   time.Time
	ExitCode            int
	Running, Bait       bool
	IP, MAC             string
	Ports               []portMap
	HostConfig, Config  []byte // what the client sent, for inspect
	logs                []byte // what `docker logs` shows (bait only)
	started, exited     chan struct{}
	startOnce, exitOnce sync.Once
}

// portMap is a published port of a bait container.
type portMap struct {
	Private, Public int
}

// image is an image the daemon holds.
type image struct {
	ID, Ref, Digest string // Ref is repo:tag in its familiar form
	Created         time.Time
	Size            int64
}

// execInst is an exec instance created in a container.
type execInst struct {
	ID, ContainerID string
	Cmd             []string
	User, WorkDir   string
	Tty, Privileged bool
	Stdin, Running  bool
	ExitCode        *int
}

// engine is the daemon's state, shared by all connections.
type engine struct {
	mu         sync.Mutex
	containers []*container // creation order
	images     []*image
	execs      []*execInst
	subnetNext int // last octet of the next container address on 172.17.0.0/16
}

func newEngine() *engine { return &engine{subnetNext: 2} }

// randomID is a 64-hex-digit object ID, as the engine makes them.
func randomID() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// stableID is a 64-hex-digit ID derived from parts: the bait keeps its
// IDs across restarts, each decky its own.
func stableID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])
}

// normalizeRef turns a reference the way clients write it into the
// familiar repo:tag form the engine shows (alpine → alpine:latest,
// docker.io/library/alpine → alpine:latest).
func normalizeRef(ref string) string {
	ref = strings.TrimPrefix(ref, "docker.io/")
	ref = strings.TrimPrefix(ref, "index.docker.io/")
	ref = strings.TrimPrefix(ref, "library/")
	if strings.Contains(ref, "@") {
		return ref
	}
	if i := strings.LastIndexByte(ref, ':'); i < 0 || strings.Contains(ref[i:], "/") {
		ref += ":latest"
	}
	return ref
}

// imageByRef finds an image by reference, ID or ID prefix.
func (e *engine) imageByRef(ref string) *image {
	if ref == "" {
		return nil
	}
	n := normalizeRef(ref)
	id := strings.TrimPrefix(ref, "sha256:")
	for _, im := range e.images {
		if im.Ref == n || (len(id) >= 4 && strings.HasPrefix(strings.TrimPrefix(im.ID, "sha256:"), id)) {
			return im
		}
	}
	return nil
}

// addImage records a pulled image (or returns the one already there).
func (e *engine) addImage(ref, seed string, created time.Time) *image {
	if im := e.imageByRef(ref); im != nil {
		return im
	}
	n := normalizeRef(ref)
	sum := stableID(seed, n)
	im := &image{ID: "sha256:" + sum, Ref: n, Digest: "sha256:" + stableID(seed, n, "digest"), Created: created,
		Size: imageSize(n, sum)}
	e.images = append(e.images, im)
	if len(e.images) > maxImages {
		e.images = e.images[1:]
	}
	return im
}

// imageSize is the size of an image: the real sizes of the common bases,
// a plausible one derived from the ID for the rest.
func imageSize(ref, id string) int64 {
	repo, _, _ := strings.Cut(ref, ":")
	switch repo {
	case "alpine":
		return 7338164
	case "busybox":
		return 4261574
	case "ubuntu":
		return 77863936
	case "debian":
		return 116543040
	case "nginx":
		return 186615296
	case "redis":
		return 40905728
	case "postgres":
		return 425441280
	}
	var n int64
	for _, c := range id[:6] {
		n = n*16 + int64(strings.IndexRune("0123456789abcdef", c))
	}
	return 20_000_000 + n*37
}

// lookup finds a container by full ID, unique ID prefix or name, as the
// engine does; ambiguous prefixes find nothing.
func (e *engine) lookup(ref string) *container {
	ref = strings.TrimPrefix(ref, "/")
	if ref == "" {
		return nil
	}
	for _, c := range e.containers {
		if c.ID == ref || c.Name == ref {
			return c
		}
	}
	var found *container
	for _, c := range e.containers {
		if strings.HasPrefix(c.ID, ref) {
			if found != nil {
				return nil
			}
			found = c
		}
	}
	return found
}

// addContainer stores c, forgetting the oldest non-bait container when full.
func (e *engine) addContainer(c *container) {
	c.started, c.exited = make(chan struct{}), make(chan struct{})
	c.IP = fmt.Sprintf("172.17.0.%d", e.subnetNext)
	c.MAC = fmt.Sprintf("02:42:ac:11:00:%02x", e.subnetNext)
	e.subnetNext = e.subnetNext%250 + 2
	e.containers = append(e.containers, c)
	if len(e.containers) > maxContainers {
		for i, old := range e.containers {
			if !old.Bait {
				e.containers = append(e.containers[:i], e.containers[i+1:]...)
				break
			}
		}
	}
}

// remove forgets a container and its execs.
func (e *engine) remove(c *container) {
	for i, x := range e.containers {
		if x == c {
			e.containers = append(e.containers[:i], e.containers[i+1:]...)
			break
		}
	}
	kept := e.execs[:0]
	for _, x := range e.execs {
		if x.ContainerID != c.ID {
			kept = append(kept, x)
		}
	}
	e.execs = kept
}

func (e *engine) addExec(x *execInst) {
	e.execs = append(e.execs, x)
	if len(e.execs) > maxExecs {
		e.execs = e.execs[1:]
	}
}

func (e *engine) exec(id string) *execInst {
	for _, x := range e.execs {
		if x.ID == id {
			return x
		}
	}
	return nil
}

// start marks c running.
func (c *container) start(now time.Time) {
	c.startOnce.Do(func() {
		c.Running, c.Started = true, now
		close(c.started)
	})
}

// stop marks c exited with code.
func (c *container) stop(now time.Time, code int) {
	c.startOnce.Do(func() { close(c.started) })
	c.exitOnce.Do(func() {
		c.Running, c.Finished, c.ExitCode = false, now, code
		close(c.exited)
	})
}

// sorted returns the containers newest first, as the engine lists them.
func (e *engine) sorted() []*container {
	out := append([]*container(nil), e.containers...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out
}
