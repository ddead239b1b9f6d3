package collector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
)

// HandlerOptions configure the scrape endpoints.
type HandlerOptions struct {
	// Gatherer serves the exporter's own metrics (build info, Go, process,
	// reloads) alongside every /metrics scrape.
	Gatherer prometheus.Gatherer
	// TimeoutOffset is kept back from Prometheus' scrape timeout so the
	// answer is written before Prometheus gives up.
	TimeoutOffset time.Duration
	// DefaultTimeout applies when the request carries no
	// X-Prometheus-Scrape-Timeout-Seconds header (a person with curl).
	DefaultTimeout time.Duration
	// MaxRequests bounds the scrapes served at once by the handlers given
	// the same limit; nil means no limit.
	MaxRequests *RequestLimit
}

// RequestLimit is a number of scrapes that may run at once.
type RequestLimit struct{ slots chan struct{} }

// NewRequestLimit allows n scrapes at once; 0 or less means no limit.
func NewRequestLimit(n int) *RequestLimit {
	if n <= 0 {
		return nil
	}
	return &RequestLimit{slots: make(chan struct{}, n)}
}

// acquire takes a slot if one is free, without waiting: a scrape over the
// limit is refused before it queries anything.
func (l *RequestLimit) acquire() bool {
	if l == nil {
		return true
	}
	select {
	case l.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (l *RequestLimit) release() {
	if l != nil {
		<-l.slots
	}
}

// MetricsHandler serves every configured agent plus the exporter's own
// metrics.
func (e *Exporter) MetricsHandler(opts HandlerOptions) http.Handler {
	return e.handler(opts, func(*http.Request) (selection, error) { return selection{}, nil }, opts.Gatherer)
}

// ProbeHandler serves one gateway, optionally one shard of it:
// /probe?gateway=NAME[&shard=I&shards=N].
func (e *Exporter) ProbeHandler(opts HandlerOptions) http.Handler {
	return e.handler(opts, parseSelection, nil)
}

func parseSelection(r *http.Request) (selection, error) {
	q := r.URL.Query()
	sel := selection{Gateway: q.Get("gateway")}
	if sel.Gateway == "" {
		return sel, errors.New("gateway parameter is missing")
	}
	if q.Get("shards") == "" && q.Get("shard") == "" {
		return sel, nil
	}
	var err error
	if sel.Shards, err = strconv.Atoi(q.Get("shards")); err != nil || sel.Shards < 1 || sel.Shards > 1024 {
		return sel, errors.New("shards must be a whole number from 1 to 1024")
	}
	if sel.Shard, err = strconv.Atoi(q.Get("shard")); err != nil || sel.Shard < 0 || sel.Shard >= sel.Shards {
		return sel, fmt.Errorf("shard must be a whole number from 0 to %d", sel.Shards-1)
	}
	return sel, nil
}

func (e *Exporter) handler(opts HandlerOptions, choose func(*http.Request) (selection, error), own prometheus.Gatherer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !opts.MaxRequests.acquire() {
			level.Debug(e.logger()).Log("msg", "scrape refused: too many at once", "path", r.URL.Path)
			http.Error(w, fmt.Sprintf("more than %d scrapes at once (--web.max-requests)", cap(opts.MaxRequests.slots)), http.StatusServiceUnavailable)
			return
		}
		defer opts.MaxRequests.release()
		sel, err := choose(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), scrapeTimeout(r, opts))
		defer cancel()
		collector, err := e.newScrape(ctx, sel)
		if err != nil {
			http.Error(w, fmt.Sprintf("%v: %q", err, sel.Gateway), http.StatusNotFound)
			return
		}
		if format := expfmt.NegotiateAccept(r.Header, expfmt.DefaultAcceptedFormats()...); format.FormatType() == expfmt.TypeTextPlain {
			e.serveText(w, r, collector, own, format)
			return
		}
		registry := prometheus.NewRegistry()
		registry.MustRegister(collector)
		gatherers := prometheus.Gatherers{registry}
		if own != nil {
			gatherers = append(gatherers, own)
		}
		promhttp.HandlerFor(gatherers, promhttp.HandlerOpts{
			ErrorLog:      promhttpLogger{e},
			ErrorHandling: promhttp.ContinueOnError,
		}).ServeHTTP(w, r)
	})
}

// scrapeTimeout honours Prometheus' timeout header minus the offset, as
// blackbox_exporter does, never going below a small floor.
func scrapeTimeout(r *http.Request, opts HandlerOptions) time.Duration {
	timeout := opts.DefaultTimeout
	if header := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); header != "" {
		// Values beyond time.Duration's range (1e300, +Inf) are junk, not a budget.
		if seconds, err := strconv.ParseFloat(header, 64); err == nil && seconds > 0 && seconds < math.MaxInt64/float64(time.Second) {
			timeout = time.Duration(seconds * float64(time.Second))
		}
	}
	timeout -= opts.TimeoutOffset
	const floor = 100 * time.Millisecond
	if timeout < floor {
		timeout = floor
	}
	return timeout
}

type promhttpLogger struct{ e *Exporter }

func (l promhttpLogger) Println(v ...any) {
	level.Error(l.e.logger()).Log("msg", fmt.Sprint(v...))
}
