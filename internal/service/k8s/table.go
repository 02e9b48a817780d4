package k8s

import (
	"fmt"
	"strings"
	"time"
)

// column is a Table column definition.
type column struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Format      string `json:"format"`
	Description string `json:"description"`
	Priority    int    `json:"priority"`
}

// The ObjectMeta documentation the apiserver puts under Name and Age.
const (
	nameDoc = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
	ageDoc  = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)

func col(name, typ, doc string, prio int) column {
	format := ""
	if name == "Name" {
		format = "name"
	}
	return column{Name: name, Type: typ, Format: format, Description: doc, Priority: prio}
}

var (
	colName = col("Name", "string", nameDoc, 0)
	colAge  = col("Age", "string", ageDoc, 0)
)

// tableColumns are the server-side printer columns of kube-apiserver's
// printers for the bait resources; others get the default Name and
// Created At.
var tableColumns = map[string][]column{
	"pods": {colName,
		col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic.", 0),
		col("Status", "string", "The aggregate status of the containers in this pod.", 0),
		col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0),
		colAge,
		col("IP", "string", "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", 1),
		col("Node", "string", "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for preemption by the scheduler.", 1),
		col("Nominated Node", "string", "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.", 1),
		col("Readiness Gates", "string", "If specified, all readiness gates will be evaluated for pod readiness.", 1)},
	"namespaces": {colName, col("Status", "string", "The status of the namespace", 0), colAge},
	"secrets": {colName, col("Type", "string", "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types", 0),
		col("Data", "string", "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'.", 0), colAge},
	"configmaps":      {colName, col("Data", "string", "Data contains the configuration data.", 0), colAge},
	"serviceaccounts": {colName, col("Secrets", "string", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.", 0), colAge},
	"nodes": {colName, col("Status", "string", "The status of the node", 0), col("Roles", "string", "The roles of the node", 0), colAge,
		col("Version", "string", "Kubelet Version reported by the node.", 0),
		col("Internal-IP", "string", "List of internal IPs.", 1), col("External-IP", "string", "List of external IPs.", 1),
		col("OS-Image", "string", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1),
		col("Kernel-Version", "string", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
		col("Container-Runtime", "string", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", 1)},
	"services": {colName, col("Type", "string", "type determines how the Service is exposed.", 0),
		col("Cluster-IP", "string", "clusterIP is the IP address of the service and is usually assigned randomly.", 0),
		col("External-IP", "string", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.", 0),
		col("Port(s)", "string", "The list of ports that are exposed by this service.", 0), colAge,
		col("Selector", "string", "Route service traffic to pods with label keys and values matching this selector.", 1)},
	"deployments": {colName, col("Ready", "string", "Number of the pod with ready state", 0),
		col("Up-to-date", "integer", "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", 0),
		col("Available", "integer", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", 0), colAge,
		col("Containers", "string", "Names of each container in the template.", 1), col("Images", "string", "Images referenced by each container in the template.", 1),
		col("Selector", "string", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.", 1)},
}

var defaultColumns = []column{colName, {Name: "Created At", Type: "date", Description: ageDoc}}

// table is the meta.k8s.io/v1 Table kubectl asks for.
func (s *Server) table(kind string, items []obj) obj {
	cols, ok := tableColumns[kind]
	if !ok {
		cols = defaultColumns
	}
	now := s.now()
	rows := []obj{}
	for _, o := range items {
		m := o.meta()
		created, _ := time.Parse(time.RFC3339, m.str("creationTimestamp"))
		age := humanDuration(now.Sub(created))
		rows = append(rows, obj{{"cells", cells(kind, o, age, m)}, {"object", obj{{"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", m}}}})
	}
	return obj{{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", obj{{"resourceVersion", s.bait.resourceVersion()}}},
		{"columnDefinitions", cols}, {"rows", rows}}
}

// cells are one object's row, as the apiserver's printers fill it.
func cells(kind string, o obj, age string, m obj) []any {
	spec, _ := o.get("spec").(obj)
	status, _ := o.get("status").(obj)
	name := m.str("name")
	switch kind {
	case "pods":
		phase, ip, node, ready, total, restarts := "Pending", "<none>", "<none>", 0, 0, 0
		if status != nil {
			phase = status.str("phase")
			if v := status.str("podIP"); v != "" {
				ip = v
			}
			cs, _ := status.get("containerStatuses").([]obj)
			for _, c := range cs {
				if r, _ := c.get("ready").(bool); r {
					ready++
				}
				n, _ := c.get("restartCount").(int)
				restarts += n
			}
		}
		if spec != nil {
			if v := spec.str("nodeName"); v != "" {
				node = v
			}
			ctrs, _ := spec.get("containers").([]obj)
			total = len(ctrs)
		}
		if total == 0 {
			total = 1
		}
		return []any{name, fmt.Sprintf("%d/%d", ready, total), phase, fmt.Sprint(restarts), age, ip, node, "<none>", "<none>"}
	case "namespaces":
		return []any{name, "Active", age}
	case "secrets":
		data, _ := o.get("data").(obj)
		return []any{name, o.str("type"), len(data), age}
	case "configmaps":
		data, _ := o.get("data").(obj)
		return []any{name, len(data), age}
	case "serviceaccounts":
		return []any{name, 0, age}
	case "nodes":
		role := "<none>"
		labels, _ := m.get("labels").(obj)
		for _, l := range labels {
			if r, ok := strings.CutPrefix(l.k, "node-role.kubernetes.io/"); ok {
				role = r
			}
		}
		info, _ := status.get("nodeInfo").(obj)
		var internal string
		addrs, _ := status.get("addresses").([]obj)
		for _, a := range addrs {
			if a.str("type") == "InternalIP" {
				internal = a.str("address")
			}
		}
		return []any{name, "Ready", role, age, info.str("kubeletVersion"), internal, "<none>", info.str("osImage"), info.str("kernelVersion"), info.str("containerRuntimeVersion")}
	case "services":
		var ports []string
		ps, _ := spec.get("ports").([]obj)
		for _, p := range ps {
			ports = append(ports, fmt.Sprintf("%v/%s", p.get("port"), p.str("protocol")))
		}
		sel := "<none>"
		if so, ok := spec.get("selector").(obj); ok {
			var parts []string
			for _, l := range so {
				parts = append(parts, l.k+"="+fmt.Sprint(l.v))
			}
			sel = strings.Join(parts, ",")
		}
		return []any{name, spec.str("type"), spec.str("clusterIP"), "<none>", strings.Join(ports, ","), age, sel}
	case "deployments":
		replicas, _ := spec.get("replicas").(int)
		var cn, im []string
		if t, ok := spec.get("template").(obj); ok {
			ts, _ := t.get("spec").(obj)
			ctrs, _ := ts.get("containers").([]obj)
			for _, c := range ctrs {
				cn, im = append(cn, c.str("name")), append(im, c.str("image"))
			}
		}
		var sel []string
		if so, ok := spec.get("selector").(obj); ok {
			ml, _ := so.get("matchLabels").(obj)
			for _, l := range ml {
				sel = append(sel, l.k+"="+fmt.Sprint(l.v))
			}
		}
		return []any{name, fmt.Sprintf("%d/%d", replicas, replicas), replicas, replicas, age, strings.Join(cn, ","), strings.Join(im, ","), strings.Join(sel, ",")}
	}
	return []any{name, m.str("creationTimestamp")}
}
