package k8s

import (
	"fmt"
	"slices"
	"strings"
)

// Persona is what a decky's API server claims to be.
type Persona struct {
	// Version is the kube-apiserver release: its /version document and
	// discovery. Only releases whose build facts are known are accepted.
	Version string `ini:"version"`
	// Auth is what a bearer token or client certificate on 6443 gets:
	// "accept" lists the bait objects and accepts creations (the token
	// was valid), "reject" answers 401 Unauthorized as the apiserver
	// does for a token it does not know. Both record the credential.
	Auth string `ini:"auth"`
	// NodeName is the control-plane node's name (kubeadm uses the
	// hostname); empty means the decky's hostname, lower-cased.
	NodeName string `ini:"node_name"`
}

// The auth modes.
const (
	authAccept = "accept"
	authReject = "reject"
)

// release is what kube-apiserver's /version says about its build.
type release struct {
	GitVersion, GitCommit, BuildDate, GoVersion string
}

// releases are the builds whose facts were read from real servers.
var releases = map[string]release{
	// kube-apiserver v1.28.3 (registry.k8s.io image and release tarball).
	"v1.28.3": {"v1.28.3", "a8a1abc25cad87333840cd7d54be2efaf31a3177", "2023-10-18T11:33:18Z", "go1.20.10"},
}

func defaultPersona() any { return &Persona{Version: "v1.28.3", Auth: authAccept} }

// Validate checks the release and the auth mode.
func (p *Persona) Validate() error {
	if _, ok := releases[p.Version]; !ok {
		known := make([]string, 0, len(releases))
		for v := range releases {
			known = append(known, v)
		}
		slices.Sort(known)
		return fmt.Errorf("version %q: want one of %s", p.Version, strings.Join(known, ", "))
	}
	if p.Auth != authAccept && p.Auth != authReject {
		return fmt.Errorf("auth %q: want %s or %s", p.Auth, authAccept, authReject)
	}
	if strings.ContainsAny(p.NodeName, " /\r\n\t") {
		return fmt.Errorf("node_name %q is not a node name", p.NodeName)
	}
	return nil
}
