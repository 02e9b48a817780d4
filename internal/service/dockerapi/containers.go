package dockerapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"decnet/internal/event"
)

// createBody is the part of a create request the daemon uses; the whole
// body is kept for inspect and recorded.
type createBody struct {
	Hostname     string
	User         string
	Tty          bool
	OpenStdin    bool
	Env          []string
	Cmd          strList
	Entrypoint   strList
	Image        string
	WorkingDir   string
	Labels       map[string]string
	ExposedPorts map[string]any
	HostConfig   *struct {
		Binds       []string
		Privileged  bool
		NetworkMode string
		PidMode     string
		CapAdd      []string
		Devices     []struct{ PathOnHost, PathInContainer string }
		Mounts      []struct{ Type, Source, Target string }
		SecurityOpt []string
		AutoRemove  bool
	}
}

// strList is a command: the API takes a string or a list of strings.
type strList []string

// UnmarshalJSON takes either form.
func (l *strList) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*l = nil
		if s != "" { // the CLI's way of saying "the image's own"
			*l = strList{s}
		}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*l = list
	return nil
}

var containerNameRE = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// jsonField encodes v for an event field, clipped.
func jsonField(v any, n int) string {
	b, _ := json.Marshal(v)
	return event.Clip(string(b), n)
}

func (h *handler) containerCreate(c *call, _ []string) error {
	var b createBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	name := c.r.URL.Query().Get("name")
	fields := map[string]string{
		"action": "container_create", "image": event.Clip(b.Image, 512), "name": event.Clip(name, 256),
		"cmd": jsonField(b.Cmd, 4096), "entrypoint": jsonField(b.Entrypoint, 2048), "env": jsonField(b.Env, 4096),
		event.FieldCommand: event.Clip(strings.Join(argv(b.Entrypoint, b.Cmd), " "), 4096),
	}
	var raw struct {
		HostConfig json.RawMessage
	}
	json.Unmarshal(c.body, &raw)
	if len(raw.HostConfig) > 0 {
		fields["host_config"] = event.Clip(string(raw.HostConfig), 16384)
	}
	sev := event.Warning
	var binds []string
	if hc := b.HostConfig; hc != nil {
		binds = append(binds, hc.Binds...)
		for _, m := range hc.Mounts {
			if strings.EqualFold(m.Type, "bind") {
				binds = append(binds, m.Source+":"+m.Target)
			}
		}
		fields["binds"] = jsonField(binds, 4096)
		fields["privileged"] = fmt.Sprint(hc.Privileged)
		var escape []string
		if hc.Privileged {
			escape = append(escape, "privileged")
		}
		for _, bd := range binds {
			if src, _, _ := strings.Cut(bd, ":"); src == "/" || strings.HasPrefix(src, "/etc") || strings.HasPrefix(src, "/root") || strings.HasPrefix(src, "/var/run/docker.sock") || strings.HasPrefix(src, "/proc") {
				escape = append(escape, "bind "+src)
			}
		}
		if hc.PidMode == "host" {
			escape = append(escape, "pid host")
		}
		if hc.NetworkMode == "host" {
			escape = append(escape, "network host")
		}
		for _, cp := range hc.CapAdd {
			if strings.EqualFold(cp, "SYS_ADMIN") || strings.EqualFold(cp, "CAP_SYS_ADMIN") || strings.EqualFold(cp, "ALL") {
				escape = append(escape, "cap "+cp)
			}
		}
		if len(escape) > 0 {
			fields["escape"] = strings.Join(escape, ", ")
			sev = event.Alert
		}
	}
	emit := func(extra map[string]string) {
		for k, v := range extra {
			fields[k] = v
		}
		h.s.emit(c.r, event.TypeCommand, sev, fields)
		c.fields["action"] = "container_create"
	}
	if name != "" && !containerNameRE.MatchString(name) {
		emit(map[string]string{"error": "invalid name"})
		return errorf(http.StatusBadRequest, "Invalid container name ("+name+"), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
	}
	if b.Image == "" {
		emit(map[string]string{"error": "no image"})
		return errorf(http.StatusBadRequest, "No command specified")
	}
	e := h.s.eng
	e.mu.Lock()
	defer e.mu.Unlock()
	im := e.imageByRef(b.Image)
	if im == nil {
		emit(map[string]string{"error": "no such image"})
		return errorf(http.StatusNotFound, "No such image: "+normalizeRef(b.Image))
	}
	name = strings.TrimPrefix(name, "/")
	if name != "" {
		if other := e.lookup(name); other != nil && other.Name == name {
			emit(map[string]string{"error": "name in use"})
			return errorf(http.StatusConflict, `Conflict. The container name "/`+name+`" is already in use by container "`+other.ID+`". You have to remove (or rename) that container to be able to reuse that name.`)
		}
	} else {
		name = randomName()
	}
	ct := &container{ID: randomID(), Name: name, Image: b.Image, ImageID: im.ID, Entrypoint: b.Entrypoint, Cmd: b.Cmd,
		Env: b.Env, Binds: binds, Tty: b.Tty, Labels: b.Labels, Created: h.s.now(), NetworkMode: "default", Config: c.body}
	if len(ct.Cmd) == 0 && len(ct.Entrypoint) == 0 {
		ct.Cmd = strList{"/bin/sh"}
	}
	if hc := b.HostConfig; hc != nil {
		ct.Privileged, ct.AutoRemove = hc.Privileged, hc.AutoRemove
		if hc.NetworkMode != "" {
			ct.NetworkMode = hc.NetworkMode
		}
	}
	if len(raw.HostConfig) > 0 {
		ct.HostConfig = raw.HostConfig
	}
	e.addContainer(ct)
	emit(map[string]string{"container_id": ct.ID, "name": name})
	writeJSON(c.w, http.StatusCreated, struct {
		ID       string   `json:"Id"`
		Warnings []string `json:"Warnings"`
	}{ct.ID, []string{}})
	return nil
}

// action records a container action as a command event.
func (h *handler) action(c *call, action string, ct *container, extra map[string]string) {
	f := map[string]string{"action": action, "container_id": ct.ID, "name": ct.Name, "image": event.Clip(ct.Image, 512)}
	for k, v := range extra {
		f[k] = v
	}
	if _, ok := f[event.FieldCommand]; !ok {
		f[event.FieldCommand] = event.Clip(ct.commandLine(), 4096)
	}
	c.fields["action"] = action
	h.s.emit(c.r, event.TypeCommand, event.Warning, f)
}

// argv is the command a container runs: its entrypoint, then its cmd.
func argv(entrypoint, cmd []string) []string {
	return append(append([]string{}, entrypoint...), cmd...)
}

func (ct *container) commandLine() string {
	return strings.Join(argv(ct.Entrypoint, ct.Cmd), " ")
}

// pid is the host PID a running container's process shows.
func (ct *container) pid() int { return 2000 + int(ct.ID[0])*37 }

func (h *handler) containerStart(c *call, args []string) error {
	return containerKind.with(h.s.eng, args[0], func(ct *container) error {
		h.action(c, "container_start", ct, nil)
		if ct.Running {
			c.w.WriteHeader(http.StatusNotModified)
			return nil
		}
		select {
		case <-ct.exited:
			ct.Running, ct.Started = true, h.s.now() // a restart of an exited container
		default:
			ct.start(h.s.now())
		}
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (h *handler) containerStop(c *call, args []string) error {
	return containerKind.with(h.s.eng, args[0], func(ct *container) error {
		h.action(c, "container_stop", ct, nil)
		if !ct.Running {
			c.w.WriteHeader(http.StatusNotModified)
			return nil
		}
		h.exit(ct, 137)
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// exit stops a container; a restarted one is stopped by hand, since its
// channels closed the first time.
func (h *handler) exit(ct *container, code int) {
	ct.stop(h.s.now(), code)
	ct.Running, ct.Finished, ct.ExitCode = false, h.s.now(), code
}

func (h *handler) containerRestart(c *call, args []string) error {
	return containerKind.with(h.s.eng, args[0], func(ct *container) error {
		h.action(c, "container_restart", ct, nil)
		ct.start(h.s.now())
		ct.Running, ct.Started = true, h.s.now()
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (h *handler) containerKill(c *call, args []string) error {
	return containerKind.with(h.s.eng, args[0], func(ct *container) error {
		h.action(c, "container_kill", ct, map[string]string{"signal": event.Clip(c.r.URL.Query().Get("signal"), 32)})
		if !ct.Running {
			return errorf(http.StatusConflict, "Cannot kill container: "+args[0]+": Container "+ct.ID+" is not running")
		}
		h.exit(ct, 137)
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (h *handler) containerDelete(c *call, args []string) error {
	e := h.s.eng
	return containerKind.with(e, args[0], func(ct *container) error {
		h.action(c, "container_delete", ct, nil)
		if ct.Running && !truthy(c.r.URL.Query().Get("force")) {
			return errorf(http.StatusConflict, "You cannot remove a running container "+ct.ID+". Stop the container before attempting removal or force remove")
		}
		if ct.Running {
			h.exit(ct, 137)
		}
		e.remove(ct)
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// truthy is the engine's boolValue for query parameters.
func truthy(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return !(s == "" || s == "0" || s == "no" || s == "false" || s == "none")
}

func (h *handler) containerResize(c *call, args []string) error {
	return containerKind.with(h.s.eng, args[0], func(*container) error {
		c.w.WriteHeader(http.StatusOK)
		return nil
	})
}

// containerWait answers when the container is no longer running (or, for
// condition=next-exit, when it next exits), as the engine does: headers
// first, so the client knows the wait is in place.
func (h *handler) containerWait(c *call, args []string) error {
	var ct *container
	var exited chan struct{}
	err := containerKind.with(h.s.eng, args[0], func(found *container) error {
		ct, exited = found, found.exited
		// next-exit and removed (docker run, before it starts the
		// container) wait for the next exit; not-running answers at once
		// when stopped.
		if cond := c.r.URL.Query().Get("condition"); cond != "next-exit" && cond != "removed" && !ct.Running {
			exited = nil
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(http.StatusOK)
	c.w.Flush()
	if exited != nil {
		select {
		case <-exited:
		case <-c.r.Context().Done():
			return nil
		case <-h.ctx.Done():
			return nil
		}
	}
	e := h.s.eng
	e.mu.Lock()
	code := ct.ExitCode
	e.mu.Unlock()
	json.NewEncoder(c.w).Encode(struct {
		Error      *string `json:"Error"`
		StatusCode int     `json:"StatusCode"`
	}{nil, code})
	return nil
}

// summary is a /containers/json entry of API 1.43.
type summary struct {
	ID         string            `json:"Id"`
	Names      []string          `json:"Names"`
	Image      string            `json:"Image"`
	ImageID    string            `json:"ImageID"`
	Command    string            `json:"Command"`
	Created    int64             `json:"Created"`
	Ports      []portSummary     `json:"Ports"`
	Labels     map[string]string `json:"Labels"`
	State      string            `json:"State"`
	Status     string            `json:"Status"`
	HostConfig struct {
		NetworkMode string `json:"NetworkMode"`
	} `json:"HostConfig"`
	NetworkSettings struct {
		Networks map[string]endpoint `json:"Networks"`
	} `json:"NetworkSettings"`
	Mounts []mountPoint `json:"Mounts"`
}

type portSummary struct {
	IP          string `json:"IP,omitempty"`
	PrivatePort int    `json:"PrivatePort"`
	PublicPort  int    `json:"PublicPort,omitempty"`
	Type        string `json:"Type"`
}

type endpoint struct {
	IPAMConfig          any    `json:"IPAMConfig"`
	Links               any    `json:"Links"`
	Aliases             any    `json:"Aliases"`
	NetworkID           string `json:"NetworkID"`
	EndpointID          string `json:"EndpointID"`
	Gateway             string `json:"Gateway"`
	IPAddress           string `json:"IPAddress"`
	IPPrefixLen         int    `json:"IPPrefixLen"`
	IPv6Gateway         string `json:"IPv6Gateway"`
	GlobalIPv6Address   string `json:"GlobalIPv6Address"`
	GlobalIPv6PrefixLen int    `json:"GlobalIPv6PrefixLen"`
	MacAddress          string `json:"MacAddress"`
	DriverOpts          any    `json:"DriverOpts"`
}

type mountPoint struct {
	Type        string `json:"Type"`
	Name        string `json:"Name,omitempty"`
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
	Driver      string `json:"Driver,omitempty"`
	Mode        string `json:"Mode"`
	RW          bool   `json:"RW"`
	Propagation string `json:"Propagation"`
}

func (h *handler) endpoint(ct *container) endpoint {
	ep := endpoint{NetworkID: stableID(h.s.cfg.Host.Name, "net", "bridge")}
	if ct.Running {
		ep.EndpointID, ep.Gateway, ep.IPAddress, ep.IPPrefixLen, ep.MacAddress = stableID(ct.ID, "ep"), "172.17.0.1", ct.IP, 16, ct.MAC
	}
	return ep
}

func (ct *container) mounts() []mountPoint {
	out := []mountPoint{}
	for _, b := range ct.Binds {
		parts := strings.Split(b, ":")
		if len(parts) < 2 {
			continue
		}
		m := mountPoint{Type: "bind", Source: parts[0], Destination: parts[1], RW: true, Propagation: "rprivate"}
		if len(parts) > 2 {
			m.Mode = parts[2]
			m.RW = !strings.Contains(parts[2], "ro")
		}
		out = append(out, m)
	}
	return out
}

func (h *handler) summarize(ct *container) summary {
	now := h.s.now()
	s := summary{ID: ct.ID, Names: []string{"/" + ct.Name}, Image: ct.Image, ImageID: ct.ImageID,
		Command: ct.commandLine(), Created: ct.Created.Unix(), Ports: []portSummary{}, Labels: ct.Labels, Mounts: ct.mounts()}
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	for _, p := range ct.Ports {
		if p.Public == 0 {
			s.Ports = append(s.Ports, portSummary{PrivatePort: p.Private, Type: "tcp"})
			continue
		}
		s.Ports = append(s.Ports, portSummary{IP: "0.0.0.0", PrivatePort: p.Private, PublicPort: p.Public, Type: "tcp"},
			portSummary{IP: "::", PrivatePort: p.Private, PublicPort: p.Public, Type: "tcp"})
	}
	switch {
	case ct.Running:
		s.State, s.Status = "running", "Up "+humanDuration(now.Sub(ct.Started))
	case ct.Started.IsZero():
		s.State, s.Status = "created", "Created"
	default:
		s.State, s.Status = "exited", fmt.Sprintf("Exited (%d) %s ago", ct.ExitCode, humanDuration(now.Sub(ct.Finished)))
	}
	s.HostConfig.NetworkMode = ct.NetworkMode
	s.NetworkSettings.Networks = map[string]endpoint{"bridge": h.endpoint(ct)}
	return s
}

func (h *handler) containerList(c *call, _ []string) error {
	q := c.r.URL.Query()
	var filters map[string]map[string]bool
	if f := q.Get("filters"); f != "" {
		if err := json.Unmarshal([]byte(f), &filters); err != nil {
			var legacy map[string][]string
			if json.Unmarshal([]byte(f), &legacy) != nil {
				return err
			}
			filters = map[string]map[string]bool{}
			for k, vs := range legacy {
				filters[k] = map[string]bool{}
				for _, v := range vs {
					filters[k][v] = true
				}
			}
		}
	}
	all := truthy(q.Get("all"))
	e := h.s.eng
	e.mu.Lock()
	out := []summary{}
	for _, ct := range e.sorted() {
		if !all && !ct.Running && filters["status"] == nil {
			continue
		}
		s := h.summarize(ct)
		if st := filters["status"]; st != nil && !st[s.State] {
			continue
		}
		if nm := filters["name"]; nm != nil && !anyContains(nm, ct.Name) {
			continue
		}
		out = append(out, s)
	}
	e.mu.Unlock()
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func anyContains(set map[string]bool, s string) bool {
	for k := range set {
		if strings.Contains(s, strings.TrimPrefix(k, "/")) {
			return true
		}
	}
	return false
}

// containerInspect is GET /containers/{id}/json, the fields clients read.
func (h *handler) containerInspect(c *call, args []string) error {
	return containerKind.with(h.s.eng, args[0], func(ct *container) error {
		writeJSON(c.w, http.StatusOK, h.inspect(ct))
		return nil
	})
}

// inspect is a container's inspect body; the engine lock is held.
func (h *handler) inspect(ct *container) map[string]any {
	status := "created"
	if ct.Running {
		status = "running"
	} else if !ct.Started.IsZero() {
		status = "exited"
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "0001-01-01T00:00:00Z"
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	pid := 0
	if ct.Running {
		pid = ct.pid()
	}
	cmd := argv(ct.Entrypoint, ct.Cmd)
	hostConfig := json.RawMessage(`{"NetworkMode":"default","RestartPolicy":{"Name":"no","MaximumRetryCount":0}}`)
	if len(ct.HostConfig) > 0 && json.Valid(ct.HostConfig) {
		hostConfig = ct.HostConfig
	}
	id12 := ct.ID[:12]
	body := map[string]any{
		"Id": ct.ID, "Created": ts(ct.Created), "Path": first(cmd), "Args": rest(cmd),
		"State": map[string]any{"Status": status, "Running": ct.Running, "Paused": false, "Restarting": false, "OOMKilled": false,
			"Dead": false, "Pid": pid, "ExitCode": ct.ExitCode, "Error": "", "StartedAt": ts(ct.Started), "FinishedAt": ts(ct.Finished)},
		"Image":          ct.ImageID,
		"ResolvConfPath": "/var/lib/docker/containers/" + ct.ID + "/resolv.conf",
		"HostnamePath":   "/var/lib/docker/containers/" + ct.ID + "/hostname",
		"HostsPath":      "/var/lib/docker/containers/" + ct.ID + "/hosts",
		"LogPath":        "/var/lib/docker/containers/" + ct.ID + "/" + ct.ID + "-json.log",
		"Name":           "/" + ct.Name, "RestartCount": 0, "Driver": "overlay2", "Platform": "linux",
		"MountLabel": "", "ProcessLabel": "", "AppArmorProfile": "docker-default", "ExecIDs": nil,
		"HostConfig": hostConfig,
		"Mounts":     ct.mounts(),
		"Config": map[string]any{"Hostname": id12, "Domainname": "", "User": "", "AttachStdin": false, "AttachStdout": false,
			"AttachStderr": false, "Tty": ct.Tty, "OpenStdin": false, "StdinOnce": false, "Env": ct.Env, "Cmd": ct.Cmd,
			"Image": ct.Image, "Volumes": nil, "WorkingDir": "", "Entrypoint": ct.Entrypoint, "OnBuild": nil, "Labels": ct.Labels},
		"NetworkSettings": map[string]any{"Bridge": "", "SandboxID": stableID(ct.ID, "sandbox"), "HairpinMode": false,
			"Gateway": h.endpoint(ct).Gateway, "IPAddress": h.endpoint(ct).IPAddress, "IPPrefixLen": h.endpoint(ct).IPPrefixLen,
			"MacAddress": h.endpoint(ct).MacAddress, "Networks": map[string]endpoint{"bridge": h.endpoint(ct)}},
	}
	if ct.Privileged {
		body["AppArmorProfile"] = "unconfined"
	}
	return body
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

func rest(l []string) []string {
	if len(l) < 2 {
		return []string{}
	}
	return l[1:]
}

// containerTop is GET /containers/{id}/top: ps -ef of the container.
func (h *handler) containerTop(c *call, args []string) error {
	return containerKind.with(h.s.eng, args[0], func(ct *container) error {
		if !ct.Running {
			return notRunning(ct.ID)
		}
		pid := ct.pid()
		writeJSON(c.w, http.StatusOK, map[string]any{
			"Processes": [][]string{{"root", itoa(pid), itoa(pid - 23), "0", ct.Started.Format("15:04"), "?", "00:00:00", ct.commandLine()}},
			"Titles":    []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"},
		})
		return nil
	})
}

// humanDuration is go-units' HumanDuration, which docker ps uses.
func humanDuration(d time.Duration) string {
	if s := int(d.Seconds()); s < 1 {
		return "Less than a second"
	} else if s == 1 {
		return "1 second"
	} else if s < 60 {
		return fmt.Sprintf("%d seconds", s)
	} else if m := int(d.Minutes()); m == 1 {
		return "About a minute"
	} else if m < 60 {
		return fmt.Sprintf("%d minutes", m)
	} else if hrs := int(d.Round(time.Hour).Hours()); hrs == 1 {
		return "About an hour"
	} else if hrs < 48 {
		return fmt.Sprintf("%d hours", hrs)
	} else if hrs < 24*7*2 {
		return fmt.Sprintf("%d days", hrs/24)
	} else if hrs < 24*30*2 {
		return fmt.Sprintf("%d weeks", hrs/24/7)
	} else if hrs < 24*365*2 {
		return fmt.Sprintf("%d months", hrs/24/30)
	}
	return fmt.Sprintf("%d years", int(d.Hours())/24/365)
}

// randomName is the engine's generated name: adjective_surname.
func randomName() string {
	adj := []string{"admiring", "brave", "clever", "eager", "focused", "gallant", "jolly", "keen", "nifty", "quirky", "relaxed", "sharp", "stoic", "vibrant", "zealous"}
	sur := []string{"albattani", "babbage", "curie", "darwin", "einstein", "feynman", "galileo", "hopper", "kepler", "lovelace", "newton", "pasteur", "tesla", "turing", "wozniak"}
	id := randomID()
	return adj[int(id[0])%len(adj)] + "_" + sur[int(id[1])%len(sur)]
}
