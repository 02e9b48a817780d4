package k8s

import (
	"encoding/json"
	"fmt"
	"strconv"

	"decnet/internal/event"
)

// container is what matters of a container an attacker asks for.
type container struct {
	Name            string   `json:"name"`
	Image           string   `json:"image"`
	Command         []string `json:"command"`
	Args            []string `json:"args"`
	SecurityContext *struct {
		Privileged               *bool `json:"privileged"`
		AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation"`
		Capabilities             *struct {
			Add []string `json:"add"`
		} `json:"capabilities"`
	} `json:"securityContext"`
}

// podSpec is what matters of a pod spec.
type podSpec struct {
	Containers         []container `json:"containers"`
	InitContainers     []container `json:"initContainers"`
	HostNetwork        bool        `json:"hostNetwork"`
	HostPID            bool        `json:"hostPID"`
	HostIPC            bool        `json:"hostIPC"`
	NodeName           string      `json:"nodeName"`
	ServiceAccountName string      `json:"serviceAccountName"`
	Volumes            []struct {
		Name     string `json:"name"`
		HostPath *struct {
			Path string `json:"path"`
		} `json:"hostPath"`
	} `json:"volumes"`
}

// workload is a creation request's object: a pod, or a controller with a
// pod template (deployment, daemonset, job, cronjob ...).
type workload struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name         string `json:"name"`
		GenerateName string `json:"generateName"`
		Namespace    string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		podSpec
		Template *struct {
			Spec podSpec `json:"spec"`
		} `json:"template"`
		JobTemplate *struct {
			Spec struct {
				Template struct {
					Spec podSpec `json:"spec"`
				} `json:"template"`
			} `json:"spec"`
		} `json:"jobTemplate"`
	} `json:"spec"`
}

// pod returns the pod spec the workload would run.
func (w *workload) pod() podSpec {
	switch {
	case w.Spec.Template != nil:
		return w.Spec.Template.Spec
	case w.Spec.JobTemplate != nil:
		return w.Spec.JobTemplate.Spec.Template.Spec
	}
	return w.Spec.podSpec
}

// workloadFields are the event fields of a creation: images, commands,
// host mounts and privileges, JSON-encoded where they are lists.
func workloadFields(w *workload) map[string]string {
	ps := w.pod()
	f := map[string]string{}
	var images, commands, hostPaths, caps []string
	privileged := false
	for _, c := range append(append([]container{}, ps.InitContainers...), ps.Containers...) {
		images = append(images, c.Image)
		if argv := append(append([]string{}, c.Command...), c.Args...); len(argv) > 0 {
			b, _ := json.Marshal(argv)
			commands = append(commands, string(b))
		}
		if sc := c.SecurityContext; sc != nil {
			if sc.Privileged != nil && *sc.Privileged {
				privileged = true
			}
			if sc.Capabilities != nil {
				caps = append(caps, sc.Capabilities.Add...)
			}
		}
	}
	for _, v := range ps.Volumes {
		if v.HostPath != nil {
			hostPaths = append(hostPaths, v.HostPath.Path)
		}
	}
	list := func(k string, v []string, n int) {
		if len(v) > 0 {
			b, _ := json.Marshal(v)
			f[k] = event.Clip(string(b), n)
		}
	}
	list("images", images, 4096)
	list("commands", commands, 8192)
	list("host_paths", hostPaths, 4096)
	list("capabilities", caps, 1024)
	f["privileged"] = strconv.FormatBool(privileged)
	f["host_network"] = strconv.FormatBool(ps.HostNetwork)
	f["host_pid"] = strconv.FormatBool(ps.HostPID)
	f["host_ipc"] = strconv.FormatBool(ps.HostIPC)
	if ps.NodeName != "" {
		f["node_name"] = event.Clip(ps.NodeName, 256)
	}
	if ps.ServiceAccountName != "" {
		f["service_account"] = event.Clip(ps.ServiceAccountName, 256)
	}
	return f
}

// parseWorkload reads a creation body (JSON; kubectl never sends YAML).
func parseWorkload(body []byte) (*workload, error) {
	var w workload
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("workload: %w", err)
	}
	return &w, nil
}

