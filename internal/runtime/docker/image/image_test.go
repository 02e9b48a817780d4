package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"decnet/internal/testutil"

	cerrdefs "github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// fakeEngine keeps images by tag and by ID and builds them from the
// labels it is given, recording what it was asked.
type fakeEngine struct {
	images   map[string]client.ImageInspectResult
	fail     string // the build fails with this engine message
	noAux    bool   // the build announces no image ID
	builds   []client.ImageBuildOptions
	contexts []map[string]*tarFile
	removed  []string
}

type tarFile struct {
	mode int64
	data []byte
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{images: map[string]client.ImageInspectResult{}}
}

func (f *fakeEngine) add(ref, id string, lbls map[string]string) {
	img := client.ImageInspectResult{InspectResponse: image.InspectResponse{
		ID:       id,
		Size:     int64(1000 + len(f.images)),
		RepoTags: []string{ref},
		Config:   &dockerspec.DockerOCIImageConfig{ImageConfig: ocispec.ImageConfig{Labels: lbls}},
	}}
	f.images[ref] = img
	f.images[id] = img
}

func (f *fakeEngine) ImageBuild(_ context.Context, r io.Reader, o client.ImageBuildOptions) (client.ImageBuildResult, error) {
	files := map[string]*tarFile{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return client.ImageBuildResult{}, err
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return client.ImageBuildResult{}, err
		}
		files[h.Name] = &tarFile{mode: h.Mode, data: data}
	}
	f.builds = append(f.builds, o)
	f.contexts = append(f.contexts, files)
	out := `{"stream":"Step 1/4 : FROM scratch\n"}` + "\n" + `{"stream":" ---\u003e \n"}` + "\n"
	if f.fail != "" {
		out += fmt.Sprintf(`{"errorDetail":{"message":%q},"error":%q}`, f.fail, f.fail)
		return client.ImageBuildResult{Body: io.NopCloser(strings.NewReader(out))}, nil
	}
	id := fmt.Sprintf("sha256:built%d", len(f.builds))
	f.add(o.Tags[0], id, o.Labels)
	if !f.noAux {
		out += fmt.Sprintf(`{"aux":{"ID":%q}}`, id) + "\n"
	}
	out += `{"stream":"Successfully tagged ` + o.Tags[0] + `\n"}`
	return client.ImageBuildResult{Body: io.NopCloser(strings.NewReader(out))}, nil
}

func (f *fakeEngine) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	img, ok := f.images[ref]
	if !ok {
		return img, cerrdefs.ErrNotFound.WithMessage("No such image: " + ref)
	}
	return img, nil
}

func (f *fakeEngine) ImageRemove(_ context.Context, id string, o client.ImageRemoveOptions) (client.ImageRemoveResult, error) {
	if !o.PruneChildren {
		return client.ImageRemoveResult{}, errors.New("intermediate images would be left behind")
	}
	f.removed = append(f.removed, id)
	return client.ImageRemoveResult{}, nil
}

func TestBuild(t *testing.T) {
	bin := goBuild(t, echoProgram, false)
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	notELF := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	same := map[string]string{LabelVersion: "v1", LabelBinaryDigest: digest}
	other := map[string]string{LabelVersion: "v1", LabelBinaryDigest: "0123"}

	tests := []struct {
		name     string
		existing map[string]string // labels of an image already tagged decnet:v1
		opts     func(*Options)
		fail     string
		noAux    bool
		wantErr  string
		wantID   string
		built    bool
		removed  []string
	}{
		{name: "new image", wantID: "sha256:built1", built: true},
		{name: "new image, no ID announced", noAux: true, wantID: "sha256:built1", built: true},
		{name: "same binary reused", existing: same, wantID: "sha256:old"},
		{name: "no cache rebuilds", existing: same, opts: func(o *Options) { o.NoCache = true },
			wantID: "sha256:built1", built: true, removed: []string{"sha256:old"}},
		{name: "other binary rebuilds", existing: other,
			wantID: "sha256:built1", built: true, removed: []string{"sha256:old"}},
		{name: "engine failure", fail: "COPY failed: no space left on device", wantErr: "COPY failed: no space left on device"},
		{name: "not an executable", opts: func(o *Options) { o.Binary = notELF }, wantErr: "reading executable"},
		{name: "bad repository", opts: func(o *Options) { o.Repo = "Decnet" }, wantErr: "invalid image repository"},
		{name: "registry host", opts: func(o *Options) { o.Repo = "registry:5000/decnet" }, wantErr: "invalid image repository"},
		{name: "bad tag", opts: func(o *Options) { o.Version = "v1 beta" }, wantErr: "invalid image tag"},
		{name: "empty tag", opts: func(o *Options) { o.Version = "" }, wantErr: "invalid image tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newFakeEngine()
			eng.fail, eng.noAux = tt.fail, tt.noAux
			if tt.existing != nil {
				eng.add("decnet:v1", "sha256:old", tt.existing)
			}
			var progress []string
			o := Options{Repo: "decnet", Version: "v1", Binary: bin, Progress: func(s string) { progress = append(progress, s) }}
			if tt.opts != nil {
				tt.opts(&o)
			}
			res, err := Build(context.Background(), eng, o)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Build error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Ref != "decnet:v1" || res.ID != tt.wantID || res.Built != tt.built || res.Size == 0 {
				t.Errorf("Build = %+v, want ref decnet:v1, id %s, built %v, a size", res, tt.wantID, tt.built)
			}
			if !slices.Equal(eng.removed, tt.removed) {
				t.Errorf("removed %v, want %v", eng.removed, tt.removed)
			}
			if !tt.built {
				if len(eng.builds) != 0 {
					t.Errorf("%d builds, want none", len(eng.builds))
				}
				return
			}
			if len(eng.builds) != 1 {
				t.Fatalf("%d builds, want 1", len(eng.builds))
			}
			checkBuildRequest(t, eng.builds[0], eng.contexts[0], o, data, digest)
			if want := []string{"Step 1/4 : FROM scratch", "--->", "Successfully tagged decnet:v1"}; !slices.Equal(progress, want) {
				t.Errorf("progress %q, want %q", progress, want)
			}
		})
	}
}

