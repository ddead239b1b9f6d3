package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The real API type of each kind the manifests may hold.
var kinds = map[string]func() any{
	"apps/v1/Deployment":                      func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                     func() any { return &appsv1.StatefulSet{} },
	"v1/Service":                              func() any { return &corev1.Service{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() any { return &monitoringv1.PrometheusRule{} },
}

var (
	documentSeparator = regexp.MustCompile(`(?m)^---\s*$`)
	commentLine       = regexp.MustCompile(`(?m)^\s*#.*$`)
)

// decodeManifest decodes every document of a manifest file into the API
// type of its kind; unknown kinds, unknown fields and duplicate keys are
// errors, as kubectl's server-side field validation would make them.
func decodeManifest(name string, data []byte) ([]any, error) {
	var objects []any
	for i, doc := range documentSeparator.Split(string(data), -1) {
		if strings.TrimSpace(commentLine.ReplaceAllString(doc, "")) == "" {
			continue
		}
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			return nil, fmt.Errorf("%s, document %d: %w", name, i+1, err)
		}
		newObject, ok := kinds[meta.APIVersion+"/"+meta.Kind]
		if !ok {
			return nil, fmt.Errorf("%s, document %d: unexpected kind %s %s", name, i+1, meta.APIVersion, meta.Kind)
		}
		object := newObject()
		if err := decodeStrictly([]byte(doc), object); err != nil {
			return nil, fmt.Errorf("%s, document %d (%s): %w", name, i+1, meta.Kind, err)
		}
		objects = append(objects, object)
	}
	return objects, nil
}

// manifestSet is one way of deploying: the files of one directory.
type manifestSet struct {
	deployments  []*appsv1.Deployment
	statefulSets []*appsv1.StatefulSet
	services     []*corev1.Service
	monitors     []*monitoringv1.ServiceMonitor
	rules        []*monitoringv1.PrometheusRule
}

func loadSet(t *testing.T, dir string) manifestSet {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) == 0 {
		t.Fatalf("no manifests in %s", dir)
	}
	var set manifestSet
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		objects, err := decodeManifest(file, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objects {
			switch o := o.(type) {
			case *appsv1.Deployment:
				set.deployments = append(set.deployments, o)
			case *appsv1.StatefulSet:
				set.statefulSets = append(set.statefulSets, o)
			case *corev1.Service:
				set.services = append(set.services, o)
			case *monitoringv1.ServiceMonitor:
				set.monitors = append(set.monitors, o)
			case *monitoringv1.PrometheusRule:
				set.rules = append(set.rules, o)
			}
		}
	}
	return set
}

func TestDecodeStrictlyRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":  "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {clusterIp: None}\n",
		"duplicate key":  "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nmetadata: {name: y}\n",
		"unknown kind":   "apiVersion: v1\nkind: Servce\nmetadata: {name: x}\n",
		"wrong type":     "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: two}\n",
		"second is bad":  "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Service\nspec: {port: 1}\n",
		"operator field": "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\nspec: {endpoints: [{port: a, intervall: 15s}]}\n",
	} {
		if _, err := decodeManifest(name, []byte(doc)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if objects, err := decodeManifest("good", []byte("# c\n---\napiVersion: v1\nkind: Service\nmetadata: {name: x}\n")); err != nil || len(objects) != 1 {
		t.Errorf("a good document: %d objects, %v", len(objects), err)
	}
}

func TestPrometheusRuleIsGenerated(t *testing.T) {
	rule, err := prometheusRule(ruleFiles...)
	if err != nil {
		t.Fatal(err)
	}
	generated, err := render(rule)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(generated, committed) {
		t.Error("prometheusrule.yaml differs from what the rule files give; run: cd examples/kubernetes && go run . -o prometheusrule.yaml")
	}
}

// TestPrometheusRuleCarriesEveryRule compares the committed object's groups
// with the rule files read as plain YAML, so that a field the operator's
// types dropped or changed on the way shows.
func TestPrometheusRuleCarriesEveryRule(t *testing.T) {
	var want []any
	for _, file := range ruleFiles {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var f struct{ Groups []any }
		if err := yaml.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		want = append(want, f.Groups...)
	}
	data, err := os.ReadFile("prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Spec struct{ Groups []any } }
	if err := yaml.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || !reflect.DeepEqual(got.Spec.Groups, want) {
		t.Errorf("prometheusrule.yaml's groups differ from the rule files'")
	}
	set := loadSet(t, ".")
	if len(set.rules) != 1 {
		t.Fatalf("want one PrometheusRule, have %d", len(set.rules))
	}
	rules := 0
	for _, g := range set.rules[0].Spec.Groups {
		for _, r := range g.Rules {
			rules++
			if (r.Record == "") == (r.Alert == "") || r.Expr.String() == "" {
				t.Errorf("group %s: a rule is neither one recording rule nor one alert, or has no expression: %+v", g.Name, r)
			}
		}
	}
	t.Logf("%d groups, %d rules", len(set.rules[0].Spec.Groups), rules)
}
