package main

import (
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// simulation is the built-in gateway of --simulate: it listens on a free
// loopback port, and its generated configuration stands in for agents.yml.
type simulation struct {
	*simulator.Server
	configYAML []byte
}

func startSimulator(agents int, logger log.Logger) (*simulation, error) {
	server, err := simulator.Start("127.0.0.1:0", simulator.Options{Agents: agents, Seed: time.Now().UnixNano(), Quirks: simulator.MixQuirks()})
	if err != nil {
		return nil, err
	}
	level.Info(logger).Log("msg", "simulated CC-Gateway started", "url", server.URL(), "agents", agents)
	return &simulation{Server: server, configYAML: server.ConfigYAML(true)}, nil
}

func (s *simulation) load() (*config.Config, error) {
	return config.Load(s.configYAML, "simulated gateway")
}
