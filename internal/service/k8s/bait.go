package k8s

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxCreated bounds the objects attackers may add to a decky's cluster.
const maxCreated = 64

// cluster is the bait state of one decky: a kubeadm control-plane node
// with its system pods and a few workloads holding credentials.
type cluster struct {
	mu      sync.Mutex
	objs    map[string][]obj // by resource key (see key), in list order
	rv      int              // the last resourceVersion handed out
	created int
}

// key names a resource's objects: "pods", "apps/deployments".
func key(group, kind string) string {
	if group == "" {
		return kind
	}
	return group + "/" + kind
}

// baitIn is what the bait objects are made from.
type baitIn struct {
	node, ip, caPEM string
	t0              time.Time // kubeadm init
	uid             func(string) string
}

func (c *cluster) nextRV() string {
	c.rv += 1 + c.rv%7
	return strconv.Itoa(c.rv)
}

func newCluster(in baitIn) *cluster {
	c := &cluster{objs: map[string][]obj{}, rv: 200}
	at := func(d time.Duration) time.Time { return in.t0.Add(d) }
	meta := func(name, ns string, t time.Time, labels obj) obj {
		m := obj{{"name", name}}
		if ns != "" {
			m = append(m, kv{"namespace", ns})
		}
		m = append(m, kv{"uid", in.uid(ns + "/" + name)}, kv{"resourceVersion", c.nextRV()}, kv{"creationTimestamp", stamp(t)})
		if len(labels) > 0 {
			m = append(m, kv{"labels", labels})
		}
		return m
	}
	add := func(k string, o obj) { c.objs[k] = append(c.objs[k], o) }

	for i, ns := range []string{"default", "kube-flannel", "kube-node-lease", "kube-public", "kube-system", "production"} {
		t := in.t0
		if ns == "kube-flannel" || ns == "production" {
			t = at(time.Duration(i+2) * 17 * time.Minute)
		}
		add("namespaces", obj{{"kind", "Namespace"}, {"apiVersion", "v1"},
			{"metadata", meta(ns, "", t, obj{{"kubernetes.io/metadata.name", ns}})},
			{"spec", obj{{"finalizers", []string{"kubernetes"}}}},
			{"status", obj{{"phase", "Active"}}}})
	}
	add("nodes", node(meta(in.node, "", in.t0, obj{
		{"beta.kubernetes.io/arch", "amd64"}, {"beta.kubernetes.io/os", "linux"}, {"kubernetes.io/arch", "amd64"},
		{"kubernetes.io/hostname", in.node}, {"kubernetes.io/os", "linux"},
		{"node-role.kubernetes.io/control-plane", ""}, {"node.kubernetes.io/exclude-from-external-load-balancers", ""},
	}), in))

	podIP := func(n int) string { return fmt.Sprintf("10.244.0.%d", n) }
	suffix := func(s string, n int) string { return randSuffix(in.uid(s), n) }
	type podSpec struct {
		name, ctr, ns, image, ip string
		age                      time.Duration
		labels                   obj
		restarts                 int
		env                      []obj
	}
	cp := "registry.k8s.io/"
	pods := []podSpec{
		{"coredns-5dd5756b68-" + suffix("coredns1", 5), "coredns", "kube-system", cp + "coredns/coredns:v1.10.1", podIP(2), 40 * time.Minute, obj{{"k8s-app", "kube-dns"}, {"pod-template-hash", "5dd5756b68"}}, 0, nil},
		{"coredns-5dd5756b68-" + suffix("coredns2", 5), "coredns", "kube-system", cp + "coredns/coredns:v1.10.1", podIP(3), 40 * time.Minute, obj{{"k8s-app", "kube-dns"}, {"pod-template-hash", "5dd5756b68"}}, 0, nil},
		{"etcd-" + in.node, "etcd", "kube-system", cp + "etcd:3.5.9-0", in.ip, 0, obj{{"component", "etcd"}, {"tier", "control-plane"}}, 0, nil},
		{"kube-apiserver-" + in.node, "kube-apiserver", "kube-system", cp + "kube-apiserver:" + "v1.28.3", in.ip, 0, obj{{"component", "kube-apiserver"}, {"tier", "control-plane"}}, 0, nil},
		{"kube-controller-manager-" + in.node, "kube-controller-manager", "kube-system", cp + "kube-controller-manager:v1.28.3", in.ip, 0, obj{{"component", "kube-controller-manager"}, {"tier", "control-plane"}}, 1, nil},
		{"kube-proxy-" + suffix("kube-proxy", 5), "kube-proxy", "kube-system", cp + "kube-proxy:v1.28.3", in.ip, 30 * time.Second, obj{{"k8s-app", "kube-proxy"}}, 0, nil},
		{"kube-scheduler-" + in.node, "kube-scheduler", "kube-system", cp + "kube-scheduler:v1.28.3", in.ip, 0, obj{{"component", "kube-scheduler"}, {"tier", "control-plane"}}, 1, nil},
		{"kube-flannel-ds-" + suffix("flannel", 5), "kube-flannel", "kube-flannel", "docker.io/flannel/flannel:v0.22.3", in.ip, 35 * time.Minute, obj{{"app", "flannel"}}, 0, nil},
		{"webapp-6d5f8b9c4-" + suffix("webapp", 5), "nginx", "default", "nginx:1.25.2", podIP(7), 26 * time.Hour, obj{{"app", "webapp"}, {"pod-template-hash", "6d5f8b9c4"}}, 0, nil},
		{"payments-api-7c9f6d8b5-" + suffix("payments", 5), "payments-api", "production", "registry.internal:5000/payments-api:2.4.1", podIP(9), 50 * time.Hour, obj{{"app", "payments-api"}, {"pod-template-hash", "7c9f6d8b5"}}, 2,
			[]obj{{{"name", "DB_HOST"}, {"value", "postgres.production.svc.cluster.local"}}, {{"name", "DB_PASSWORD"}, {"valueFrom", obj{{"secretKeyRef", obj{{"name", "db-credentials"}, {"key", "password"}}}}}}}},
		{"postgres-0", "postgres", "production", "postgres:15.4", podIP(10), 50 * time.Hour, obj{{"app", "postgres"}, {"statefulset.kubernetes.io/pod-name", "postgres-0"}}, 0, nil},
	}
	for _, p := range pods {
		add("pods", pod(meta(p.name, p.ns, at(p.age), p.labels), in, p.ctr, p.image, p.ip, p.restarts, p.env, at(p.age+20*time.Second)))
	}

	svc := func(name, ns, ip string, t time.Time, labels obj, ports []obj, selector obj) obj {
		spec := obj{{"ports", ports}}
		if selector != nil {
			spec = append(spec, kv{"selector", selector})
		}
		spec = append(spec, kv{"clusterIP", ip}, kv{"clusterIPs", []string{ip}}, kv{"type", "ClusterIP"}, kv{"sessionAffinity", "None"},
			kv{"ipFamilies", []string{"IPv4"}}, kv{"ipFamilyPolicy", "SingleStack"}, kv{"internalTrafficPolicy", "Cluster"})
		return obj{{"kind", "Service"}, {"apiVersion", "v1"}, {"metadata", meta(name, ns, t, labels)}, {"spec", spec}, {"status", obj{{"loadBalancer", obj{}}}}}
	}
	port := func(name, proto string, p int, target any) obj {
		o := obj{}
		if name != "" {
			o = append(o, kv{"name", name})
		}
		return append(o, kv{"protocol", proto}, kv{"port", p}, kv{"targetPort", target})
	}
	add("services", svc("kubernetes", "default", "10.96.0.1", in.t0, obj{{"component", "apiserver"}, {"provider", "kubernetes"}}, []obj{port("https", "TCP", 443, 6443)}, nil))
	add("services", svc("webapp", "default", "10.96.148.22", at(26*time.Hour), nil, []obj{port("", "TCP", 80, 80)}, obj{{"app", "webapp"}}))
	add("services", svc("kube-dns", "kube-system", "10.96.0.10", in.t0, obj{{"k8s-app", "kube-dns"}, {"kubernetes.io/cluster-service", "true"}, {"kubernetes.io/name", "CoreDNS"}},
		[]obj{port("dns", "UDP", 53, 53), port("dns-tcp", "TCP", 53, 53), port("metrics", "TCP", 9153, 9153)}, obj{{"k8s-app", "kube-dns"}}))
	add("services", svc("postgres", "production", "10.96.201.7", at(50*time.Hour), nil, []obj{port("", "TCP", 5432, 5432)}, obj{{"app", "postgres"}}))

	secret := func(name, ns, typ string, t time.Time, data obj) obj {
		enc := obj{}
		for _, m := range data {
			enc = append(enc, kv{m.k, base64.StdEncoding.EncodeToString([]byte(m.v.(string)))})
		}
		return obj{{"kind", "Secret"}, {"apiVersion", "v1"}, {"metadata", meta(name, ns, t, nil)}, {"data", enc}, {"type", typ}}
	}
	tokID, tokSecret := hashName(in.uid("token-id"))[:6], hashName(in.uid("token-secret"))[:16]
	add("secrets", secret("db-credentials", "production", "Opaque", at(50*time.Hour), obj{{"password", "Pr0d-Pg!" + hashName(in.uid("pg"))[:8]}, {"username", "payments"}}))
	add("secrets", secret("aws-s3-backup", "production", "Opaque", at(51*time.Hour), obj{
		{"AWS_ACCESS_KEY_ID", "AKIA" + strings.ToUpper(hashName(in.uid("aws-id"))[:16])},
		{"AWS_SECRET_ACCESS_KEY", base64.StdEncoding.EncodeToString([]byte(in.uid("aws-secret")))[:40]}}))
	add("secrets", secret("registry-pull", "default", "kubernetes.io/dockerconfigjson", at(26*time.Hour), obj{
		{".dockerconfigjson", `{"auths":{"registry.internal:5000":{"username":"ci-bot","password":"` + hashName(in.uid("reg"))[:20] + `"}}}`}}))
	add("secrets", secret("bootstrap-token-"+tokID, "kube-system", "bootstrap.kubernetes.io/token", in.t0, obj{
		{"auth-extra-groups", "system:bootstrappers:kubeadm:default-node-token"},
		{"expiration", stamp(in.t0.Add(24 * time.Hour))},
		{"token-id", tokID}, {"token-secret", tokSecret},
		{"usage-bootstrap-authentication", "true"}, {"usage-bootstrap-signing", "true"}}))

	cm := func(name, ns string, t time.Time, data obj) obj {
		return obj{{"kind", "ConfigMap"}, {"apiVersion", "v1"}, {"metadata", meta(name, ns, t, nil)}, {"data", data}}
	}
	for _, n := range c.objs["namespaces"] {
		ns := n.meta().str("name")
		add("configmaps", cm("kube-root-ca.crt", ns, in.t0.Add(40*time.Second), obj{{"ca.crt", in.caPEM}}))
	}
	add("configmaps", cm("kubeadm-config", "kube-system", in.t0, obj{{"ClusterConfiguration", "apiServer:\n  extraArgs:\n    authorization-mode: Node,RBAC\n  timeoutForControlPlane: 4m0s\napiVersion: kubeadm.k8s.io/v1beta3\ncertificatesDir: /etc/kubernetes/pki\nclusterName: kubernetes\ncontrollerManager: {}\ndns: {}\netcd:\n  local:\n    dataDir: /var/lib/etcd\nimageRepository: registry.k8s.io\nkind: ClusterConfiguration\nkubernetesVersion: v1.28.3\nnetworking:\n  dnsDomain: cluster.local\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/12\nscheduler: {}\n"}}))
	add("configmaps", cm("payments-config", "production", at(50*time.Hour), obj{{"DATABASE_URL", "postgres://payments@postgres.production.svc.cluster.local:5432/payments"}, {"S3_BUCKET", "payments-backups-prod"}}))

	sa := func(name, ns string, t time.Time) obj {
		return obj{{"kind", "ServiceAccount"}, {"apiVersion", "v1"}, {"metadata", meta(name, ns, t, nil)}}
	}
	for _, n := range c.objs["namespaces"] {
		add("serviceaccounts", sa("default", n.meta().str("name"), in.t0.Add(40*time.Second)))
	}
	for _, name := range []string{"coredns", "flannel", "kube-proxy"} {
		ns := "kube-system"
		if name == "flannel" {
			ns = "kube-flannel"
		}
		add("serviceaccounts", sa(name, ns, in.t0.Add(time.Minute)))
	}
	add("serviceaccounts", sa("deployer", "production", at(50*time.Hour)))

	dep := func(name, ns, image string, replicas int, t time.Time, labels obj) obj {
		spec := obj{{"replicas", replicas}, {"selector", obj{{"matchLabels", labels}}},
			{"template", obj{{"metadata", obj{{"creationTimestamp", nil}, {"labels", labels}}},
				{"spec", obj{{"containers", []obj{{{"name", strings.Split(name, "-")[0]}, {"image", image}}}}}}}},
			{"strategy", obj{{"type", "RollingUpdate"}}}}
		return obj{{"kind", "Deployment"}, {"apiVersion", "apps/v1"}, {"metadata", meta(name, ns, t, labels)}, {"spec", spec},
			{"status", obj{{"observedGeneration", 1}, {"replicas", replicas}, {"updatedReplicas", replicas}, {"readyReplicas", replicas}, {"availableReplicas", replicas}}}}
	}
	add("apps/deployments", dep("coredns", "kube-system", cp+"coredns/coredns:v1.10.1", 2, in.t0, obj{{"k8s-app", "kube-dns"}}))
	add("apps/deployments", dep("webapp", "default", "nginx:1.25.2", 1, at(26*time.Hour), obj{{"app", "webapp"}}))
	add("apps/deployments", dep("payments-api", "production", "registry.internal:5000/payments-api:2.4.1", 1, at(50*time.Hour), obj{{"app", "payments-api"}}))
	return c
}

