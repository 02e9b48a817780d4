package k8s

import (
	"encoding/json"
	"fmt"
	"strings"

	"decnet/internal/event"
)

// serveResource answers an authorized resource request from the bait
// cluster.
func (s *Server) serveResource(rp *reply, ri reqInfo, id identity, body []byte, cs *connState) {
	gv, ok := lookup(discovery128, ri.group, ri.version)
	if !ok {
		s.notFound(rp)
		return
	}
	res, ok := gv.find(ri.fullResource())
	if !ok || (ri.name == "" && ri.subresource == "" && ri.verb != "list" && ri.verb != "watch" && ri.verb != "create" && ri.verb != "deletecollection") {
		s.notFound(rp)
		return
	}
	k := key(ri.group, ri.kind)
	ns := ri.namespace
	if ri.kind == "namespaces" {
		ns = ""
	}
	switch ri.subresource {
	case "":
	case "exec", "attach", "portforward", "log", "proxy":
		s.recordCommand(rp, ri, cs)
		if _, ok := s.bait.get(k, ns, ri.name); !ok {
			s.objectNotFound(rp, ri)
			return
		}
		// The kubelet of a real cluster behind a firewall: the apiserver
		// cannot reach it.
		s.writeStatus(rp, 500, fmt.Sprintf("error dialing backend: dial tcp %s:10250: i/o timeout", s.ip), "", nil)
		return
	default:
		if o, ok := s.bait.get(k, ns, ri.name); ok {
			s.writeJSON(rp, 200, o)
		} else {
			s.objectNotFound(rp, ri)
		}
		return
	}
	switch ri.verb {
	case "list", "watch":
		items := s.bait.list(k, ns)
		if strings.Contains(rp.r.Header.Get("Accept"), "as=Table") {
			s.writeJSON(rp, 200, s.table(ri.kind, items))
			return
		}
		if items == nil {
			items = []obj{}
		}
		apiVersion := gv.String()
		s.writeJSON(rp, 200, obj{{"kind", listKind(res)}, {"apiVersion", apiVersion}, {"metadata", obj{{"resourceVersion", s.bait.resourceVersion()}}}, {"items", items}})
	case "get", "update", "patch", "delete":
		o, ok := s.bait.get(k, ns, ri.name)
		if !ok {
			s.objectNotFound(rp, ri)
			return
		}
		if ri.verb == "get" && strings.Contains(rp.r.Header.Get("Accept"), "as=Table") {
			s.writeJSON(rp, 200, s.table(ri.kind, []obj{o}))
			return
		}
		s.writeJSON(rp, 200, o)
	case "create":
		s.create(rp, ri, res, body, cs, id)
	case "deletecollection":
		s.writeJSON(rp, 200, obj{{"kind", listKind(res)}, {"apiVersion", gv.String()}, {"metadata", obj{{"resourceVersion", s.bait.resourceVersion()}}}, {"items", []obj{}}})
	default:
		s.writeStatus(rp, 405, "the server does not allow this method on the requested resource", "MethodNotAllowed", obj{})
	}
}

// recordCommand emits an exec, attach, port-forward, log or proxy
// request: the command and container an attacker asked for.
func (s *Server) recordCommand(rp *reply, ri reqInfo, cs *connState) {
	q := rp.r.URL.Query()
	f := copyMap(cs.fields)
	f["resource"] = "pods/" + ri.subresource
	f["namespace"] = event.Clip(ri.namespace, 256)
	f["pod"] = event.Clip(ri.name, 256)
	if c := q.Get("container"); c != "" {
		f["container"] = event.Clip(c, 256)
	}
	if cmd := q["command"]; len(cmd) > 0 {
		f[event.FieldCommand] = event.Clip(strings.Join(cmd, " "), 4096)
		argv, _ := json.Marshal(cmd)
		f["argv"] = event.Clip(string(argv), 4096)
	}
	for _, k := range []string{"stdin", "stdout", "tty", "ports"} {
		if v := q.Get(k); v != "" {
			f[k] = event.Clip(v, 64)
		}
	}
	s.emit.Emit(event.Event{Type: event.TypeCommand, Severity: event.Warning, Fields: f})
}
