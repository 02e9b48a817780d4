package dockerapi

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"decnet/internal/event"
)

func itoa(n int) string { return strconv.Itoa(n) }

func hexString(b []byte) string { return hex.EncodeToString(b) }

// ping is GET and HEAD /_ping: the first request of every client, whose
// Api-Version header the CLI negotiates from.
func (h *handler) ping(c *call, _ []string) error {
	hd := c.w.Header()
	hd.Set("Builder-Version", "2")
	hd.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	hd.Set("Pragma", "no-cache")
	if c.r.Method == http.MethodHead {
		hd.Set("Content-Type", "text/plain; charset=utf-8")
		hd.Set("Content-Length", "0")
		return nil
	}
	c.w.Write([]byte("OK"))
	return nil
}

type component struct {
	Name    string            `json:"Name"`
	Version string            `json:"Version"`
	Details map[string]string `json:"Details,omitempty"`
}

type versionBody struct {
	Platform      struct{ Name string } `json:"Platform"`
	Components    []component           `json:"Components"`
	Version       string                `json:"Version"`
	APIVersion    string                `json:"ApiVersion"`
	MinAPIVersion string                `json:"MinAPIVersion"`
	GitCommit     string                `json:"GitCommit"`
	GoVersion     string                `json:"GoVersion"`
	Os            string                `json:"Os"`
	Arch          string                `json:"Arch"`
	KernelVersion string                `json:"KernelVersion"`
	BuildTime     string                `json:"BuildTime"`
}

// versionCommit splits a persona "version commit" pair.
func versionCommit(s string) (string, string) {
	v, c, _ := strings.Cut(strings.TrimSpace(s), " ")
	return v, strings.TrimSpace(c)
}

func (h *handler) version(c *call, _ []string) error {
	p := h.s.p
	v := versionBody{Version: p.Version, APIVersion: p.APIVersion, MinAPIVersion: p.MinAPIVersion, GitCommit: p.GitCommit,
		GoVersion: p.GoVersion, Os: "linux", Arch: "amd64", KernelVersion: h.s.host.kernel, BuildTime: p.BuildTime}
	v.Platform.Name = "Docker Engine - Community"
	cv, cc := versionCommit(p.Containerd)
	rv, rc := versionCommit(p.Runc)
	v.Components = []component{
		{"Engine", p.Version, map[string]string{"ApiVersion": p.APIVersion, "Arch": "amd64", "BuildTime": p.BuildTime,
			"Experimental": "false", "GitCommit": p.GitCommit, "GoVersion": p.GoVersion, "KernelVersion": h.s.host.kernel,
			"MinAPIVersion": p.MinAPIVersion, "Os": "linux"}},
		{"containerd", cv, map[string]string{"GitCommit": cc}},
		{"runc", rv, map[string]string{"GitCommit": rc}},
		{"docker-init", "0.19.0", map[string]string{"GitCommit": "de40ad0"}},
	}
	writeJSON(c.w, http.StatusOK, v)
	return nil
}

type commit struct {
	ID       string `json:"ID"`
	Expected string `json:"Expected"`
}

// infoBody is /info of API 1.43, in the engine's field order.
type infoBody struct {
	ID                 string              `json:"ID"`
	Containers         int                 `json:"Containers"`
	ContainersRunning  int                 `json:"ContainersRunning"`
	ContainersPaused   int                 `json:"ContainersPaused"`
	ContainersStopped  int                 `json:"ContainersStopped"`
	Images             int                 `json:"Images"`
	Driver             string              `json:"Driver"`
	DriverStatus       [][2]string         `json:"DriverStatus"`
	Plugins            map[string][]string `json:"Plugins"`
	MemoryLimit        bool                `json:"MemoryLimit"`
	SwapLimit          bool                `json:"SwapLimit"`
	KernelMemoryTCP    bool                `json:"KernelMemoryTCP"`
	CPUCfsPeriod       bool                `json:"CpuCfsPeriod"`
	CPUCfsQuota        bool                `json:"CpuCfsQuota"`
	CPUShares          bool                `json:"CPUShares"`
	CPUSet             bool                `json:"CPUSet"`
	PidsLimit          bool                `json:"PidsLimit"`
	IPv4Forwarding     bool                `json:"IPv4Forwarding"`
	BridgeNfIptables   bool                `json:"BridgeNfIptables"`
	BridgeNfIP6tables  bool                `json:"BridgeNfIp6tables"`
	Debug              bool                `json:"Debug"`
	NFd                int                 `json:"NFd"`
	OomKillDisable     bool                `json:"OomKillDisable"`
	NGoroutines        int                 `json:"NGoroutines"`
	SystemTime         string              `json:"SystemTime"`
	LoggingDriver      string              `json:"LoggingDriver"`
	CgroupDriver       string              `json:"CgroupDriver"`
	CgroupVersion      string              `json:"CgroupVersion"`
	NEventsListener    int                 `json:"NEventsListener"`
	KernelVersion      string              `json:"KernelVersion"`
	OperatingSystem    string              `json:"OperatingSystem"`
	OSVersion          string              `json:"OSVersion"`
	OSType             string              `json:"OSType"`
	Architecture       string              `json:"Architecture"`
	IndexServerAddress string              `json:"IndexServerAddress"`
	RegistryConfig     json.RawMessage     `json:"RegistryConfig"`
	NCPU               int                 `json:"NCPU"`
	MemTotal           int64               `json:"MemTotal"`
	GenericResources   any                 `json:"GenericResources"`
	DockerRootDir      string              `json:"DockerRootDir"`
	HTTPProxy          string              `json:"HttpProxy"`
	HTTPSProxy         string              `json:"HttpsProxy"`
	NoProxy            string              `json:"NoProxy"`
	Name               string              `json:"Name"`
	Labels             []string            `json:"Labels"`
	ExperimentalBuild  bool                `json:"ExperimentalBuild"`
	ServerVersion      string              `json:"ServerVersion"`
	Runtimes           json.RawMessage     `json:"Runtimes"`
	DefaultRuntime     string              `json:"DefaultRuntime"`
	Swarm              json.RawMessage     `json:"Swarm"`
	LiveRestoreEnabled bool                `json:"LiveRestoreEnabled"`
	Isolation          string              `json:"Isolation"`
	InitBinary         string              `json:"InitBinary"`
	ContainerdCommit   commit              `json:"ContainerdCommit"`
	RuncCommit         commit              `json:"RuncCommit"`
	InitCommit         commit              `json:"InitCommit"`
	SecurityOptions    []string            `json:"SecurityOptions"`
	Warnings           []string            `json:"Warnings"`
}