func node(meta obj, in baitIn) obj {
	ready := stamp(in.t0.Add(45 * time.Second))
	return obj{{"kind", "Node"}, {"apiVersion", "v1"}, {"metadata", meta},
		{"spec", obj{{"podCIDR", "10.244.0.0/24"}, {"podCIDRs", []string{"10.244.0.0/24"}},
			{"taints", []obj{{{"key", "node-role.kubernetes.io/control-plane"}, {"effect", "NoSchedule"}}}}}},
		{"status", obj{
			{"capacity", obj{{"cpu", "4"}, {"ephemeral-storage", "81106868Ki"}, {"hugepages-2Mi", "0"}, {"memory", "8138112Ki"}, {"pods", "110"}}},
			{"conditions", []obj{{{"type", "Ready"}, {"status", "True"}, {"lastHeartbeatTime", ready}, {"lastTransitionTime", ready}, {"reason", "KubeletReady"}, {"message", "kubelet is posting ready status. AppArmor enabled"}}}},
			{"addresses", []obj{{{"type", "InternalIP"}, {"address", in.ip}}, {{"type", "Hostname"}, {"address", in.node}}}},
			{"nodeInfo", obj{{"kernelVersion", "5.15.0-88-generic"}, {"osImage", "Ubuntu 22.04.3 LTS"}, {"containerRuntimeVersion", "containerd://1.6.24"},
				{"kubeletVersion", "v1.28.3"}, {"kubeProxyVersion", "v1.28.3"}, {"operatingSystem", "linux"}, {"architecture", "amd64"}}},
		}}}
}

