package main

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// image is what the manifests must agree with: the Dockerfile's user,
// working directory (where agents.yml is read from) and port.
type image struct {
	uid, gid int64
	workdir  string
	port     int32
}

func readImage(t *testing.T) image {
	t.Helper()
	data, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var img image
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) != 2 {
			continue
		}
		switch fields[0] {
		case "USER":
			uid, gid, _ := strings.Cut(fields[1], ":")
			img.uid, _ = strconv.ParseInt(uid, 10, 64)
			img.gid, _ = strconv.ParseInt(gid, 10, 64)
		case "WORKDIR":
			img.workdir = fields[1]
		case "EXPOSE":
			port, _ := strconv.ParseInt(fields[1], 10, 32)
			img.port = int32(port)
		}
	}
	if img.uid == 0 || img.workdir == "" || img.port == 0 {
		t.Fatalf("Dockerfile: want a numeric non-root USER, a WORKDIR and EXPOSE, read %+v", img)
	}
	return img
}

// alertJob is the job the exporter-down alert selects on.
func alertJob(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../prometheus/agentgateway.alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`up\{job="([^"]+)"\}`).FindSubmatch(data)
	if m == nil {
		t.Fatal("the alerts select no up{job=...}")
	}
	return string(m[1])
}

func selects(t *testing.T, sel *metav1.LabelSelector, set map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatal(err)
	}
	return !s.Empty() && s.Matches(labels.Set(set))
}

// workload is what the checks need of a Deployment or a StatefulSet.
type workload struct {
	name     string
	selector *metav1.LabelSelector
	pod      corev1.PodTemplateSpec
}

// TestManifestsFitTogether checks each way of deploying (the Deployment, and
// the StatefulSet for shards) against the image and against itself: the
// user, the configuration's mount, the ports, the Service and
// ServiceMonitor selecting the right pods and only those, and the job label
// the alerts expect.
func TestManifestsFitTogether(t *testing.T) {
	img := readImage(t)
	job := alertJob(t)
	single, sharded := loadSet(t, "."), loadSet(t, "sharded")
	if len(single.deployments) != 1 || len(single.services) != 1 || len(single.monitors) != 1 {
		t.Fatalf("want one Deployment, Service and ServiceMonitor in examples/kubernetes, have %d, %d, %d",
			len(single.deployments), len(single.services), len(single.monitors))
	}
	if len(sharded.statefulSets) != 1 || len(sharded.services) != 1 || len(sharded.monitors) != 1 {
		t.Fatalf("want one StatefulSet, Service and ServiceMonitor in sharded/, have %d, %d, %d",
			len(sharded.statefulSets), len(sharded.services), len(sharded.monitors))
	}
	d, s := single.deployments[0], sharded.statefulSets[0]
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("Deployment: want 1 replica (two would query every agent twice)")
	}
	sets := []struct {
		name     string
		w        workload
		service  *corev1.Service
		monitor  *monitoringv1.ServiceMonitor
		other    *corev1.Service
		otherPod map[string]string
	}{
		{"Deployment", workload{d.Name, d.Spec.Selector, d.Spec.Template}, single.services[0], single.monitors[0], sharded.services[0], s.Spec.Template.Labels},
		{"StatefulSet", workload{s.Name, s.Spec.Selector, s.Spec.Template}, sharded.services[0], sharded.monitors[0], single.services[0], d.Spec.Template.Labels},
	}
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			checkPod(t, set.w, img)
			podLabels := set.w.pod.Labels
			if !selects(t, &metav1.LabelSelector{MatchLabels: set.service.Spec.Selector}, podLabels) {
				t.Errorf("Service %s does not select the pods", set.service.Name)
			}
			if selects(t, &metav1.LabelSelector{MatchLabels: set.service.Spec.Selector}, set.otherPod) {
				t.Errorf("Service %s also selects the other workload's pods", set.service.Name)
			}
			if !selects(t, &set.monitor.Spec.Selector, set.service.Labels) {
				t.Errorf("ServiceMonitor %s does not select Service %s", set.monitor.Name, set.service.Name)
			}
			if selects(t, &set.monitor.Spec.Selector, set.other.Labels) {
				t.Errorf("ServiceMonitor %s also selects Service %s", set.monitor.Name, set.other.Name)
			}
			if got := set.service.Labels[set.monitor.Spec.JobLabel]; got != job {
				t.Errorf("ServiceMonitor %s: job label from %q is %q, the alerts select job=%q",
					set.monitor.Name, set.monitor.Spec.JobLabel, got, job)
			}
			checkEndpoints(t, set.monitor, set.service, set.w.pod)
		})
	}

	if s.Spec.ServiceName != sharded.services[0].Name || sharded.services[0].Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("StatefulSet: serviceName %q, want the headless Service %q", s.Spec.ServiceName, sharded.services[0].Name)
	}
	ep := sharded.monitors[0].Spec.Endpoints[0]
	shards := ep.Params["shards"]
	if ep.Path != "/probe" || len(ep.Params["gateway"]) != 1 || len(shards) != 1 {
		t.Fatalf("sharded ServiceMonitor: want /probe with one gateway and one shards parameter, have %s %v", ep.Path, ep.Params)
	}
	if s.Spec.Replicas == nil || strconv.Itoa(int(*s.Spec.Replicas)) != shards[0] {
		t.Errorf("StatefulSet replicas and the shards parameter %q differ", shards[0])
	}
	shardFrom := ""
	for _, r := range ep.RelabelConfigs {
		if r.TargetLabel == "__param_shard" && len(r.SourceLabels) == 1 {
			shardFrom = string(r.SourceLabels[0])
		}
	}
	if shardFrom != "__meta_kubernetes_pod_label_apps_kubernetes_io_pod_index" {
		t.Errorf("sharded ServiceMonitor: the shard parameter comes from %q, not the pod's index", shardFrom)
	}
}

