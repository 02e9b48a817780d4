// Package image builds the one container image every container of a
// docker deployment runs: FROM scratch with nothing in it but a static
// decnet binary as the entrypoint. Distros and archetypes pick a persona
// at run time, not a base image, so one image serves the whole fleet.
//
// The image is built locally through the engine API (no registry is ever
// involved) and reused as long as the binary in it is the same.
package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
)

const (
	// Entrypoint is where the binary sits in the image and the image's
	// ENTRYPOINT: a container's command is the decnet subcommand and its
	// arguments (["idle"], ["honeypot", slug, ...]). The name is neutral
	// because process names can surface to whoever is inside a decky.
	Entrypoint = "/init"
	// User is the image's default user (nobody), so a container started
	// without an explicit user still does not run as root.
	User = "65534:65534"
	// LabelVersion holds the version the image was built for.
	LabelVersion = "decnet.version"
	// LabelBinaryDigest holds the sha256 of the binary in the image; an
	// image whose digest equals the current binary's is reused.
	LabelBinaryDigest = "decnet.binary.sha256"
)

// dockerfile is the build recipe. The labels come through the build API,
// not LABEL lines, so the recipe itself never changes.
const dockerfile = "FROM scratch\n" +
	"COPY init " + Entrypoint + "\n" +
	"USER " + User + "\n" +
	`ENTRYPOINT ["` + Entrypoint + `"]` + "\n"

