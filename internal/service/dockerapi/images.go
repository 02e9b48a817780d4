package dockerapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"decnet/internal/event"
)

// imageSummary is an /images/json entry of API 1.43.
type imageSummary struct {
	Containers  int               `json:"Containers"`
	Created     int64             `json:"Created"`
	ID          string            `json:"Id"`
	Labels      map[string]string `json:"Labels"`
	ParentID    string            `json:"ParentId"`
	RepoDigests []string          `json:"RepoDigests"`
	RepoTags    []string          `json:"RepoTags"`
	SharedSize  int               `json:"SharedSize"`
	Size        int64             `json:"Size"`
	VirtualSize int64             `json:"VirtualSize"`
}

func repoOf(ref string) string {
	if i := strings.LastIndexByte(ref, ':'); i > 0 && !strings.Contains(ref[i:], "/") {
		return ref[:i]
	}
	return ref
}

// repoDigest is im's reference by digest, as RepoDigests lists it.
func (im *image) repoDigest() string { return repoOf(im.Ref) + "@" + im.Digest }

func (h *handler) imageList(c *call, _ []string) error {
	e := h.s.eng
	e.mu.Lock()
	out := []imageSummary{}
	for i := len(e.images) - 1; i >= 0; i-- {
		im := e.images[i]
		out = append(out, imageSummary{Containers: -1, Created: im.Created.Unix(), ID: im.ID, ParentID: "",
			RepoDigests: []string{im.repoDigest()}, RepoTags: []string{im.Ref}, SharedSize: -1,
			Size: im.Size, VirtualSize: im.Size})
	}
	e.mu.Unlock()
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func (h *handler) imageInspect(c *call, args []string) error {
	return imageKind.with(h.s.eng, args[0], func(im *image) error {
		writeJSON(c.w, http.StatusOK, im.inspect())
		return nil
	})
}

// inspect is im's inspect body.
func (im *image) inspect() map[string]any {
	return map[string]any{
		"Id": im.ID, "RepoTags": []string{im.Ref}, "RepoDigests": []string{im.repoDigest()},
		"Parent": "", "Comment": "", "Created": im.Created.UTC().Format(time.RFC3339Nano), "Container": "",
		"DockerVersion": "20.10.23", "Author": "", "Architecture": "amd64", "Os": "linux", "Size": im.Size, "VirtualSize": im.Size,
		"GraphDriver": map[string]any{"Name": "overlay2", "Data": map[string]string{
			"MergedDir": "/var/lib/docker/overlay2/" + im.ID[7:] + "/merged", "UpperDir": "/var/lib/docker/overlay2/" + im.ID[7:] + "/diff",
			"WorkDir": "/var/lib/docker/overlay2/" + im.ID[7:] + "/work"}},
		"RootFS":   map[string]any{"Type": "layers", "Layers": []string{"sha256:" + stableID(im.ID, "layer")}},
		"Metadata": map[string]string{"LastTagTime": "0001-01-01T00:00:00Z"},
	}
}

func (h *handler) imageDelete(c *call, args []string) error {
	e := h.s.eng
	return imageKind.with(e, args[0], func(im *image) error {
		c.fields["action"] = "image_delete"
		for i, x := range e.images {
			if x == im {
				e.images = append(e.images[:i], e.images[i+1:]...)
				break
			}
		}
		writeJSON(c.w, http.StatusOK, []map[string]string{{"Untagged": im.Ref}, {"Untagged": im.repoDigest()}, {"Deleted": im.ID}})
		return nil
	})
}

// progress is one line of the pull's JSON stream.
type progress struct {
	Status         string          `json:"status"`
	ProgressDetail *progressDetail `json:"progressDetail,omitempty"`
	Progress       string          `json:"progress,omitempty"`
	ID             string          `json:"id,omitempty"`
}

type progressDetail struct {
	Current int64 `json:"current,omitempty"`
	Total   int64 `json:"total,omitempty"`
}

// imagePull is POST /images/create: the pull is recorded and streamed as
// the engine streams a download from Docker Hub, and the image is there
// afterwards for containers/create.
func (h *handler) imagePull(c *call, _ []string) error {
	q := c.r.URL.Query()
	from, tag := q.Get("fromImage"), q.Get("tag")
	h.registryHeader(c)
	if from == "" {
		if src := q.Get("fromSrc"); src != "" {
			h.s.emit(c.r, event.TypeCommand, event.Warning, map[string]string{"action": "image_import", "source": event.Clip(src, 1024)})
		}
		return errorf(http.StatusBadRequest, "invalid reference format")
	}
	ref := from
	if tag != "" && !strings.Contains(tag, "sha256:") {
		ref = from + ":" + tag
	} else if tag != "" {
		ref = from + "@" + tag
	}
	n := normalizeRef(ref)
	c.fields["action"] = "image_pull"
	h.s.emit(c.r, event.TypeCommand, event.Warning, map[string]string{"action": "image_pull", "image": event.Clip(n, 512),
		event.FieldCommand: event.Clip("pull "+n, 600), "platform": event.Clip(q.Get("platform"), 64)})
	e := h.s.eng
	e.mu.Lock()
	had := e.imageByRef(n) != nil
	im := e.addImage(n, h.s.cfg.Host.Name, h.s.now().Add(-time.Duration(10+len(n))*24*time.Hour))
	e.mu.Unlock()
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(http.StatusOK)
	repo, tagName, _ := strings.Cut(n, ":")
	path := repo
	if !strings.Contains(repo, "/") {
		path = "library/" + repo
	}
	send := func(p progress) bool {
		b, _ := json.Marshal(p)
		if _, err := c.w.Write(append(b, '\r', '\n')); err != nil {
			return false
		}
		c.w.Flush()
		return true
	}
	send(progress{Status: "Pulling from " + path, ID: tagName})
	if !had {
		layer := im.ID[7:19]
		total := im.Size * 37 / 100
		if !send(progress{Status: "Pulling fs layer", ProgressDetail: &progressDetail{}, ID: layer}) {
			return nil
		}
		for _, step := range []struct {
			status string
			frac   int64
		}{{"Downloading", 1}, {"Downloading", 45}, {"Downloading", 100}, {"Verifying Checksum", 0}, {"Download complete", 0},
			{"Extracting", 2}, {"Extracting", 60}, {"Extracting", 100}, {"Pull complete", 0}} {
			p := progress{Status: step.status, ProgressDetail: &progressDetail{}, ID: layer}
			if step.frac > 0 {
				cur := total * step.frac / 100
				p.ProgressDetail = &progressDetail{Current: cur, Total: total}
				p.Progress = progressBar(cur, total)
			}
			select {
			case <-time.After(60 * time.Millisecond):
			case <-c.r.Context().Done():
				return nil
			}
			if !send(p) {
				return nil
			}
		}
	}
	send(progress{Status: "Digest: " + im.Digest})
	if had {
		send(progress{Status: "Status: Image is up to date for " + n})
	} else {
		send(progress{Status: "Status: Downloaded newer image for " + n})
	}
	return nil
}

// progressBar is jsonmessage.JSONProgress's text for a wide terminal.
func progressBar(cur, total int64) string {
	pct := int(cur * 100 / total)
	bars := pct / 2
	return "[" + strings.Repeat("=", bars) + ">" + strings.Repeat(" ", max(50-bars, 0)) + "] " +
		fmt.Sprintf("%8v/%v", humanSize(cur), humanSize(total))
}

// humanSize is go-units' HumanSize: four significant digits, decimal units.
func humanSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}
