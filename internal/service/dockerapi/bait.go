package dockerapi

import (
	"fmt"
	"strings"
	"time"
)

// baitKind is what a bait image runs: its command, ports and log lines.
type baitKind struct {
	entrypoint, cmd []string
	ports           []portMap
	logs            func(start time.Time, ip string) string
}

var baitKinds = map[string]baitKind{
	"nginx": {[]string{"/docker-entrypoint.sh"}, []string{"nginx", "-g", "daemon off;"}, []portMap{{80, 8080}},
		func(t time.Time, _ string) string {
			ts := t.Format("2006/01/02 15:04:05")
			return "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration\n" +
				"/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/\n" +
				"/docker-entrypoint.sh: Configuration complete; ready for start up\n" +
				ts + " [notice] 1#1: using the \"epoll\" event method\n" +
				ts + " [notice] 1#1: nginx/1.25.2\n" +
				ts + " [notice] 1#1: start worker processes\n" +
				"172.17.0.1 - - [" + t.Add(3*time.Hour).Format("02/Jan/2006:15:04:05 -0700") + "] \"GET /healthz HTTP/1.1\" 200 2 \"-\" \"kube-probe/1.27\" \"-\"\n"
		}},
	"postgres": {[]string{"docker-entrypoint.sh"}, []string{"postgres"}, []portMap{{5432, 0}},
		func(t time.Time, _ string) string {
			ts := t.UTC().Format("2006-01-02 15:04:05.000 UTC")
			return "\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n" +
				ts + " [1] LOG:  starting PostgreSQL 15.4 (Debian 15.4-1.pgdg120+1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit\n" +
				ts + " [1] LOG:  listening on IPv4 address \"0.0.0.0\", port 5432\n" +
				ts + " [1] LOG:  database system is ready to accept connections\n"
		}},
	"redis": {[]string{"docker-entrypoint.sh"}, []string{"redis-server"}, []portMap{{6379, 0}},
		func(t time.Time, _ string) string {
			ts := t.UTC().Format("02 Jan 2006 15:04:05.000")
			return "1:C " + ts + " # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo\n" +
				"1:M " + ts + " * Server initialized\n" +
				"1:M " + ts + " * Ready to accept connections tcp\n"
		}},
}

// seedBait creates the persona's running containers and their images.
func (s *Server) seedBait(seed string) {
	e := s.eng
	for i, entry := range s.p.Containers {
		name, ref, _ := strings.Cut(entry, "=")
		ref = normalizeRef(ref)
		created := s.booted.Add(-time.Duration(40+i*13) * 24 * time.Hour)
		im := e.addImage(ref, seed, created.Add(-30*24*time.Hour))
		repo := repoOf(ref)
		kind, ok := baitKinds[repo[strings.LastIndexByte(repo, '/')+1:]]
		if !ok {
			kind = baitKind{cmd: []string{"/bin/sh", "-c", "./start.sh"}, logs: func(time.Time, string) string { return "" }}
		}
		ct := &container{ID: stableID(seed, "container", name), Name: name, Image: ref, ImageID: im.ID,
			Entrypoint: kind.entrypoint, Cmd: kind.cmd, Ports: kind.ports, Created: created, NetworkMode: "bridge",
			Labels: map[string]string{}, Bait: true,
			HostConfig: fmt.Appendf(nil, `{"NetworkMode":"bridge","RestartPolicy":{"Name":"unless-stopped","MaximumRetryCount":0}}`)}
		e.addContainer(ct)
		ct.start(s.booted.Add(time.Duration(40+i*7) * time.Second))
		ct.logs = []byte(kind.logs(ct.Started, ct.IP))
	}
}
