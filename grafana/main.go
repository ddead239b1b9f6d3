// Command grafana writes the Grafana dashboard for agentgateway_exporter,
// grafana/agentgateway.json, from the panels in panels.go:
//
//	cd grafana && go generate
//
// The dashboard is built with Grafana's own types (the Grafana Foundation
// SDK), and ids and grid positions are given here so that they stay
// consistent when panels are added or moved; edit the Go files, not the
// JSON. This is a module of its own so that the exporter does not depend on
// the SDK.
package main

//go:generate go run . -o agentgateway.json

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// board is the classic dashboard model (package dashboard, not
// dashboardv2), which the SDK marks deprecated: it is the JSON that "Import
// dashboard" and file provisioning read on every Grafana in use, while the
// v2 resource is read only by recent Grafana versions with the new dashboard
// schema turned on.
type board = dashboard.Dashboard //nolint:staticcheck // see above

// build returns the dashboard with every panel placed.
func build() (board, error) {
	//nolint:staticcheck // the classic model, see board
	b := dashboard.NewDashboardBuilder("CC-Gateway agents and calls").
		Uid("agentgateway").
		Description("Agents, calls and contact-center KPIs from agentgateway_exporter (Huawei CEC CC-Gateway).").
		Tags([]string{"agentgateway", "contact-center", "prometheus"}).
		Annotation(dashboard.NewAnnotationQueryBuilder().
			Name("Annotations & Alerts").Type("dashboard").BuiltIn(1).
			Datasource(dashboardDatasource()).
			Enable(true).Hide(true).IconColor("rgba(0, 211, 255, 1)")).
		Editable().
		FiscalYearStartMonth(0).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		LiveNow(false).
		Refresh("30s").
		Time("now-3h", "now").
		Timezone("").
		WeekStart("").
		Version(1).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").
			Label("Data source").Type("prometheus").
			Hide(dashboard.VariableHideDontHide).Regex("")).
		WithVariable(variable("gateway", "Gateway", "label_values(agentgateway_agent_up, gateway)")).
		WithVariable(variable("agent", "Agent", `label_values(agentgateway_agent_up{gateway=~"$gateway"}, agent_id)`))
	for _, r := range rows() {
		b.WithRow(dashboard.NewRowBuilder(r.title).Collapsed(false))
		for _, p := range r.panels {
			b.WithPanel(p)
		}
	}
	d, err := b.Build()
	if err != nil {
		return d, err
	}
	layout(d.Panels)
	return d, nil
}

// dashboardDatasource is Grafana itself, the source of the built-in
// annotations (alerts and annotations users add).
func dashboardDatasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("grafana"), Uid: cog.ToPtr("-- Grafana --")}
}

// variable is a multi-value filter on a label, "All" by default.
func variable(name, label, query string) *dashboard.QueryVariableBuilder {
	all := "All"
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).Datasource(ds).
		Definition(query).
		Query(dashboard.StringOrMap{Map: map[string]any{
			"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery",
		}}).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).IncludeAll(true).
		// ".+" rather than the list of every value keeps the queries short
		// on gateways with thousands of agents.
		AllValue(".+").
		Current(dashboard.VariableOption{
			Selected: cog.ToPtr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{all}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		}).
		Hide(dashboard.VariableHideDontHide).Regex("")
}

// Grid width in columns.
const gridColumns = 24

// layout numbers the panels and places them: rows span the full width, the
// other panels fill a line left to right at their width (set by their
// kind, or Span) and wrap to the next line when one no longer fits. The
// SDK's own placement wraps only once a line is full, so a wider panel
// after a narrow one would stick out of the grid.
func layout(ps []dashboard.PanelOrRowPanel) {
	var x, y, lineH uint32
	for i := range ps {
		id := uint32(i + 1)
		var pos *dashboard.GridPos
		if r := ps[i].RowPanel; r != nil {
			r.Id, pos = id, r.GridPos
			x, y, lineH = 0, y+lineH, 0
		} else {
			p := ps[i].Panel
			p.Id, pos = &id, p.GridPos
			if x+pos.W > gridColumns {
				x, y, lineH = 0, y+lineH, 0
			}
		}
		pos.X, pos.Y = x, y
		x += pos.W
		lineH = max(lineH, pos.H)
	}
}

// render is the dashboard as written to agentgateway.json.
func render() ([]byte, error) {
	d, err := build()
	if err != nil {
		return nil, err
	}
	return encode(d)
}

// encode writes a dashboard as JSON indented by two spaces, as Grafana
// exports it, with "<" and "&" in queries left readable.
func encode(d board) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func main() {
	out := flag.String("o", "", "write the dashboard to this file instead of standard output")
	flag.Parse()
	data, err := render()
	if err == nil {
		if *out == "" {
			_, err = os.Stdout.Write(data)
		} else {
			err = os.WriteFile(*out, data, 0o644) //nolint:gosec // a file of the repository, for everyone to read
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "grafana:", err)
		os.Exit(1)
	}
}