func pod(meta obj, in baitIn, cname, image, ip string, restarts int, env []obj, started time.Time) obj {
	name := meta.str("name")
	ctr := obj{{"name", cname}, {"image", image}}
	if env != nil {
		ctr = append(ctr, kv{"env", env})
	}
	ctr = append(ctr, kv{"resources", obj{}}, kv{"terminationMessagePath", "/dev/termination-log"}, kv{"terminationMessagePolicy", "File"}, kv{"imagePullPolicy", "IfNotPresent"})
	return obj{{"kind", "Pod"}, {"apiVersion", "v1"}, {"metadata", meta},
		{"spec", obj{{"containers", []obj{ctr}}, {"restartPolicy", "Always"}, {"terminationGracePeriodSeconds", 30}, {"dnsPolicy", "ClusterFirst"},
			{"serviceAccountName", "default"}, {"nodeName", in.node}, {"schedulerName", "default-scheduler"}}},
		{"status", obj{{"phase", "Running"}, {"hostIP", in.ip}, {"podIP", ip}, {"podIPs", []obj{{{"ip", ip}}}}, {"startTime", stamp(started)},
			{"containerStatuses", []obj{{{"name", cname}, {"state", obj{{"running", obj{{"startedAt", stamp(started)}}}}}, {"ready", true},
				{"restartCount", restarts}, {"image", image}, {"imageID", imageRef(image) + "@sha256:" + hashName(image)}, {"containerID", "containerd://" + hashName(in.uid("ctr/"+name))}, {"started", true}}}},
			{"qosClass", "BestEffort"}}}}
}