func checkBuildRequest(t *testing.T, b client.ImageBuildOptions, files map[string]*tarFile, o Options, binary []byte, digest string) {
	t.Helper()
	if !slices.Equal(b.Tags, []string{"decnet:v1"}) || b.NoCache != o.NoCache || b.Version != build.BuilderV1 || b.PullParent {
		t.Errorf("build options %+v", b)
	}
	if b.Labels[LabelVersion] != "v1" || b.Labels[LabelBinaryDigest] != digest {
		t.Errorf("build labels %v", b.Labels)
	}
	if len(files) != 2 {
		t.Errorf("context holds %d files, want Dockerfile and the binary", len(files))
	}
	df := files["Dockerfile"]
	if df == nil {
		t.Fatal("no Dockerfile in the context")
	}
	for _, line := range []string{"FROM scratch", "COPY init /init", "USER 65534:65534", `ENTRYPOINT ["/init"]`} {
		if !strings.Contains(string(df.data), line+"\n") {
			t.Errorf("Dockerfile lacks %q:\n%s", line, df.data)
		}
	}
	bin := files["init"]
	if bin == nil || bin.mode != 0o755 || !bytes.Equal(bin.data, binary) {
		t.Errorf("binary in the context: %v", bin != nil && bin.mode == 0o755)
	}
}

func TestBuildRejectsDynamicBinary(t *testing.T) {
	testutil.RequireTool(t, "gcc")
	eng := newFakeEngine()
	_, err := Build(context.Background(), eng, Options{Repo: "decnet", Version: "v1", Binary: goBuild(t, cgoProgram, true)})
	if err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Fatalf("Build error = %v, want one telling to build with CGO_ENABLED=0", err)
	}
	if len(eng.builds) != 0 {
		t.Errorf("%d builds, want none", len(eng.builds))
	}
}

func TestReadBuildStream(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantID   string
		wantErr  string
		progress []string
	}{
		{name: "empty"},
		{
			name:     "steps and ID",
			in:       `{"stream":"Step 1/2 : FROM scratch\n"}{"stream":" ---\u003e Running\n\n"}{"aux":{"ID":"sha256:ab"}}{"stream":"Successfully built ab\nSuccessfully tagged x:y\n"}`,
			wantID:   "sha256:ab",
			progress: []string{"Step 1/2 : FROM scratch", "---> Running", "Successfully built ab", "Successfully tagged x:y"},
		},
		{name: "status lines ignored", in: `{"status":"Downloading","progressDetail":{"current":1,"total":2}}`},
		{name: "aux without ID", in: `{"aux":{"Digest":"x"}}`},
		{name: "error and detail", in: `{"stream":"Step 1/2\n"}{"errorDetail":{"code":1,"message":"detail"},"error":"plain"}`, wantErr: "detail", progress: []string{"Step 1/2"}},
		{name: "error only", in: `{"error":"plain"}`, wantErr: "plain"},
		{name: "detail only", in: `{"errorDetail":{"message":"detail"}}`, wantErr: "detail"},
		{name: "detail without message", in: `{"errorDetail":{"code":2},"error":"plain"}`, wantErr: "plain"},
		{name: "empty failure", in: `{"errorDetail":{}}`, wantErr: "without a message"},
		{name: "truncated", in: `{"stream":"Step`, wantErr: "reading the build output"},
		{name: "not JSON", in: `<html>`, wantErr: "reading the build output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var progress []string
			id, err := readBuildStream(strings.NewReader(tt.in), func(s string) { progress = append(progress, s) })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if id != tt.wantID {
				t.Errorf("id = %q, want %q", id, tt.wantID)
			}
			if !slices.Equal(progress, tt.progress) {
				t.Errorf("progress %q, want %q", progress, tt.progress)
			}
		})
	}
}

func TestReadBuildStreamEngineError(t *testing.T) {
	_, err := readBuildStream(strings.NewReader(`{"errorDetail":{"code":7,"message":"m"}}`), nil)
	var je *jsonstream.Error
	if !errors.As(err, &je) || je.Code != 7 || je.Message != "m" {
		t.Fatalf("error = %#v, want the engine's *jsonstream.Error", err)
	}
}

func FuzzReadBuildStream(f *testing.F) {
	f.Add([]byte(`{"stream":"Step 1/2 : FROM scratch\n"}{"aux":{"ID":"sha256:ab"}}`))
	f.Add([]byte(`{"errorDetail":{"message":"detail"},"error":"plain"}`))
	f.Add([]byte(`{"aux":null}{"aux":[1]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		id, err := readBuildStream(bytes.NewReader(in), func(s string) {
			if s == "" || strings.ContainsAny(s, "\r\n") || strings.TrimSpace(s) != s {
				t.Fatalf("progress line %q is not one trimmed line", s)
			}
		})
		if err != nil && id != "" {
			t.Fatalf("id %q returned with error %v", id, err)
		}
		if err != nil && err.Error() == "" {
			t.Fatal("error without a message")
		}
	})
}
