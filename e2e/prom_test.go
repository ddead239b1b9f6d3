package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/agentgateway/agentgateway_exporter/internal/httpcall"
)

// promAPI is a minimal client of Prometheus' HTTP API.
type promAPI struct {
	base   string
	client *http.Client
}

type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

// errBadQuery marks answers that no amount of waiting will change.
type errBadQuery struct{ msg string }

func (e errBadQuery) Error() string { return e.msg }

func (p promAPI) get(ctx context.Context, path string, params url.Values, into any) error {
	ans, err := httpcall.Do(ctx, p.client, httpcall.Request{URL: p.base + path + "?" + params.Encode()}, nil)
	if err != nil {
		return err
	}
	var r apiResponse
	if err := json.Unmarshal(ans.Body, &r); err != nil {
		return fmt.Errorf("%s: HTTP status %d: %.200s", path, ans.StatusCode, ans.Body)
	}
	if r.Status != "success" {
		if r.ErrorType == "bad_data" {
			return errBadQuery{fmt.Sprintf("%s: %s", r.ErrorType, r.Error)}
		}
		return fmt.Errorf("%s: %s", r.ErrorType, r.Error)
	}
	return json.Unmarshal(r.Data, into)
}

type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant query and returns its samples (a scalar answer
// counts as one sample).
func (p promAPI) query(ctx context.Context, expr string) ([]sample, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.get(ctx, "/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return []sample{{}}, nil
	}
	var samples []sample
	err := json.Unmarshal(data.Result, &samples)
	return samples, err
}

func (p promAPI) labelValues(ctx context.Context, label, match string) ([]string, error) {
	var values []string
	err := p.get(ctx, "/api/v1/label/"+url.PathEscape(label)+"/values", url.Values{"match[]": {match}}, &values)
	return values, err
}

// untilData queries every expression until each has returned at least one
// sample, or limit passes. It returns the names of those that never did, and
// how long the others took. A query Prometheus rejects is reported at once:
// waiting cannot fix it.
func (p promAPI) untilData(ctx context.Context, limit time.Duration, queries map[string]string) (missing []string, took map[string]time.Duration, err error) {
	pending := make(map[string]string, len(queries))
	for name, expr := range queries {
		pending[name] = expr
	}
	took = map[string]time.Duration{}
	last := map[string]error{}
	begin := time.Now()
	_ = eventually(ctx, limit, 3*time.Second, func() error {
		for name, expr := range pending {
			samples, qerr := p.query(ctx, expr)
			var bad errBadQuery
			if errors.As(qerr, &bad) {
				err = fmt.Errorf("%s: %s: %w", name, expr, bad)
				return nil
			}
			last[name] = qerr
			if qerr == nil && len(samples) > 0 {
				delete(pending, name)
				took[name] = time.Since(begin).Round(time.Second)
			}
		}
		if len(pending) > 0 {
			return fmt.Errorf("%d queries without data", len(pending))
		}
		return nil
	})
	for name, expr := range pending {
		line := name + ": " + expr
		if last[name] != nil {
			line += " (" + last[name].Error() + ")"
		}
		missing = append(missing, line)
	}
	sort.Strings(missing)
	return missing, took, err
}

// slowest names the n queries that took longest to return data.
func slowest(took map[string]time.Duration, n int) string {
	names := make([]string, 0, len(took))
	for name := range took {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return took[names[i]] > took[names[j]] })
	if len(names) > n {
		names = names[:n]
	}
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s %v", name, took[name])
	}
	return strings.Join(parts, ", ")
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	SchemaVersion int              `json:"schemaVersion"`
	Panels        []dashboardPanel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			AllValue   string `json:"allValue"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type dashboardPanel struct {
	ID          int              `json:"id"`
	Title       string           `json:"title"`
	Type        string           `json:"type"`
	Datasource  datasourceRef    `json:"datasource"`
	Panels      []dashboardPanel `json:"panels"` // of a collapsed row
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		Datasource datasourceRef `json:"datasource"`
		Expr       string        `json:"expr"`
		RefID      string        `json:"refId"`
	} `json:"targets"`
}

type datasourceRef struct {
	UID string `json:"uid"`
}

func loadDashboard(path string) (*dashboard, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &d, nil
}

// queries returns every panel query, keyed "panel title [refId]", with the
// variables replaced as Grafana would for the given values.
func (d *dashboard) queries(vars map[string]string) map[string]string {
	out := map[string]string{}
	var walk func([]dashboardPanel)
	walk = func(panels []dashboardPanel) {
		for _, p := range panels {
			walk(p.Panels)
			for _, t := range p.Targets {
				if t.Expr != "" {
					out[fmt.Sprintf("%s [%s]", p.Title, t.RefID)] = expand(t.Expr, vars)
				}
			}
		}
	}
	walk(d.Panels)
	return out
}

var variableRef = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)

// expand replaces $name and ${name}; unknown names stay, so that Prometheus
// rejects the query and the test names it.
func expand(expr string, vars map[string]string) string {
	return variableRef.ReplaceAllStringFunc(expr, func(ref string) string {
		name := strings.Trim(ref, "${}")
		if v, ok := vars[name]; ok {
			return v
		}
		return ref
	})
}

// labelValuesCall matches a Grafana label_values(selector, label) query.
var labelValuesCall = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// recordedNames returns the names of the recording rules of a rule file.
func recordedNames(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s*-?\s*record:\s*(\S+)\s*$`).FindAllStringSubmatch(string(data), -1) {
		names = append(names, m[1])
	}
	return names, nil
}

// shortFor rewrites every "for:" of an alert rule file to d, so that the
// alerts fire as soon as their condition holds.
func shortFor(rules []byte, d string) []byte {
	return regexp.MustCompile(`(?m)^(\s+for:\s*)\S+\s*$`).ReplaceAll(rules, []byte("${1}"+d))
}