// attackSurfaceWarning is what dockerd 24 adds to /info for a TCP socket
// without TLS verification.
const attackSurfaceWarning = `WARNING: API is accessible on http://0.0.0.0:2375 without encryption.
         Access to the remote API is equivalent to root access on the host. Refer
         to the 'Docker daemon attack surface' section in the documentation for
         more information: https://docs.docker.com/go/attack-surface/`

func (h *handler) info(c *call, _ []string) error {
	s, p := h.s, h.s.p
	s.eng.mu.Lock()
	var running, stopped int
	for _, ct := range s.eng.containers {
		if ct.Running {
			running++
		} else {
			stopped++
		}
	}
	images := len(s.eng.images)
	s.eng.mu.Unlock()
	cgroupDriver, cgroupVersion := "systemd", "2"
	security := []string{"name=apparmor", "name=seccomp,profile=builtin", "name=cgroupns"}
	if s.host.cgroupV1 {
		cgroupDriver, cgroupVersion = "cgroupfs", "1"
		security = security[:2]
	}
	_, cc := versionCommit(p.Containerd)
	_, rc := versionCommit(p.Runc)
	body := infoBody{
		ID: s.daemon, Containers: running + stopped, ContainersRunning: running, ContainersStopped: stopped, Images: images,
		Driver:       "overlay2",
		DriverStatus: [][2]string{{"Backing Filesystem", "extfs"}, {"Supports d_type", "true"}, {"Using metacopy", "false"}, {"Native Overlay Diff", "true"}, {"userxattr", "false"}},
		Plugins: map[string][]string{"Volume": {"local"}, "Network": {"bridge", "host", "ipvlan", "macvlan", "null", "overlay"},
			"Authorization": nil, "Log": {"awslogs", "fluentd", "gcplogs", "gelf", "journald", "json-file", "local", "logentries", "splunk", "syslog"}},
		MemoryLimit: true, SwapLimit: false, KernelMemoryTCP: !s.host.cgroupV1, CPUCfsPeriod: true, CPUCfsQuota: true, CPUShares: true,
		CPUSet: true, PidsLimit: true, IPv4Forwarding: true, BridgeNfIptables: true, BridgeNfIP6tables: true,
		NFd: 33 + 6*running, OomKillDisable: s.host.cgroupV1, NGoroutines: 41 + 9*running,
		SystemTime:    s.now().Format("2006-01-02T15:04:05.999999999Z07:00"),
		LoggingDriver: "json-file", CgroupDriver: cgroupDriver, CgroupVersion: cgroupVersion,
		KernelVersion: s.host.kernel, OperatingSystem: s.host.name, OSVersion: s.host.version, OSType: "linux", Architecture: "x86_64",
		IndexServerAddress: "https://index.docker.io/v1/",
		RegistryConfig:     json.RawMessage(`{"AllowNondistributableArtifactsCIDRs":null,"AllowNondistributableArtifactsHostnames":null,"InsecureRegistryCIDRs":["127.0.0.0/8"],"IndexConfigs":{"docker.io":{"Name":"docker.io","Mirrors":[],"Secure":true,"Official":true}},"Mirrors":null}`),
		NCPU:               p.NCPU, MemTotal: int64(p.MemTotalMB) << 20, DockerRootDir: "/var/lib/docker",
		Name: s.cfg.Host.Hostname, Labels: []string{}, ServerVersion: p.Version,
		Runtimes:         json.RawMessage(`{"io.containerd.runc.v2":{"path":"runc"},"runc":{"path":"runc"}}`),
		DefaultRuntime:   "runc",
		Swarm:            json.RawMessage(`{"NodeID":"","NodeAddr":"","LocalNodeState":"inactive","ControlAvailable":false,"Error":"","RemoteManagers":null}`),
		InitBinary:       "docker-init",
		ContainerdCommit: commit{cc, cc}, RuncCommit: commit{rc, rc}, InitCommit: commit{"de40ad0", "de40ad0"},
		SecurityOptions: security,
	}
	if c.r.TLS == nil {
		body.Warnings = []string{attackSurfaceWarning}
	}
	if !s.host.cgroupV1 {
		body.Warnings = append(body.Warnings, "WARNING: No swap limit support")
	}
	writeJSON(c.w, http.StatusOK, body)
	return nil
}