// suffixAlphabet is what generated names are made of (apimachinery's
// rand.String: no vowels, no confusable digits).
const suffixAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// randSuffix is a stable generated-name suffix of n characters for seed.
func randSuffix(seed string, n int) string {
	h := sha256.Sum256([]byte(seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = suffixAlphabet[int(h[i])%len(suffixAlphabet)]
	}
	return string(b)
}

// hashName is a lower-case hex digest of s, for stable generated names.
func hashName(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// list returns the objects of a resource in a namespace ("" for all).
func (c *cluster) list(k, ns string) []obj {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []obj
	for _, o := range c.objs[k] {
		if ns == "" || o.meta().str("namespace") == ns {
			out = append(out, o)
		}
	}
	// etcd returns them in key order: namespace, then name.
	slices.SortFunc(out, func(a, b obj) int {
		return cmp.Or(cmp.Compare(a.meta().str("namespace"), b.meta().str("namespace")), cmp.Compare(a.meta().str("name"), b.meta().str("name")))
	})
	return out
}

// get returns one object.
func (c *cluster) get(k, ns, name string) (obj, bool) {
	for _, o := range c.list(k, ns) {
		if o.meta().str("name") == name {
			return o, true
		}
	}
	return nil, false
}

// add keeps an object an attacker created, up to maxCreated; it reports
// false when the name is taken.
func (c *cluster) add(k string, o obj) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := o.meta()
	for _, e := range c.objs[k] {
		if e.meta().str("name") == m.str("name") && e.meta().str("namespace") == m.str("namespace") {
			return false
		}
	}
	if c.created < maxCreated {
		c.created++
		c.objs[k] = append(c.objs[k], o)
	}
	return true
}

// resourceVersion is the list's current resourceVersion.
func (c *cluster) resourceVersion() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strconv.Itoa(c.rv + 1733)
}

// imageRef is the image's repository as containerd reports it.
func imageRef(image string) string {
	repo := image
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		repo = image[:i]
	}
	if strings.Count(repo, "/") == 0 {
		return "docker.io/library/" + repo
	}
	if !strings.Contains(strings.Split(repo, "/")[0], ".") {
		return "docker.io/" + repo
	}
	return repo
}
