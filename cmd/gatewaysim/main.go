// Command gatewaysim runs a simulated CC-Gateway for the exporter's demo: agents with a lively call
// lifecycle behind GET /agentgateway/resource/calldata/{agentid}/callinfo, until SIGINT or SIGTERM.
//
// With --auth-mode=dynamic it behaves like a default gateway: agents must sign in, their Guids are
// renewed every --guid-interval and reach only the owner of the session. --push.url then runs a
// session owner that keeps the agents signed in and pushes their Guids to the exporter.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatewaysim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, logOutput io.Writer) error {
	app := kingpin.New("gatewaysim", "A simulated CC-Gateway (agent gateway) for demonstrating and testing agentgateway_exporter.\n\n"+
		"Auth modes: preset (agents are signed in from the start with fixed Guids, which the written configuration "+
		"carries inline), static (agents sign in through PUT /agentgateway/resource/onlineagent/{agentid} and keep "+
		"their Guid for the session) and dynamic (the real gateway's default: the Guid is renewed every --guid-interval "+
		"and reaches only the event poll, in a Set-GUID header). In static and dynamic mode an agent nobody polls is "+
		"signed out after --idle-sign-out, and the written configuration has no Guids: give --push.url and "+
		"--push.token-file to run a session owner that signs the agents in, polls their events and pushes each new "+
		"Guid to the exporter's push API; SIGUSR1 pauses its pushes (the agents stay signed in) and SIGUSR2 resumes them.")
	listenAddress := app.Flag("listen-address", "Address to listen on.").Default("127.0.0.1:8043").String()
	agents := app.Flag("agents", "Number of agents (in preset mode signed in from the start).").Default("40").Int()
	firstAgentID := app.Flag("first-agent-id", "Id of the first agent; the others follow.").Default("1001").Int()
	seed := app.Flag("seed", "Seed of everything random: the same seed gives the same Guids, and the same calls at the same time.").
		Default("1").Int64()
	latency := app.Flag("latency", "Delay added to every answer.").Default("0s").Duration()
	quirks := app.Flag("quirks", "Deviations from the documented response shape: off, mix (some calls) or on (all calls).").
		Default("mix").Enum("off", "mix", "on")
	flowLimit := app.Flag("flow-limit", "Queries per agent per 2s before answering 000-007 (the real gateway allows 5); 0 is off.").
		Default("0").Int()
	useTLS := app.Flag("tls", "Serve HTTPS with a self-signed certificate made at start-up, like the real gateway.").Bool()
	writeCA := app.Flag("write-ca", "With --tls, write the certificate (PEM) here; default: next to --write-config, as <name>-ca.pem.").String()
	writeConfig := app.Flag("write-config", "Write an exporter configuration (agents.yml) for this simulator to this file "+
		"(- for standard output). In preset mode it lists the agents' Guids; in static and dynamic mode it lists no Guids, "+
		"for an exporter that is given them by push.").String()
	includeLastCall := app.Flag("include-last-call", "Set include_last_call in the written configuration.").Bool()
	configGUIDTTL := app.Flag("config-guid-ttl", "Set guid_ttl to this in the written configuration; 0 leaves it out.").
		Default("0s").Duration()
	configQueues := app.Flag("config-queues", "Write queues: {} (every skill queue, discovered) in the written configuration.").Bool()
	configAgentState := app.Flag("config-agent-state", "Write agent_state: true in the written configuration.").Bool()
	auth := addAuthFlags(app)
	if _, err := app.Parse(args); err != nil {
		return err
	}
	authMode, err := simulator.ParseAuthMode(auth.mode)
	if err != nil {
		return err
	}
	pushToken, err := auth.readToken()
	if err != nil {
		return err
	}

	opts := simulator.Options{
		Agents:       *agents,
		FirstAgentID: *firstAgentID,
		Seed:         *seed,
		Latency:      *latency,
		FlowLimit:    *flowLimit,
		AuthMode:     authMode,
		GuidInterval: auth.interval,
		GuidTimeout:  auth.timeout,
		IdleSignOut:  zeroMeansNone(auth.idle),
		PollWait:     zeroMeansNone(auth.pollWait),
	}
	switch *quirks {
	case "mix":
		opts.Quirks = simulator.MixQuirks()
	case "on":
		opts.Quirks = simulator.AllQuirks()
	}
	start := simulator.Start
	if *useTLS {
		start = simulator.StartTLS
	}
	srv, err := start(*listenAddress, opts)
	if err != nil {
		return err
	}
	defer srv.Close()

	logger := slog.New(slog.NewTextHandler(logOutput, nil))
	caFile := *writeCA
	if *useTLS && caFile == "" && *writeConfig != "" {
		caFile = strings.TrimSuffix(*writeConfig, filepath.Ext(*writeConfig)) + "-ca.pem"
	}
	if *useTLS && caFile != "" {
		if err := writeFileAtomically(caFile, srv.CACertPEM()); err != nil {
			return err
		}
		logger.Info("wrote CA certificate", "file", caFile)
	}
	if *writeConfig != "" {
		configOpts := simulator.ConfigOptions{
			IncludeLastCall: *includeLastCall,
			WithoutGuids:    authMode != simulator.AuthPreset,
			GuidTTL:         *configGUIDTTL,
			Queues:          *configQueues,
			AgentState:      *configAgentState,
		}
		if *useTLS && *writeConfig != "-" {
			configOpts.CAFile = relativeTo(filepath.Dir(*writeConfig), caFile)
		}
		config := srv.ConfigYAMLWith(configOpts)
		if *writeConfig == "-" {
			if _, err := stdout.Write(config); err != nil {
				return err
			}
		} else {
			if err := writeFileAtomically(*writeConfig, config); err != nil {
				return err
			}
			logger.Info("wrote exporter configuration", "file", *writeConfig)
		}
	}
	logger.Info("simulated gateway listening", "url", srv.URL(), "agents", *agents, "seed", *seed, "quirks", *quirks,
		"auth_mode", authMode)
	if auth.pushURL != "" {
		desktop, err := auth.startDesktop(ctx, srv, pushToken, logOutput)
		if err != nil {
			return err
		}
		defer desktop.Close()
		logger.Info("session owner running", "push_url", redacted(auth.pushURL), "gateway", auth.pushGateway)
		pauseOnSignals(ctx, desktop, logger)
	}
	<-ctx.Done()
	logger.Info("shutting down")
	return nil
}

// redacted hides a password in a URL, which must not reach the log.
func redacted(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// zeroMeansNone turns a flag's 0 ("never", "at once") into the negative duration that says so in
// simulator.Options, where 0 selects the default.
func zeroMeansNone(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// relativeTo expresses path relative to dir when it can, because the exporter resolves
// paths in its configuration relative to the configuration file.
func relativeTo(dir, path string) string {
	absDir, errDir := filepath.Abs(dir)
	absPath, errPath := filepath.Abs(path)
	if errDir != nil || errPath != nil {
		return path
	}
	rel, err := filepath.Rel(absDir, absPath)
	if err != nil {
		return absPath
	}
	return rel
}

// writeFileAtomically makes the file appear complete or not at all, since whoever starts the exporter
// may be polling for it. It is private to the user: it holds the agents' Guids, credentials on a real gateway.
func writeFileAtomically(path string, content []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
