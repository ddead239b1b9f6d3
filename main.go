// Command agentgateway_exporter exports per-agent call information from a
// Huawei contact-center CC-Gateway as Prometheus metrics.
package main

import (
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/agentgateway/agentgateway_exporter/collector"
	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/internal/buildinfo"
	guidstore "github.com/agentgateway/agentgateway_exporter/internal/guids"
	"github.com/agentgateway/agentgateway_exporter/internal/landing"
	"github.com/agentgateway/agentgateway_exporter/internal/logging"
)

const exporterName = "agentgateway_exporter"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	buildinfo.Fill(debug.ReadBuildInfo())
	app := kingpin.New(exporterName, "Prometheus exporter for Huawei contact-center CC-Gateway call information.")
	var (
		configFile       = app.Flag("config.file", "Path to agents.yml.").Default("agents.yml").String()
		configCheck      = app.Flag("config.check", "Validate the configuration file and exit.").Bool()
		metricsPath      = app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
		timeoutOffset    = app.Flag("scrape.timeout-offset", "Kept back from Prometheus' scrape timeout so the answer arrives in time.").Default("500ms").Duration()
		defaultTimeout   = app.Flag("scrape.default-timeout", "Scrape time budget when the request carries no X-Prometheus-Scrape-Timeout-Seconds header.").Default("10s").Duration()
		nativeHistograms = app.Flag("histograms.native", "Also expose native histogram buckets for the call histograms.").Bool()
		maxRequests      = app.Flag("web.max-requests", "Maximum number of scrapes (/metrics and /probe) served at once; more get 503 without querying the gateway. 0 means no limit.").Default("40").Int()
		readHeaderTime   = app.Flag("web.read-header-timeout", "Time a client may take to send the request headers.").Default("10s").Duration()
		simulate         = app.Flag("simulate", "Run against a built-in simulated CC-Gateway in dynamic authentication, with a simulated agent desktop pushing its Guids, instead of --config.file.").Bool()
		simulateAgents   = app.Flag("simulate.agents", "Number of agents of the simulated gateway.").Default("40").Int()
		guidPushToken    = app.Flag("guid-push.token-file", "Turns on the Guid push API (PUT "+guidstore.PushPath+"); callers must send the bearer token in this file. Re-read when it changes.").String()
		webFlags         = kingpinflag.AddFlags(app, ":10025")
		logConfig        = logging.AddFlags(app)
	)
	app.Version(version.Print(exporterName))
	app.HelpFlag.Short('h')
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	logger, slogger := logging.New(logConfig, os.Stderr)

	var pushTokens guidstore.TokenSource
	if *guidPushToken != "" {
		tokens, err := guidstore.NewFileToken(*guidPushToken)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		pushTokens = tokens
	}
	loadConfig := func() (*config.Config, error) {
		return config.LoadFile(*configFile, config.WithGUIDPush(pushTokens != nil))
	}
	if *configCheck {
		if _, err := loadConfig(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("configuration OK:", *configFile)
		return 0
	}
	var sim *simulation
	if *simulate {
		var err error
		if sim, err = startSimulator(simulationOptions{agents: *simulateAgents}, logger); err != nil {
			level.Error(logger).Log("msg", "cannot start the simulated gateway", "err", err)
			return 1
		}
		defer sim.Close()
		loadConfig, pushTokens = sim.load, sim.token
	}

	level.Info(logger).Log("msg", "starting "+exporterName, "version", version.Info(), "build_context", version.BuildContext())
	guidStore := guidstore.NewStore(time.Now)
	exporter := collector.New(collector.Options{Logger: logger, NativeHistograms: *nativeHistograms, GUIDs: guidStore})
	registry := ownRegistry()
	reloader := config.NewReloader(loadConfig, exporter.ApplyConfig, logger, registry)
	if err := reloader.Reload(); err != nil {
		return 1
	}
	go reloadOnHangup(reloader)

	handlerOptions := collector.HandlerOptions{Gatherer: registry, TimeoutOffset: *timeoutOffset, DefaultTimeout: *defaultTimeout,
		MaxRequests: collector.NewRequestLimit(*maxRequests)}
	var push http.Handler
	if pushTokens != nil {
		push = guidstore.NewPushHandler(guidStore, pushTokens, logger)
		if sim != nil {
			if err := sim.startSessionOwner(push, logger); err != nil {
				level.Error(logger).Log("msg", "cannot start the simulated session owner", "err", err)
				return 1
			}
		}
	}
	mux := newMux(exporter, reloader, handlerOptions, *metricsPath, push)

	server := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: *readHeaderTime,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	if err := web.ListenAndServe(server, webFlags, slogger); err != nil {
		level.Error(logger).Log("msg", "HTTP server stopped", "err", err)
		return 1
	}
	return 0
}

// ownRegistry holds the exporter's own metrics: build info, Go runtime and
// process; the reloader adds its own.
func ownRegistry() *prometheus.Registry {
	registry := prometheus.NewRegistry()
	registry.MustRegister(
		versioncollector.NewCollector(exporterName),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return registry
}

// reloadOnHangup reloads on SIGHUP; a failed reload is logged and counted
// by the reloader, and the previous configuration stays in force.
func reloadOnHangup(reloader *config.Reloader) {
	hangup := make(chan os.Signal, 1)
	signal.Notify(hangup, syscall.SIGHUP)
	for range hangup {
		_ = reloader.Reload()
	}
}

// newMux routes every endpoint, the landing page included; the page links
// only to what is routed here. push is the Guid push API, nil when it is off.
func newMux(exporter *collector.Exporter, reloader *config.Reloader, opts collector.HandlerOptions, metricsPath string, push http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(metricsPath, exporter.MetricsHandler(opts))
	mux.Handle("/probe", exporter.ProbeHandler(opts))
	mux.Handle("/-/reload", reloader.Handler())
	if push != nil {
		mux.Handle(guidstore.PushPath, push)
	}
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("Healthy\n")) })
	if metricsPath != "/" {
		mux.Handle("/", &landing.Page{
			Version:     versionLine(),
			MetricsPath: metricsPath,
			Gateways:    exporter.Status,
			LoadedAt:    reloader.LoadedAt,
			GUIDPush:    push != nil,
		})
	}
	return mux
}

// versionLine is the build as the landing page shows it.
func versionLine() string {
	line := "version " + version.Version + ", revision " + version.GetRevision()
	if version.Branch != "" {
		line += ", branch " + version.Branch
	}
	if version.BuildDate != "" {
		line += ", built " + version.BuildDate
	}
	return line + ", " + version.GoVersion
}