// recordCreate emits the create event of a creation request, allowed or
// not, and returns the decoded workload, the raw object (nil when the
// body is not a JSON object) and the name it gets.
func (s *Server) recordCreate(ri reqInfo, body []byte, cs *connState, allowed bool) (*workload, map[string]any, string) {
	f := copyMap(cs.fields)
	f["resource"] = event.Clip(qualified(ri.group, ri.kind), 256)
	f["namespace"] = event.Clip(ri.namespace, 256)
	f["allowed"] = strconv.FormatBool(allowed)
	f["body"] = event.Clip(string(body), 65536)
	var raw map[string]any
	w, err := parseWorkload(body)
	if err == nil {
		err = json.Unmarshal(body, &raw)
	}
	if err != nil || raw == nil {
		f["error"] = "undecodable body"
		s.emit.Emit(event.Event{Type: "create", Severity: event.Warning, Fields: f})
		return nil, nil, ""
	}
	for k, v := range workloadFields(w) {
		f[k] = v
	}
	name := w.Metadata.Name
	if name == "" && w.Metadata.GenerateName != "" {
		name = w.Metadata.GenerateName + randSuffix(newUUID(), 5)
	}
	f["name"] = event.Clip(name, 256)
	s.emit.Emit(event.Event{Type: "create", Severity: event.Warning, Fields: f})
	return w, raw, name
}

// create records a creation in full and answers as the apiserver does
// for the credentials it accepted: 201 with the stored object.
func (s *Server) create(rp *reply, ri reqInfo, res resource, body []byte, cs *connState, id identity) {
	if st, ok := review(res.Kind, id); ok {
		var raw map[string]any
		if json.Unmarshal(body, &raw) != nil || raw == nil {
			raw = map[string]any{}
		}
		s.writeJSON(rp, 201, obj{{"kind", res.Kind}, {"apiVersion", apiVersionOf(ri)}, {"metadata", obj{{"creationTimestamp", nil}}}, {"spec", orEmpty(raw["spec"])}, {"status", st}})
		return
	}
	_, raw, name := s.recordCreate(ri, body, cs, true)
	if raw == nil {
		s.writeStatus(rp, 400, "the object provided is unrecognized (must be of type "+res.Kind+"): couldn't get version/kind; json parse error: unexpected end of JSON input", "BadRequest", obj{})
		return
	}
	if name == "" {
		s.writeStatus(rp, 422, res.Kind+` "" is invalid: metadata.name: Required value: name or generateName is required`, "Invalid", obj{{"kind", ri.kind}})
		return
	}
	// The stored object: the client's, with the server's metadata.
	meta, _ := raw["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["name"] = name
	if ri.namespace != "" {
		meta["namespace"] = ri.namespace
	}
	s.bait.mu.Lock()
	meta["resourceVersion"] = s.bait.nextRV()
	s.bait.mu.Unlock()
	meta["uid"] = newUUID()
	meta["creationTimestamp"] = stamp(s.now())
	raw["metadata"] = meta
	if ri.kind == "pods" {
		raw["status"] = map[string]any{"phase": "Pending", "qosClass": "BestEffort"}
	}
	out := obj{{"kind", res.Kind}, {"apiVersion", apiVersionOf(ri)}, {"metadata", orderedMeta(meta)}}
	for _, k := range []string{"spec", "data", "stringData", "type", "status"} {
		if v, ok := raw[k]; ok {
			out = append(out, kv{k, v})
		}
	}
	if rp.r.URL.Query().Get("dryRun") == "" && !s.bait.add(key(ri.group, ri.kind), out) {
		s.writeStatus(rp, 409, fmt.Sprintf("%s %q already exists", qualified(ri.group, ri.kind), name), "AlreadyExists", details(name, ri.group, ri.kind))
		return
	}
	s.writeJSON(rp, 201, out)
}

func apiVersionOf(ri reqInfo) string {
	if ri.group == "" {
		return ri.version
	}
	return ri.group + "/" + ri.version
}

// orderedMeta lays out metadata in ObjectMeta's field order.
func orderedMeta(m map[string]any) obj {
	var o obj
	for _, k := range []string{"name", "generateName", "namespace", "uid", "resourceVersion", "creationTimestamp", "labels", "annotations"} {
		if v, ok := m[k]; ok && v != nil {
			o = append(o, kv{k, v})
		}
	}
	return o
}

// review is the status of a review an admin asks for about itself: what
// kubectl auth can-i and auth whoami create.
func review(kind string, id identity) (obj, bool) {
	switch kind {
	case "SelfSubjectAccessReview", "SubjectAccessReview", "LocalSubjectAccessReview":
		return obj{{"allowed", true}, {"reason", ""}}, true
	case "SelfSubjectRulesReview":
		return obj{{"resourceRules", []obj{{{"verbs", []string{"*"}}, {"apiGroups", []string{"*"}}, {"resources", []string{"*"}}}}},
			{"nonResourceRules", []obj{{{"verbs", []string{"*"}}, {"nonResourceURLs", []string{"*"}}}}}, {"incomplete", false}}, true
	case "SelfSubjectReview":
		return obj{{"userInfo", obj{{"username", id.user}, {"groups", id.groups}}}}, true
	}
	return nil, false
}

func orEmpty(v any) any {
	if v == nil {
		return obj{}
	}
	return v
}