func checkPod(t *testing.T, w workload, img image) {
	t.Helper()
	if !selects(t, w.selector, w.pod.Labels) {
		t.Errorf("%s: the selector does not match the pod template", w.name)
	}
	sc := w.pod.Spec.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != img.uid ||
		sc.RunAsGroup == nil || *sc.RunAsGroup != img.gid {
		t.Errorf("%s: want runAsNonRoot with the image's user %d:%d", w.name, img.uid, img.gid)
	}
	if len(w.pod.Spec.Containers) != 1 {
		t.Fatalf("%s: want one container", w.name)
	}
	c := w.pod.Spec.Containers[0]
	if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem ||
		c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
		t.Errorf("%s: want a read-only root and no privilege escalation", w.name)
	}
	for _, arg := range c.Args {
		if strings.HasPrefix(arg, "--config.file") || strings.HasPrefix(arg, "--web.listen-address") {
			t.Errorf("%s: %s overrides what the image and the ports below rely on", w.name, arg)
		}
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != img.port {
		t.Errorf("%s: want the one port %d the image exposes, have %v", w.name, img.port, c.Ports)
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		if m.MountPath != img.workdir {
			continue
		}
		mounted = m.ReadOnly && slices.ContainsFunc(w.pod.Spec.Volumes, func(v corev1.Volume) bool {
			return v.Name == m.Name && v.Secret != nil && v.Secret.SecretName != ""
		})
	}
	if !mounted {
		t.Errorf("%s: agents.yml must come from a Secret mounted read-only at %s", w.name, img.workdir)
	}
	for name, probe := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != "/-/healthy" {
			t.Errorf("%s: want a %s probe on /-/healthy", w.name, name)
		}
	}
}

func checkEndpoints(t *testing.T, monitor *monitoringv1.ServiceMonitor, service *corev1.Service, pod corev1.PodTemplateSpec) {
	t.Helper()
	if len(monitor.Spec.Endpoints) != 1 {
		t.Fatalf("ServiceMonitor %s: want one endpoint", monitor.Name)
	}
	ep := monitor.Spec.Endpoints[0]
	var port *corev1.ServicePort
	for i := range service.Spec.Ports {
		if service.Spec.Ports[i].Name == ep.Port {
			port = &service.Spec.Ports[i]
		}
	}
	if port == nil {
		t.Fatalf("ServiceMonitor %s scrapes port %q, which Service %s does not have", monitor.Name, ep.Port, service.Name)
	}
	if name := port.TargetPort.String(); !slices.ContainsFunc(pod.Spec.Containers[0].Ports, func(p corev1.ContainerPort) bool {
		return p.Name == name || strconv.Itoa(int(p.ContainerPort)) == name
	}) {
		t.Errorf("Service %s: target port %s is not a port of the pods", service.Name, name)
	}
	interval, err := time.ParseDuration(string(ep.Interval))
	if err != nil || interval > 15*time.Second {
		t.Errorf("ServiceMonitor %s: interval %q, the rules want 15s or less", monitor.Name, ep.Interval)
	}
	timeout, err := time.ParseDuration(string(ep.ScrapeTimeout))
	if err != nil || timeout > interval || timeout <= 500*time.Millisecond {
		t.Errorf("ServiceMonitor %s: scrape timeout %q must exceed the exporter's 0.5 s offset and not the interval", monitor.Name, ep.ScrapeTimeout)
	}
}
