package k8s

// resource is one entry of an APIResourceList.
type resource struct {
	Name         string   `json:"name"`
	SingularName string   `json:"singularName"`
	Namespaced   bool     `json:"namespaced"`
	Group        string   `json:"group,omitempty"`
	Version      string   `json:"version,omitempty"`
	Kind         string   `json:"kind"`
	Verbs        []string `json:"verbs"`
	ShortNames   []string `json:"shortNames,omitempty"`
	Categories   []string `json:"categories,omitempty"`
	Hash         string   `json:"storageVersionHash,omitempty"`
}

// groupVersion is one served API group version with its resources.
type groupVersion struct {
	group, version string
	resources      []resource
}

func (g groupVersion) String() string {
	if g.group == "" {
		return g.version
	}
	return g.group + "/" + g.version
}

var (
	crud        = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	statusVerbs = []string{"get", "patch", "update"}
	proxyVerbs  = []string{"create", "delete", "get", "patch", "update"}
	createOnly  = []string{"create"}
	createGet   = []string{"create", "get"}
)

// top is a top-level resource with every verb.
func top(name, singular, kind string, namespaced bool, hash string, short, cats []string) resource {
	return resource{Name: name, SingularName: singular, Namespaced: namespaced, Kind: kind, Verbs: crud, ShortNames: short, Categories: cats, Hash: hash}
}

// sub is a subresource.
func sub(name, kind string, namespaced bool, verbs []string) resource {
	return resource{Name: name, Namespaced: namespaced, Kind: kind, Verbs: verbs}
}

func scale(name string) resource {
	return resource{Name: name, Namespaced: true, Group: "autoscaling", Version: "v1", Kind: "Scale", Verbs: statusVerbs}
}

var all = []string{"all"}