// Docker's reference grammar, restricted to a local repository: no
// registry host, no digest.
var (
	repoPattern = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	tagPattern  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// Client is the part of the engine API client (*client.Client of
// github.com/moby/moby/client) that Build uses.
type Client interface {
	ImageBuild(ctx context.Context, buildContext io.Reader, options client.ImageBuildOptions) (client.ImageBuildResult, error)
	ImageInspect(ctx context.Context, imageID string, inspectOpts ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImageRemove(ctx context.Context, imageID string, options client.ImageRemoveOptions) (client.ImageRemoveResult, error)
}

var _ Client = (*client.Client)(nil)

// Options configure Build.
type Options struct {
	// Repo is the image repository, e.g. "decnet" (local: no registry host).
	Repo string
	// Version is the tag, e.g. "v1.2.0" or "dev".
	Version string
	// Binary is the static binary to put in the image; "" means the one
	// Static returns.
	Binary string
	// NoCache rebuilds the image even when one holding the same binary
	// exists, and disables the engine's layer cache.
	NoCache bool
	// Progress receives the engine's build output, one line per call. It
	// may be nil.
	Progress func(msg string)
	// Log receives operational logs (compiling the binary, removing the
	// image a rebuild replaced). It may be nil.
	Log *slog.Logger
}

// Result describes the image Build made or reused.
type Result struct {
	// Ref is the image reference, Repo:Version.
	Ref string
	// ID is the image ID (sha256:...).
	ID string
	// Size is the image size in bytes as the engine reports it.
	Size int64
	// Built is false when an existing image with the same binary was reused.
	Built bool
}

// Build makes sure the image Repo:Version holds the binary: it reuses the
// image with that tag when its binary digest matches (unless NoCache),
// and builds it otherwise. An image the new build replaced is removed
// when no container uses it any more.
func Build(ctx context.Context, cli Client, o Options) (Result, error) {
	if !repoPattern.MatchString(o.Repo) {
		return Result{}, fmt.Errorf("invalid image repository %q", o.Repo)
	}
	if !tagPattern.MatchString(o.Version) {
		return Result{}, fmt.Errorf("invalid image tag %q", o.Version)
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ref := o.Repo + ":" + o.Version
	bin := o.Binary
	if bin == "" {
		path, cleanup, err := Static(ctx, log, o.Version)
		if err != nil {
			return Result{}, err
		}
		defer cleanup()
		bin = path
	}
	static, err := IsStatic(bin)
	if err != nil {
		return Result{}, err
	}
	if !static {
		return Result{}, fmt.Errorf("%s is dynamically linked and cannot run in a FROM-scratch image; build it with CGO_ENABLED=0", bin)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return Result{}, fmt.Errorf("reading the binary: %w", err)
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])

	previous, err := cli.ImageInspect(ctx, ref)
	switch {
	case cerrdefs.IsNotFound(err):
	case err != nil:
		return Result{}, fmt.Errorf("inspecting image %s: %w", ref, err)
	case !o.NoCache && labels(previous)[LabelBinaryDigest] == digest:
		return Result{Ref: ref, ID: previous.ID, Size: previous.Size}, nil
	}

	buildCtx, err := contextTar(data)
	if err != nil {
		return Result{}, err
	}
	resp, err := cli.ImageBuild(ctx, bytes.NewReader(buildCtx), client.ImageBuildOptions{
		Tags:        []string{ref},
		NoCache:     o.NoCache,
		Remove:      true,
		ForceRemove: true,
		Dockerfile:  "Dockerfile",
		Labels:      map[string]string{LabelVersion: o.Version, LabelBinaryDigest: digest},
		// The classic builder: BuildKit needs a session the engine API
		// alone does not give, and the recipe needs nothing of it.
		Version: build.BuilderV1,
	})
	if err != nil {
		return Result{}, fmt.Errorf("building image %s: %w", ref, err)
	}
	id, err := readBuildStream(resp.Body, o.Progress)
	resp.Body.Close()
	if err != nil {
		return Result{}, fmt.Errorf("building image %s: %w", ref, err)
	}
	if id == "" {
		id = ref
	}

	// By ID when the engine named it: a concurrent build may retag ref.
	built, err := cli.ImageInspect(ctx, id)
	if err != nil {
		return Result{}, fmt.Errorf("inspecting the built image %s: %w", ref, err)
	}
	if got := labels(built)[LabelBinaryDigest]; got != digest {
		return Result{}, fmt.Errorf("image %s holds binary %s after the build, want %s", ref, got, digest)
	}
	if previous.ID != "" && previous.ID != built.ID {
		removeReplaced(ctx, cli, log, previous.ID)
	}
	return Result{Ref: ref, ID: built.ID, Size: built.Size, Built: true}, nil
}

// removeReplaced removes the image a rebuild untagged, with the build
// steps it alone needed, so repeated builds do not pile up dangling
// images. It stays while containers (a running fleet) still use it or
// another tag names it; the engine refuses and that is fine.
func removeReplaced(ctx context.Context, cli Client, log *slog.Logger, id string) {
	_, err := cli.ImageRemove(ctx, id, client.ImageRemoveOptions{PruneChildren: true})
	switch {
	case err == nil:
		log.Info("removed the image the build replaced", "id", id)
	case cerrdefs.IsConflict(err), cerrdefs.IsNotFound(err):
		log.Debug("kept the image the build replaced", "id", id, "reason", err)
	default:
		log.Warn("removing the image the build replaced", "id", id, "err", err)
	}
}

// labels returns an inspected image's labels (nil when it has no config).
func labels(img client.ImageInspectResult) map[string]string {
	if img.Config == nil {
		return nil
	}
	return img.Config.Labels
}

// contextTar returns the build context: the Dockerfile and the binary.
// Times are fixed so the same binary gives the same context.
func contextTar(binary []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"Dockerfile", 0o644, []byte(dockerfile)},
		{"init", 0o755, binary},
	}
	for _, f := range files {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     f.name,
			Mode:     f.mode,
			Size:     int64(len(f.data)),
			ModTime:  time.Unix(0, 0),
			Format:   tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	return buf.Bytes(), nil
}

// buildMessage is one JSON message of the build output. The engine sets
// both "error" and "errorDetail" on a failure; older engines only the
// first.
type buildMessage struct {
	jsonstream.Message
	ErrorMessage string `json:"error,omitempty"`
}

// readBuildStream consumes the engine's build output: "stream" lines go to
// progress, a failure message becomes the error (a *jsonstream.Error with
// the engine's message), and the image ID the engine announces is returned
// ("" when it announced none).
func readBuildStream(r io.Reader, progress func(string)) (id string, err error) {
	dec := json.NewDecoder(r)
	for {
		var m buildMessage
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return id, nil
		} else if err != nil {
			return "", fmt.Errorf("reading the build output: %w", err)
		}
		if m.Error != nil || m.ErrorMessage != "" {
			e := &jsonstream.Error{Message: m.ErrorMessage}
			if m.Error != nil {
				e = m.Error
				if e.Message == "" {
					e.Message = m.ErrorMessage
				}
			}
			if e.Message == "" {
				e.Message = "the engine reported a failure without a message"
			}
			return "", e
		}
		if progress != nil {
			// \r too: a step's output may redraw a line in place.
			for _, line := range strings.FieldsFunc(m.Stream, func(r rune) bool { return r == '\n' || r == '\r' }) {
				if line = strings.TrimSpace(line); line != "" {
					progress(line)
				}
			}
		}
		if m.Aux != nil {
			var aux struct{ ID string }
			if json.Unmarshal(*m.Aux, &aux) == nil && aux.ID != "" {
				id = aux.ID
			}
		}
	}
}
