package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/piechart"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	statpanel "github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	chart "github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// The kinds of panel the dashboard uses, each with the options every panel
// of that kind shares. A constructor returns the SDK's own builder, so that
// a panel needing more (thresholds, another width, no-data text) chains the
// SDK's methods at its place in panels.go.

// ds is the data source every panel and query uses: the dashboard's
// "datasource" variable, so that the dashboard imports on any Grafana.
var ds = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

// q is one query; legend "" lets Grafana name the series.
type q struct{ expr, legend string }

// How a panel's queries run: over the time range, or once at its end (as
// series, or as a table with one column per label).
type mode int

const (
	rangeQuery mode = iota
	instantQuery
	tableQuery
)

func targets(m mode, qs []q) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], len(qs))
	for i, x := range qs {
		t := prometheus.NewDataqueryBuilder().Datasource(ds).Expr(x.expr).RefId(string(rune('A' + i)))
		if x.legend != "" {
			t.LegendFormat(x.legend)
		}
		switch m {
		case rangeQuery:
			t.Range()
		case instantQuery:
			t.Instant().Format(prometheus.PromQueryFormatTimeSeries)
		case tableQuery:
			t.Instant().Format(prometheus.PromQueryFormatTable)
		}
		out[i] = t
	}
	return out
}

// Sizes on the 24-column grid; layout places the panels.
const (
	statW, statH   = 4, 4
	graphW, graphH = 12, 8
	pieW, pieH     = 6, 8
	tableW, tableH = 24, 9
)

// timeseries is a line chart over the time range.
func timeseries(title, desc, unit string, qs ...q) *chart.PanelBuilder {
	return chart.NewPanelBuilder().
		Title(title).Description(desc).Datasource(ds).Targets(targets(rangeQuery, qs)).
		Unit(unit).Min(0).
		FillOpacity(10).LineWidth(1).ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).Placement(common.LegendPlacementBottom).
			ShowLegend(true).Calcs([]string{"lastNotNull", "max"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending)).
		Span(graphW).Height(graphH)
}

// stacked draws a chart's series on top of each other, for parts of a
// whole such as agents by state.
func stacked(p *chart.PanelBuilder) *chart.PanelBuilder {
	return p.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal).Group("A")).
		FillOpacity(60)
}

// stat shows the last value in one neutral colour; chain Thresholds to
// colour it by value.
func stat(title, desc, unit string, qs ...q) *statpanel.PanelBuilder {
	return statpanel.NewPanelBuilder().
		Title(title).Description(desc).Datasource(ds).Targets(targets(rangeQuery, qs)).
		Unit(unit).
		Thresholds(steps("blue")).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
		ReduceOptions(lastValue()).
		ColorMode(common.BigValueColorModeValue).GraphMode(common.BigValueGraphModeArea).
		JustifyMode(common.BigValueJustifyModeAuto).Orientation(common.VizOrientationAuto).
		TextMode(common.BigValueTextModeAuto).
		Span(statW).Height(statH)
}

// pie shows the parts of a whole at the end of the time range.
func pie(title, desc, unit string, qs ...q) *piechart.PanelBuilder {
	return piechart.NewPanelBuilder().
		Title(title).Description(desc).Datasource(ds).Targets(targets(instantQuery, qs)).
		Unit(unit).
		PieType(piechart.PieChartTypeDonut).Orientation(common.VizOrientationAuto).
		ReduceOptions(lastValue()).
		Legend(piechart.NewPieChartLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).Placement(common.LegendPlacementRight).ShowLegend(true).
			Values([]piechart.PieChartLegendValues{piechart.PieChartLegendValuesValue, piechart.PieChartLegendValuesPercent})).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeSingle).Sort(common.SortOrderNone)).
		Span(pieW).Height(pieH)
}

// tableOf is one line per series (or per joined row, see the
// transformations) at the end of the time range.
func tableOf(title, desc, unit string, qs ...q) *table.PanelBuilder {
	return table.NewPanelBuilder().
		Title(title).Description(desc).Datasource(ds).Targets(targets(tableQuery, qs)).
		Unit(unit).Align(common.FieldTextAlignmentAuto).
		ShowHeader(true).Footer(common.NewTableFooterOptionsBuilder().Show(false)).
		Span(tableW).Height(tableH)
}

func lastValue() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Fields("").Values(false)
}

// at is a threshold: from value up, the colour.
type at struct {
	value float64
	color string
}

// steps colours a value: the base colour from the bottom, then each
// threshold's colour from its value up.
func steps(base string, more ...at) *dashboard.ThresholdsConfigBuilder {
	s := []dashboard.Threshold{{Color: base}}
	for _, t := range more {
		s = append(s, dashboard.Threshold{Value: cog.ToPtr(t.value), Color: t.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(s)
}

// shown is a value shown as text in a colour, such as 1 as "UP".
type shown struct{ value, text, color string }

func valueText(vs ...shown) []dashboard.ValueMapping {
	out := make([]dashboard.ValueMapping, len(vs))
	for i, v := range vs {
		out[i] = dashboard.ValueMapping{ValueMap: &dashboard.ValueMap{
			Type:    dashboard.MappingTypeValueToText,
			Options: map[string]dashboard.ValueMappingResult{v.value: {Text: cog.ToPtr(v.text), Color: cog.ToPtr(v.color)}},
		}}
	}
	return out
}