// networkList is GET /networks: the three default networks.
func (h *handler) networkList(c *call, _ []string) error {
	created := h.s.booted.Add(-90 * 24 * 3600e9).UTC().Format("2006-01-02T15:04:05.999999999Z")
	seed := h.s.cfg.Host.Name
	nets := []map[string]any{}
	for _, n := range []struct{ name, driver, subnet string }{{"bridge", "bridge", "172.17.0.0/16"}, {"host", "host", ""}, {"none", "null", ""}} {
		ipam := map[string]any{"Driver": "default", "Options": nil, "Config": []map[string]string{}}
		if n.subnet != "" {
			ipam["Config"] = []map[string]string{{"Subnet": n.subnet, "Gateway": "172.17.0.1"}}
		}
		nets = append(nets, map[string]any{"Name": n.name, "Id": stableID(seed, "net", n.name), "Created": created, "Scope": "local",
			"Driver": n.driver, "EnableIPv6": false, "IPAM": ipam, "Internal": false, "Attachable": false, "Ingress": false,
			"ConfigFrom": map[string]string{"Network": ""}, "ConfigOnly": false, "Containers": map[string]any{},
			"Options": map[string]string{}, "Labels": map[string]string{}})
	}
	writeJSON(c.w, http.StatusOK, nets)
	return nil
}

// volumeList is GET /volumes: the bait database's data volume.
func (h *handler) volumeList(c *call, _ []string) error {
	name := stableID(h.s.cfg.Host.Name, "volume")
	writeJSON(c.w, http.StatusOK, map[string]any{"Volumes": []map[string]any{{
		"CreatedAt": h.s.booted.UTC().Format("2006-01-02T15:04:05Z07:00"), "Driver": "local", "Labels": nil,
		"Mountpoint": "/var/lib/docker/volumes/" + name + "/_data", "Name": name, "Options": nil, "Scope": "local"}},
		"Warnings": nil})
	return nil
}

// registryAuth is what `docker login` posts and what X-Registry-Auth
// carries (base64url JSON).
type registryAuth struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	Auth          string `json:"auth"`
	ServerAddress string `json:"serveraddress"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// recordAuth turns registry credentials into an auth event.
func (h *handler) recordAuth(c *call, a registryAuth, via string) {
	if a.Username == "" && a.Password == "" && a.Auth != "" {
		if raw, err := base64.StdEncoding.DecodeString(a.Auth); err == nil {
			a.Username, a.Password, _ = strings.Cut(string(raw), ":")
		}
	}
	f := map[string]string{"method": via, "registry": event.Clip(a.ServerAddress, 256)}
	switch {
	case a.Username != "" || a.Password != "":
		f[event.FieldUsername], f[event.FieldPassword] = event.Clip(a.Username, 256), event.Clip(a.Password, 512)
	case a.IdentityToken != "" || a.RegistryToken != "":
		f[event.FieldToken], f[event.FieldTokenType] = event.Clip(a.IdentityToken+a.RegistryToken, 4096), "bearer"
	default:
		return
	}
	h.s.emit(c.r, event.TypeAuth, event.Warning, f)
}

// registryHeader decodes an X-Registry-Auth header.
func (h *handler) registryHeader(c *call) {
	v := c.r.Header.Get("X-Registry-Auth")
	if v == "" {
		return
	}
	raw, err := base64.URLEncoding.DecodeString(v)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
	}
	var a registryAuth
	if err == nil && json.Unmarshal(raw, &a) == nil {
		h.recordAuth(c, a, "x-registry-auth")
	}
}

// auth is POST /auth (docker login against the daemon): the credentials
// are recorded and, as if the registry took them, accepted.
func (h *handler) auth(c *call, _ []string) error {
	var a registryAuth
	if err := decodeJSON(c, &a); err != nil {
		return err
	}
	h.recordAuth(c, a, "login")
	writeJSON(c.w, http.StatusOK, struct {
		IdentityToken string `json:"IdentityToken"`
		Status        string `json:"Status"`
	}{"", "Login Succeeded"})
	return nil
}
