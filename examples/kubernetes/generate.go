// Command kubernetes writes prometheusrule.yaml, the prometheus-operator
// PrometheusRule that carries the project's recording rules and alerts, from
// the rule files under prometheus/, so that the two cannot drift apart:
//
//	go run . -o prometheusrule.yaml
//
// It lives in a module of its own so that the Kubernetes and
// prometheus-operator API types never become dependencies of the exporter.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// ruleFiles are the sources, relative to this directory, in the order their
// groups appear in the PrometheusRule.
var ruleFiles = []string{
	"../../prometheus/agentgateway.rules.yml",
	"../../prometheus/agentgateway.alerts.yml",
}

const header = `# Generated from prometheus/agentgateway.rules.yml and
# prometheus/agentgateway.alerts.yml by examples/kubernetes/generate.go:
#   cd examples/kubernetes && go run . -o prometheusrule.yaml
# Do not edit; edit the rule files and generate again (a test fails when
# this file is out of step).
#
# The alerts need the recording rules, so both are in this one object. Add
# the labels your Prometheus' ruleSelector asks for (kube-prometheus-stack:
# release: <its release name>).
`

func main() {
	out := flag.String("o", "", "write here instead of standard output")
	flag.Parse()
	rule, err := prometheusRule(ruleFiles...)
	if err == nil {
		var data []byte
		if data, err = render(rule); err == nil {
			if *out == "" {
				_, err = os.Stdout.Write(data)
			} else {
				err = os.WriteFile(*out, data, 0o644) //nolint:gosec // a manifest meant to be read and committed, no secret
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

// prometheusRule reads Prometheus rule files into one PrometheusRule. The
// files are decoded strictly into the operator's own types, so a key that
// the PrometheusRule resource does not know is an error here rather than a
// rule the operator drops.
func prometheusRule(files ...string) (*monitoringv1.PrometheusRule, error) {
	rule := &monitoringv1.PrometheusRule{
		TypeMeta: metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.PrometheusRuleKind},
		ObjectMeta: metav1.ObjectMeta{
			Name:   "agentgateway",
			Labels: map[string]string{"app.kubernetes.io/name": "agentgateway-exporter"},
		},
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var spec monitoringv1.PrometheusRuleSpec
		if err := decodeStrictly(data, &spec); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(file), err)
		}
		if len(spec.Groups) == 0 {
			return nil, fmt.Errorf("%s: no rule groups", filepath.Base(file))
		}
		rule.Spec.Groups = append(rule.Spec.Groups, spec.Groups...)
	}
	return rule, nil
}

// decodeStrictly decodes YAML into an API type as the API server's strict
// field validation does: field names match case-sensitively, and unknown
// fields and duplicate keys are errors. (encoding/json alone would take
// "clusterIp" for "clusterIP".)
func decodeStrictly(data []byte, into any) error {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, into, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// render is the YAML of the object under the header. The metadata fields
// that only the API server fills in are left out.
func render(rule *monitoringv1.PrometheusRule) ([]byte, error) {
	data, err := yaml.Marshal(rule)
	if err != nil {
		return nil, err
	}
	data = bytes.Replace(data, []byte("  creationTimestamp: null\n"), nil, 1)
	return append([]byte(header), data...), nil
}
