package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"syscall"

	"github.com/danielgtaylor/huma/v2"
)

// Captured files are written by the deckies, which attackers control: a
// stored file may have been replaced by a symlink to something of the
// host, a FIFO that would block a reader forever, or a directory. Only a
// regular file that is itself in one of the decky's artifact directories
// is served.

func (s *Server) registerArtifacts() {
	route(s, analyst, huma.Operation{
		Method: http.MethodGet, Path: "/artifacts/{decky}/{stored_as}", Tags: []string{"attackers"},
		Summary: "Download a captured file",
		Description: "The raw bytes of a file an attacker left on a decky, as an attachment. stored_as is the " +
			"fields.stored_as of a file_captured log. Analysts and admins only: the bytes may be live malware. " +
			"Names that do not match the patterns are refused with 422; a file that does not exist, or is not a " +
			"regular file (a symlink, FIFO or directory), is not found (404).",
		Errors: []int{http.StatusNotFound},
		Responses: map[string]*huma.Response{
			"200": {Description: "The file's bytes.", Content: map[string]*huma.MediaType{
				"application/octet-stream": {Schema: &huma.Schema{Type: huma.TypeString, Format: "binary"}},
			}},
		},
	}, s.artifact)
}

type artifactInput struct {
	Decky    string `path:"decky" pattern:"^[a-z0-9][a-z0-9-]{0,62}$" doc:"The decky that captured the file."`
	StoredAs string `path:"stored_as" pattern:"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z_[a-f0-9]{12}_[A-Za-z0-9._-]{1,255}$" doc:"The stored file's name: capture time, hash prefix, original name."`
}

type artifactOutput struct {
	ContentDisposition string `header:"Content-Disposition" doc:"attachment, with the stored name"`
	ContentLength      int64  `header:"Content-Length"`
	NoSniff            string `header:"X-Content-Type-Options" doc:"nosniff: browsers must not render the bytes"`
	Body               func(huma.Context)
}

// artifact serves GET /artifacts/{decky}/{stored_as}.
func (s *Server) artifact(ctx context.Context, in *artifactInput) (*artifactOutput, error) {
	if s.artDirs == nil {
		return nil, huma.Error404NotFound("Artifact not found")
	}
	for _, dir := range s.artDirs(in.Decky) {
		f, size, err := openArtifact(dir, in.StoredAs)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case errors.Is(err, errNotRegular):
			s.log.Warn("artifact refused", "decky", in.Decky, "stored_as", in.StoredAs, "err", err)
			continue
		case err != nil:
			return nil, s.fail(ctx, err)
		}
		return &artifactOutput{
			ContentDisposition: mime.FormatMediaType("attachment", map[string]string{"filename": in.StoredAs}),
			ContentLength:      size,
			NoSniff:            "nosniff",
			Body: func(hc huma.Context) {
				defer f.Close()
				hc.SetHeader("Content-Type", "application/octet-stream")
				hc.SetStatus(http.StatusOK)
				// Exactly the announced length, even if the file grows.
				if _, err := io.CopyN(hc.BodyWriter(), f, size); err != nil {
					s.log.Debug("artifact download cut short", "decky", in.Decky, "stored_as", in.StoredAs, "err", err)
				}
			},
		}, nil
	}
	return nil, huma.Error404NotFound("Artifact not found")
}

// errNotRegular: the name is there but is not a regular file.
var errNotRegular = errors.New("not a regular file")

// openArtifact opens the regular file name in dir, never following a
// symlink and never leaving dir, and returns it with its size. A missing
// dir or name is fs.ErrNotExist.
func openArtifact(dir, name string) (*os.File, int64, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, 0, err
	}
	defer root.Close()
	// Lstat does not follow a final symlink; the descriptor's Stat below
	// must then be the same file, or the name changed in between.
	li, err := root.Lstat(name)
	if err != nil {
		return nil, 0, err
	}
	if !li.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s: %w (%s)", name, errNotRegular, li.Mode().Type())
	}
	// O_NONBLOCK: if the name became a FIFO, opening it must not wait
	// for a writer.
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() || !os.SameFile(li, fi) {
		f.Close()
		return nil, 0, fmt.Errorf("%s: %w (changed while opening)", name, errNotRegular)
	}
	return f, fi.Size(), nil
}
