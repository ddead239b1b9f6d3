package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
	guidstore "github.com/agentgateway/agentgateway_exporter/internal/guids"
)

// simulation is the built-in gateway of --simulate, set up as a real site
// is by default: the gateway renews Guids (dynamic authentication), and a
// simulated agent desktop, the session owner, signs the agents in, polls
// their events and pushes every new Guid to the exporter's push API with a
// token made in memory. Its generated configuration, which has no Guids
// and a guid_ttl, stands in for agents.yml.
type simulation struct {
	*simulator.Server
	configYAML []byte
	token      guidstore.StaticToken
	desktop    *simulator.Desktop
}

// simulationOptions are the settings of --simulate; zero durations are the
// gateway's defaults (Guids renewed every 60 s, valid 120 s, polls
// answered within 10 s) and a guid_ttl of 110 s. Tests shorten them.
type simulationOptions struct {
	agents       int
	guidInterval time.Duration
	guidTimeout  time.Duration
	guidTTL      time.Duration
	pollWait     time.Duration
}

func startSimulator(o simulationOptions, logger log.Logger) (*simulation, error) {
	server, err := simulator.Start("127.0.0.1:0", simulator.Options{
		Agents: o.agents, Seed: time.Now().UnixNano(), Quirks: simulator.MixQuirks(),
		AuthMode: simulator.AuthDynamic, GuidInterval: o.guidInterval, GuidTimeout: o.guidTimeout, PollWait: o.pollWait,
	})
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // never fails
	if o.guidTTL == 0 {
		o.guidTTL = 110 * time.Second
	}
	level.Info(logger).Log("msg", "simulated CC-Gateway started", "url", server.URL(), "agents", o.agents, "auth", "dynamic")
	return &simulation{
		Server: server,
		configYAML: server.ConfigYAMLWith(simulator.ConfigOptions{IncludeLastCall: true, WithoutGuids: true, GuidTTL: o.guidTTL,
			Queues: true, AgentState: true}),
		token: guidstore.StaticToken(base64.RawURLEncoding.EncodeToString(secret)),
	}, nil
}

func (s *simulation) load() (*config.Config, error) {
	return config.Load(s.configYAML, "simulated gateway", config.WithGUIDPush(true))
}

// startSessionOwner starts the simulated agent desktop, pushing to the
// push API in process, so that it needs neither the listen address nor the
// --web.config.file credentials.
func (s *simulation) startSessionOwner(push http.Handler, logger log.Logger) error {
	desktop, err := simulator.StartDesktop(context.Background(), simulator.DesktopOptions{
		GatewayURL: s.URL(),
		AgentIDs:   s.AgentIDs(),
		PushURL:    "http://exporter" + guidstore.PushPath,
		PushToken:  string(s.token),
		PushClient: &http.Client{Transport: handlerTransport{push}, Timeout: 30 * time.Second},
		Logger:     logger,
	})
	if err != nil {
		return err
	}
	s.desktop = desktop
	return nil
}

// Close stops the session owner, then the gateway.
func (s *simulation) Close() {
	if s.desktop != nil {
		s.desktop.Close()
	}
	s.Server.Close()
}

// handlerTransport delivers requests to a handler in the same process.
type handlerTransport struct{ handler http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	rec := httptest.NewRecorder()
	t.handler.ServeHTTP(rec, req)
	return rec.Result(), nil
}