// discovery128 is what a v1.28 kube-apiserver with kubeadm's flags
// serves: the core group, then the groups in /apis order.
var discovery128 = []groupVersion{
	{"", "v1", []resource{
		{Name: "bindings", SingularName: "binding", Namespaced: true, Kind: "Binding", Verbs: createOnly},
		{Name: "componentstatuses", SingularName: "componentstatus", Kind: "ComponentStatus", Verbs: []string{"get", "list"}, ShortNames: []string{"cs"}},
		top("configmaps", "configmap", "ConfigMap", true, "qFsyl6wFWjQ=", []string{"cm"}, nil),
		top("endpoints", "endpoints", "Endpoints", true, "fWeeMqaN/OA=", []string{"ep"}, nil),
		top("events", "event", "Event", true, "r2yiGXH7wu8=", []string{"ev"}, nil),
		top("limitranges", "limitrange", "LimitRange", true, "EBKMFVe6cwo=", []string{"limits"}, nil),
		{Name: "namespaces", SingularName: "namespace", Kind: "Namespace", Verbs: []string{"create", "delete", "get", "list", "patch", "update", "watch"}, ShortNames: []string{"ns"}, Hash: "Q3oi5N2YM8M="},
		sub("namespaces/finalize", "Namespace", false, []string{"update"}),
		sub("namespaces/status", "Namespace", false, statusVerbs),
		top("nodes", "node", "Node", false, "XwShjMxG9Fs=", []string{"no"}, nil),
		sub("nodes/proxy", "NodeProxyOptions", false, proxyVerbs),
		sub("nodes/status", "Node", false, statusVerbs),
		top("persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, "QWTyNDq0dC4=", []string{"pvc"}, nil),
		sub("persistentvolumeclaims/status", "PersistentVolumeClaim", true, statusVerbs),
		top("persistentvolumes", "persistentvolume", "PersistentVolume", false, "HN/zwEC+JgM=", []string{"pv"}, nil),
		sub("persistentvolumes/status", "PersistentVolume", false, statusVerbs),
		top("pods", "pod", "Pod", true, "xPOwRZ+Yhw8=", []string{"po"}, all),
		sub("pods/attach", "PodAttachOptions", true, createGet),
		sub("pods/binding", "Binding", true, createOnly),
		sub("pods/ephemeralcontainers", "Pod", true, statusVerbs),
		{Name: "pods/eviction", Namespaced: true, Group: "policy", Version: "v1", Kind: "Eviction", Verbs: createOnly},
		sub("pods/exec", "PodExecOptions", true, createGet),
		sub("pods/log", "Pod", true, []string{"get"}),
		sub("pods/portforward", "PodPortForwardOptions", true, createGet),
		sub("pods/proxy", "PodProxyOptions", true, proxyVerbs),
		sub("pods/status", "Pod", true, statusVerbs),
		top("podtemplates", "podtemplate", "PodTemplate", true, "LIXB2x4IFpk=", nil, nil),
		top("replicationcontrollers", "replicationcontroller", "ReplicationController", true, "Jond2If31h0=", []string{"rc"}, all),
		scale("replicationcontrollers/scale"),
		sub("replicationcontrollers/status", "ReplicationController", true, statusVerbs),
		top("resourcequotas", "resourcequota", "ResourceQuota", true, "8uhSgffRX6w=", []string{"quota"}, nil),
		sub("resourcequotas/status", "ResourceQuota", true, statusVerbs),
		top("secrets", "secret", "Secret", true, "S6u1pOWzb84=", nil, nil),
		top("serviceaccounts", "serviceaccount", "ServiceAccount", true, "pbx9ZvyFpBE=", []string{"sa"}, nil),
		{Name: "serviceaccounts/token", Namespaced: true, Group: "authentication.k8s.io", Version: "v1", Kind: "TokenRequest", Verbs: createOnly},
		top("services", "service", "Service", true, "0/CO1lhkEBI=", []string{"svc"}, all),
		sub("services/proxy", "ServiceProxyOptions", true, proxyVerbs),
		sub("services/status", "Service", true, statusVerbs),
	}},
	{"apiregistration.k8s.io", "v1", []resource{
		top("apiservices", "apiservice", "APIService", false, "InPBPD7+PqM=", nil, []string{"api-extensions"}),
		sub("apiservices/status", "APIService", false, statusVerbs),
	}},
	{"apps", "v1", []resource{
		top("controllerrevisions", "controllerrevision", "ControllerRevision", true, "85nkx63pcBU=", nil, nil),
		top("daemonsets", "daemonset", "DaemonSet", true, "dd7pWHUlMKQ=", []string{"ds"}, all),
		sub("daemonsets/status", "DaemonSet", true, statusVerbs),
		top("deployments", "deployment", "Deployment", true, "8aSe+NMegvE=", []string{"deploy"}, all),
		scale("deployments/scale"),
		sub("deployments/status", "Deployment", true, statusVerbs),
		top("replicasets", "replicaset", "ReplicaSet", true, "P1RzHs8/mWQ=", []string{"rs"}, all),
		scale("replicasets/scale"),
		sub("replicasets/status", "ReplicaSet", true, statusVerbs),
		top("statefulsets", "statefulset", "StatefulSet", true, "H+vl74LkKdo=", []string{"sts"}, all),
		scale("statefulsets/scale"),
		sub("statefulsets/status", "StatefulSet", true, statusVerbs),
	}},
	{"events.k8s.io", "v1", []resource{top("events", "event", "Event", true, "r2yiGXH7wu8=", []string{"ev"}, nil)}},
	{"authentication.k8s.io", "v1", []resource{
		{Name: "selfsubjectreviews", SingularName: "selfsubjectreview", Kind: "SelfSubjectReview", Verbs: createOnly},
		{Name: "tokenreviews", SingularName: "tokenreview", Kind: "TokenReview", Verbs: createOnly},
	}},
	{"authorization.k8s.io", "v1", []resource{
		{Name: "localsubjectaccessreviews", SingularName: "localsubjectaccessreview", Namespaced: true, Kind: "LocalSubjectAccessReview", Verbs: createOnly},
		{Name: "selfsubjectaccessreviews", SingularName: "selfsubjectaccessreview", Kind: "SelfSubjectAccessReview", Verbs: createOnly},
		{Name: "selfsubjectrulesreviews", SingularName: "selfsubjectrulesreview", Kind: "SelfSubjectRulesReview", Verbs: createOnly},
		{Name: "subjectaccessreviews", SingularName: "subjectaccessreview", Kind: "SubjectAccessReview", Verbs: createOnly},
	}},
	{"autoscaling", "v2", hpa()},
	{"autoscaling", "v1", hpa()},
	{"batch", "v1", []resource{
		top("cronjobs", "cronjob", "CronJob", true, "sd5LIXh4Fjs=", []string{"cj"}, all),
		sub("cronjobs/status", "CronJob", true, statusVerbs),
		top("jobs", "job", "Job", true, "mudhfqk/qZY=", nil, all),
		sub("jobs/status", "Job", true, statusVerbs),
	}},
	{"certificates.k8s.io", "v1", []resource{
		top("certificatesigningrequests", "certificatesigningrequest", "CertificateSigningRequest", false, "95fRKMXA+00=", []string{"csr"}, nil),
		sub("certificatesigningrequests/approval", "CertificateSigningRequest", false, []string{"get", "patch", "update"}),
		sub("certificatesigningrequests/status", "CertificateSigningRequest", false, statusVerbs),
	}},
	{"networking.k8s.io", "v1", []resource{
		top("ingressclasses", "ingressclass", "IngressClass", false, "l/iqIbDgFyQ=", nil, nil),
		top("ingresses", "ingress", "Ingress", true, "39NQlfNR+bo=", []string{"ing"}, nil),
		sub("ingresses/status", "Ingress", true, statusVerbs),
		top("networkpolicies", "networkpolicy", "NetworkPolicy", true, "YpfwF18m1G8=", []string{"netpol"}, nil),
	}},
	{"policy", "v1", []resource{
		top("poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, "EVWiDmWqyJw=", []string{"pdb"}, nil),
		sub("poddisruptionbudgets/status", "PodDisruptionBudget", true, statusVerbs),
	}},
	{"rbac.authorization.k8s.io", "v1", []resource{
		top("clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, "48tpQ8gZHFc=", nil, nil),
		top("clusterroles", "clusterrole", "ClusterRole", false, "bYE5ZWDrJ44=", nil, nil),
		top("rolebindings", "rolebinding", "RoleBinding", true, "eGsCzGH6b1g=", nil, nil),
		top("roles", "role", "Role", true, "7FuwZcIIItM=", nil, nil),
	}},
	{"storage.k8s.io", "v1", []resource{
		top("csidrivers", "csidriver", "CSIDriver", false, "hL6j/rwBV5w=", nil, nil),
		top("csinodes", "csinode", "CSINode", false, "Pe62DkZtjuo=", nil, nil),
		top("csistoragecapacities", "csistoragecapacity", "CSIStorageCapacity", true, "xeVl+2Ly1kE=", nil, nil),
		top("storageclasses", "storageclass", "StorageClass", false, "K+m6uJwbjGY=", []string{"sc"}, nil),
		top("volumeattachments", "volumeattachment", "VolumeAttachment", false, "tJx/ezt6UDU=", nil, nil),
		sub("volumeattachments/status", "VolumeAttachment", false, statusVerbs),
	}},
	{"admissionregistration.k8s.io", "v1", []resource{
		top("mutatingwebhookconfigurations", "mutatingwebhookconfiguration", "MutatingWebhookConfiguration", false, "Sqi0GUgDaX0=", nil, []string{"api-extensions"}),
		top("validatingwebhookconfigurations", "validatingwebhookconfiguration", "ValidatingWebhookConfiguration", false, "B0wHjQmsGNk=", nil, []string{"api-extensions"}),
	}},
	{"apiextensions.k8s.io", "v1", []resource{
		top("customresourcedefinitions", "customresourcedefinition", "CustomResourceDefinition", false, "jfWCUB31mvA=", []string{"crd", "crds"}, []string{"api-extensions"}),
		sub("customresourcedefinitions/status", "CustomResourceDefinition", false, statusVerbs),
	}},
	{"scheduling.k8s.io", "v1", []resource{top("priorityclasses", "priorityclass", "PriorityClass", false, "1QwjyaZjj3Y=", []string{"pc"}, nil)}},
	{"coordination.k8s.io", "v1", []resource{top("leases", "lease", "Lease", true, "gqkMMb/YqFM=", nil, nil)}},
	{"node.k8s.io", "v1", []resource{top("runtimeclasses", "runtimeclass", "RuntimeClass", false, "WQTu1GL3T2Q=", nil, nil)}},
	{"discovery.k8s.io", "v1", []resource{top("endpointslices", "endpointslice", "EndpointSlice", true, "qgS0xkrxYAI=", nil, nil)}},
	{"flowcontrol.apiserver.k8s.io", "v1beta3", flowcontrol()},
	{"flowcontrol.apiserver.k8s.io", "v1beta2", flowcontrol()},
}

func hpa() []resource {
	return []resource{
		top("horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true, "qwQve8ut294=", []string{"hpa"}, all),
		sub("horizontalpodautoscalers/status", "HorizontalPodAutoscaler", true, statusVerbs),
	}
}

func flowcontrol() []resource {
	return []resource{
		top("flowschemas", "flowschema", "FlowSchema", false, "GJVAJZSZBIw=", nil, nil),
		sub("flowschemas/status", "FlowSchema", false, statusVerbs),
		top("prioritylevelconfigurations", "prioritylevelconfiguration", "PriorityLevelConfiguration", false, "Kir5PVfvNeI=", nil, nil),
		sub("prioritylevelconfigurations/status", "PriorityLevelConfiguration", false, statusVerbs),
	}
}

type versionRef struct {
	GroupVersion string `json:"groupVersion"`
	Version      string `json:"version"`
}

type apiGroup struct {
	Kind       string       `json:"kind,omitempty"`
	APIVersion string       `json:"apiVersion,omitempty"`
	Name       string       `json:"name"`
	Versions   []versionRef `json:"versions"`
	Preferred  versionRef   `json:"preferredVersion"`
}

// groups is the APIGroupList: each group once, in order of first
// appearance, its versions in the order served (the first preferred).
func groups(d []groupVersion) []apiGroup {
	var out []apiGroup
	idx := map[string]int{}
	for _, gv := range d {
		if gv.group == "" {
			continue
		}
		ref := versionRef{GroupVersion: gv.String(), Version: gv.version}
		i, ok := idx[gv.group]
		if !ok {
			idx[gv.group] = len(out)
			out = append(out, apiGroup{Name: gv.group, Preferred: ref})
			i = len(out) - 1
		}
		out[i].Versions = append(out[i].Versions, ref)
	}
	return out
}

// lookup finds a served group version.
func lookup(d []groupVersion, group, version string) (groupVersion, bool) {
	for _, gv := range d {
		if gv.group == group && gv.version == version {
			return gv, true
		}
	}
	return groupVersion{}, false
}

// find returns the resource (or subresource, "pods/exec") of a group version.
func (g groupVersion) find(name string) (resource, bool) {
	for _, r := range g.resources {
		if r.Name == name {
			return r, true
		}
	}
	return resource{}, false
}

// listKind is the kind of a list of r.
func listKind(r resource) string {
	return r.Kind + "List"
}
