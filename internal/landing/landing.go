// Package landing serves the exporter's page at /: what an operator needs
// in the first minutes — is it configured, is it scraping, are the agents
// answering, and where are the metrics — with no external assets and no
// secrets.
package landing

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/agentgateway/agentgateway_exporter/collector"
)

// Page is the landing page. Its functions are read on every request.
type Page struct {
	// Version is shown under the title (version, revision, build date).
	Version string
	// MetricsPath is where /metrics is served.
	MetricsPath string
	// Gateways is the status of the configured gateways.
	Gateways func() []collector.GatewayStatus
	// LoadedAt is when the running configuration was loaded and whether
	// the latest reload failed.
	LoadedAt func() (time.Time, bool)
	// GUIDPush tells whether Guids can be pushed to the exporter; off
	// unless main says otherwise.
	GUIDPush bool
	// Now is the clock for "ago"; tests replace it.
	Now func() time.Time
}

//go:embed landing.html
var pageHTML string

var pageTemplate = template.Must(template.New("landing").Funcs(template.FuncMap{
	"clock": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"ago":   ago,
	"when":  when,
}).Parse(pageHTML))

type view struct {
	*Page
	Now        time.Time
	Gateways   []collector.GatewayStatus
	LoadedAt   time.Time
	LastFailed bool
}

// ServeHTTP renders the page for / and answers 404 for any other path
// that reached it, so a mistyped path is not mistaken for a working one.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	v := view{Page: p, Now: time.Now()}
	if p.Now != nil {
		v.Now = p.Now()
	}
	if p.Gateways != nil {
		v.Gateways = p.Gateways()
	}
	if p.LoadedAt != nil {
		v.LoadedAt, v.LastFailed = p.LoadedAt()
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, v); err != nil {
		http.Error(w, "landing page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// when is t as a time of day, with the date when it is not today's.
func when(now, t time.Time) string {
	if now.UTC().Format(time.DateOnly) == t.UTC().Format(time.DateOnly) {
		return t.UTC().Format("15:04:05 UTC")
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// ago says how long before now t was, to the second.
func ago(now, t time.Time) string {
	d := now.Sub(t).Round(time.Second)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %ds ago", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh %dm ago", int(d.Hours()), int(d.Minutes())%60)
	}
}
