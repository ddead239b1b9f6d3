package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

const committedFile = "agentgateway.json"

func committed(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(committedFile)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkStrict decodes a dashboard strictly into Grafana's types: a field
// Grafana's schema does not know, or a value of the wrong type, is an error.
func checkStrict(data []byte) error {
	plugins.RegisterDefaultPlugins()
	var d board
	err := d.UnmarshalJSONStrict(data)
	// The SDK returns its error list even when it is empty (and then drops
	// the panels from what it decoded, which is why load decodes again):
	// only a list with something in it is a failure.
	var errs cog.BuildErrors
	if errors.As(err, &errs) && len(errs) == 0 {
		return nil
	}
	return err
}

// load returns the committed dashboard, decoded into Grafana's types after
// checking it strictly.
func load(t *testing.T) board {
	t.Helper()
	data := committed(t)
	if err := checkStrict(data); err != nil {
		t.Fatalf("%s does not decode as a Grafana dashboard: %v", committedFile, err)
	}
	var d board
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", committedFile, err)
	}
	return d
}

// TestStrictCheckFails shows that the strict check does find what it is
// for. (The SDK checks the types in a panel's field config but not its
// field names: a misspelt field option passes.)
func TestStrictCheckFails(t *testing.T) {
	data := committed(t)
	for name, edit := range map[string]func(map[string]any){
		"unknown panel option": func(d map[string]any) {
			p := d["panels"].([]any)[1].(map[string]any)
			p["options"].(map[string]any)["colourMode"] = "value"
		},
		"unit not a string": func(d map[string]any) {
			p := d["panels"].([]any)[1].(map[string]any)
			p["fieldConfig"].(map[string]any)["defaults"].(map[string]any)["unit"] = 1
		},
		"unknown dashboard field": func(d map[string]any) { d["refresh_every"] = "30s" },
	} {
		var d map[string]any
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatal(err)
		}
		edit(d)
		bad, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkStrict(bad); err == nil {
			t.Errorf("%s: the strict check accepts it", name)
		}
	}
}

// TestDashboardIsGenerated keeps agentgateway.json what the generator
// makes, so that nobody edits one and not the other.
func TestDashboardIsGenerated(t *testing.T) {
	generated, err := render()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(generated, committed(t)) {
		t.Errorf("grafana/%s differs from the generator's output; run: cd grafana && go generate", committedFile)
	}
}

// TestDashboardRoundTrips decodes the committed JSON into the SDK's types
// and encodes it again: nothing may be lost or added on the way.
func TestDashboardRoundTrips(t *testing.T) {
	again, err := encode(load(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, committed(t)) {
		t.Errorf("%s changes when decoded into Grafana's types and encoded again", committedFile)
	}
}

// panels returns the dashboard's panels that are not rows, by title.
func panels(t *testing.T, d board) map[string]*dashboard.Panel {
	t.Helper()
	out := map[string]*dashboard.Panel{}
	for _, p := range d.Panels {
		if p.Panel == nil {
			continue
		}
		title := *p.Panel.Title
		if out[title] != nil && out[title].Type == p.Panel.Type {
			t.Errorf("two %s panels titled %q", p.Panel.Type, title)
		}
		out[title] = p.Panel
	}
	return out
}

// TestNoValueText checks which panels say something else than "No data"
// when their queries return nothing: those whose series exist only while
// something fails, so that an empty panel reads as healthy.
func TestNoValueText(t *testing.T) {
	want := map[string]string{
		"Failing queries by retcode": noFailures,
		"Query errors by reason":     noFailures,
	}
	byTitle := panels(t, load(t))
	for title := range want {
		if byTitle[title] == nil {
			t.Errorf("no panel %q", title)
		}
	}
	for title, p := range byTitle {
		var got string
		if p.FieldConfig != nil && p.FieldConfig.Defaults.NoValue != nil {
			got = *p.FieldConfig.Defaults.NoValue
		}
		if got != want[title] {
			t.Errorf("panel %q: no-data text %q, want %q", title, got, want[title])
		}
	}
}

// TestLayout checks the placement a panel added later relies on: every
// panel inside the 24-column grid, none overlapping another, rows across
// the full width, ids unique.
func TestLayout(t *testing.T) {
	d := load(t)
	type cell struct{ x, y uint32 }
	taken := map[cell]string{}
	ids := map[uint32]bool{}
	for i, p := range d.Panels {
		var title string
		var id uint32
		var pos *dashboard.GridPos
		switch {
		case p.RowPanel != nil:
			title, id, pos = *p.RowPanel.Title, p.RowPanel.Id, p.RowPanel.GridPos
			if pos != nil && (pos.X != 0 || pos.W != gridColumns) {
				t.Errorf("row %q at x=%d, width %d: want the full width", title, pos.X, pos.W)
			}
		case p.Panel != nil && p.Panel.Id != nil:
			title, id, pos = *p.Panel.Title, *p.Panel.Id, p.Panel.GridPos
		default:
			t.Errorf("panel %d has no id", i)
			continue
		}
		if ids[id] {
			t.Errorf("panel %q: id %d used twice", title, id)
		}
		ids[id] = true
		if pos == nil || pos.W == 0 || pos.H == 0 {
			t.Errorf("panel %q has no size", title)
			continue
		}
		if pos.X+pos.W > gridColumns {
			t.Errorf("panel %q ends at column %d, past %d", title, pos.X+pos.W, gridColumns)
		}
		for x := pos.X; x < pos.X+pos.W; x++ {
			for y := pos.Y; y < pos.Y+pos.H; y++ {
				if other, ok := taken[cell{x, y}]; ok {
					t.Errorf("panel %q overlaps %q at x=%d y=%d", title, other, x, y)
				}
				taken[cell{x, y}] = title
			}
		}
	}
}

// TestLayoutWraps places panels that do not fill a line exactly: a panel
// that no longer fits goes to the next line, below the tallest before it.
func TestLayoutWraps(t *testing.T) {
	sizes := [][2]uint32{{24, 1}, {16, 4}, {12, 8}, {6, 3}, {6, 3}, {24, 1}, {4, 4}}
	rowAt := map[int]bool{0: true, 5: true}
	ps := make([]dashboard.PanelOrRowPanel, len(sizes))
	placed := make([]*dashboard.GridPos, len(sizes))
	for i, s := range sizes {
		pos := &dashboard.GridPos{W: s[0], H: s[1]}
		placed[i] = pos
		if rowAt[i] {
			ps[i].RowPanel = &dashboard.RowPanel{GridPos: pos}
		} else {
			ps[i].Panel = &dashboard.Panel{GridPos: pos}
		}
	}
	layout(ps)
	want := [][2]uint32{{0, 0}, {0, 1}, {0, 5}, {12, 5}, {18, 5}, {0, 13}, {0, 14}}
	for i, pos := range placed {
		if got := [2]uint32{pos.X, pos.Y}; got != want[i] {
			t.Errorf("panel %d (%dx%d) at x,y=%v, want %v", i, pos.W, pos.H, got, want[i])
		}
	}
}
