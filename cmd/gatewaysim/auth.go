package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"

	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// authFlags are the switches of the gateway's authentication and of the session owner.
type authFlags struct {
	mode                       string
	interval, timeout, idle    time.Duration
	pollWait                   time.Duration
	pushURL, pushTokenFile     string
	pushGateway                string
	pollers                    int
	resyncInterval, retryDelay time.Duration
}

func addAuthFlags(app *kingpin.Application) *authFlags {
	f := &authFlags{}
	app.Flag("auth-mode", "How agents get Guids: preset, static or dynamic (see above).").
		Default("preset").EnumVar(&f.mode, simulator.AuthModeNames()...)
	app.Flag("guid-interval", "Dynamic mode: how often an agent's Guid is renewed (the gateway's GUIDINTERVAL).").
		Default("60s").DurationVar(&f.interval)
	app.Flag("guid-timeout", "Dynamic mode: how long a renewed Guid is still accepted (GUIDTIMEOUT); longer than --guid-interval.").
		Default("120s").DurationVar(&f.timeout)
	app.Flag("idle-sign-out", "Static and dynamic mode: sign an agent out when its events were not polled for this long; 0 never.").
		Default("2m").DurationVar(&f.idle)
	app.Flag("poll-wait", "How long an event poll waits before answering without an event.").
		Default("10s").DurationVar(&f.pollWait)
	app.Flag("push.url", "Run a session owner that keeps every agent signed in and pushes its Guids to this exporter "+
		"URL, such as http://127.0.0.1:9712/api/v1/guids.").StringVar(&f.pushURL)
	app.Flag("push.token-file", "File holding the bearer token for --push.url (required with it).").StringVar(&f.pushTokenFile)
	app.Flag("push.gateway", "Gateway name in the pushes, as in the exporter's configuration.").
		Default(simulator.ConfigGateway).StringVar(&f.pushGateway)
	app.Flag("push.pollers", "Most event polls in flight at once, and so connections to the gateway; each agent is "+
		"polled about every agents/pollers × --poll-wait, which must stay well inside --idle-sign-out and --guid-timeout.").
		Default("256").IntVar(&f.pollers)
	app.Flag("push.resync-interval", "Push every Guid again this often, for an exporter that restarted; 0 never.").
		Default("5m").DurationVar(&f.resyncInterval)
	app.Flag("push.retry-delay", "Pause after a failed sign-in, poll or push.").Default("2s").DurationVar(&f.retryDelay)
	return f
}

// readToken reads the push token once, before anything starts; it is never logged.
func (f *authFlags) readToken() (string, error) {
	if f.pushURL == "" {
		return "", nil
	}
	if f.pushTokenFile == "" {
		return "", errors.New("--push.url needs --push.token-file")
	}
	raw, err := os.ReadFile(f.pushTokenFile)
	if err != nil {
		return "", fmt.Errorf("reading the push token: %w", err)
	}
	token := strings.TrimSpace(string(raw))
	if token == "" {
		return "", fmt.Errorf("the push token file %s is empty", f.pushTokenFile)
	}
	return token, nil
}

// pausable is the part of the session owner that SIGUSR1 and SIGUSR2 reach.
type pausable interface {
	PausePushes()
	ResumePushes()
}

// startDesktop runs the session owner against the simulator.
func (f *authFlags) startDesktop(ctx context.Context, srv *simulator.Server, token string, logOutput io.Writer) (*simulator.Desktop, error) {
	logger := log.With(log.NewLogfmtLogger(log.NewSyncWriter(logOutput)), "ts", log.DefaultTimestampUTC, "component", "session-owner")
	return simulator.StartDesktop(ctx, simulator.DesktopOptions{
		GatewayURL:       srv.URL(),
		GatewayCACertPEM: srv.CACertPEM(),
		AgentIDs:         srv.AgentIDs(),
		PushURL:          f.pushURL,
		PushToken:        token,
		Gateway:          f.pushGateway,
		Pollers:          f.pollers,
		RetryDelay:       f.retryDelay,
		ResyncInterval:   f.resyncInterval,
		Logger:           logger,
	})
}
