package config

import (
	"net/http"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
)

// Reloader loads the configuration file and hands it to apply. A file that
// fails to load or apply leaves the running configuration untouched.
type Reloader struct {
	load   func() (*Config, error)
	apply  func(*Config) error
	logger log.Logger

	mu sync.Mutex // one load at a time
	// loadedAt is when the running configuration was loaded, zero until
	// the first load succeeds; its own lock, so reading it never waits for
	// a load in progress.
	stateMu        sync.Mutex
	loadedAt       time.Time
	lastFailed     bool
	lastSuccessful prometheus.Gauge
	lastSuccessAt  prometheus.Gauge
	reloads        *prometheus.CounterVec
}

// NewReloader registers the reload metrics with reg.
func NewReloader(load func() (*Config, error), apply func(*Config) error, logger log.Logger, reg prometheus.Registerer) *Reloader {
	r := &Reloader{
		load:   load,
		apply:  apply,
		logger: logger,
		lastSuccessful: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agentgateway_config_last_reload_successful",
			Help: "1 if the last configuration load succeeded, 0 if it failed and the previous configuration is still in use.",
		}),
		lastSuccessAt: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agentgateway_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentgateway_config_reloads_total",
			Help: "Configuration loads by result (success, failure).",
		}, []string{"result"}),
	}
	r.reloads.WithLabelValues("success")
	r.reloads.WithLabelValues("failure")
	reg.MustRegister(r.lastSuccessful, r.lastSuccessAt, r.reloads)
	return r
}

// Reload loads and applies the configuration; concurrent calls run one
// after the other.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, err := r.load()
	if err == nil {
		err = r.apply(cfg)
	}
	if err != nil {
		r.lastSuccessful.Set(0)
		r.reloads.WithLabelValues("failure").Inc()
		msg := "configuration not loaded, keeping the previous one"
		if loadedAt, _ := r.LoadedAt(); loadedAt.IsZero() {
			msg = "cannot start: the configuration is invalid"
		}
		r.stateMu.Lock()
		r.lastFailed = true
		r.stateMu.Unlock()
		for _, problem := range Problems(err) {
			level.Error(r.logger).Log("msg", msg, "err", problem)
		}
		return err
	}
	now := time.Now()
	r.stateMu.Lock()
	r.loadedAt, r.lastFailed = now, false
	r.stateMu.Unlock()
	r.lastSuccessful.Set(1)
	r.lastSuccessAt.Set(float64(now.UnixNano()) / 1e9)
	r.reloads.WithLabelValues("success").Inc()
	level.Info(r.logger).Log("msg", "configuration loaded", "gateways", len(cfg.Gateways), "agents", cfg.agentCount())
	return nil
}

// LoadedAt is when the running configuration was loaded (zero before the
// first success), and whether the latest attempt since then failed.
func (r *Reloader) LoadedAt() (at time.Time, lastFailed bool) {
	r.stateMu.Lock()
	defer r.stateMu.Unlock()
	return r.loadedAt, r.lastFailed
}

func (c *Config) agentCount() int {
	n := 0
	for _, gw := range c.Gateways {
		n += len(gw.Agents)
	}
	return n
}

// Handler serves POST /-/reload: 200 when the new configuration is in
// use, 500 with the reason when the old one was kept.
func (r *Reloader) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost && req.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "this endpoint requires a POST request", http.StatusMethodNotAllowed)
			return
		}
		if err := r.Reload(); err != nil {
			http.Error(w, "failed to reload config: "+err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("configuration reloaded\n"))
	})
}
