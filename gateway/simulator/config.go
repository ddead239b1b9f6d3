package simulator

import (
	"bytes"
	"time"

	"go.yaml.in/yaml/v3"
)

type configFile struct {
	Gateways []configGateway `yaml:"gateways"`
}

type configGateway struct {
	Name            string        `yaml:"name"`
	URL             string        `yaml:"url"`
	Timeout         string        `yaml:"timeout"`
	Concurrency     int           `yaml:"concurrency"`
	IncludeLastCall bool          `yaml:"include_last_call"`
	TLSConfig       *configTLS    `yaml:"tls_config,omitempty"`
	GUIDTTL         string        `yaml:"guid_ttl,omitempty"`
	Queues          *configQueues `yaml:"queues,omitempty"`
	AgentState      bool          `yaml:"agent_state,omitempty"`
	Agents          []configAgent `yaml:"agents"`
}

// configQueues is written as `queues: {}`: every skill queue of the VDN, discovered.
type configQueues struct{}

type configTLS struct {
	CAFile string `yaml:"ca_file"`
}

type configAgent struct {
	ID   string `yaml:"id"`
	GUID string `yaml:"guid,omitempty"`
}

// ConfigGateway is the name of the one gateway in the configurations the simulator writes; a session
// owner pushing Guids for them names this gateway.
const ConfigGateway = "sim"

// ConfigOptions shape the exporter configuration ConfigYAMLWith writes.
type ConfigOptions struct {
	// IncludeLastCall sets include_last_call.
	IncludeLastCall bool
	// CAFile, for a StartTLS server, is written as tls_config.ca_file: the file the caller wrote
	// CACertPEM to (relative paths are relative to the configuration file).
	CAFile string
	// WithoutGuids leaves every agent's guid out, for an exporter that is given the Guids by push
	// (AuthStatic and AuthDynamic, where Guids exist only after a sign-in).
	WithoutGuids bool
	// GuidTTL, when set, is written as the gateway's guid_ttl.
	GuidTTL time.Duration //nolint:revive // spelt like the gateway's Guid header, as the package API was agreed
	// Queues writes `queues: {}`: statistics of every skill queue of the simulated VDN, discovered.
	Queues bool
	// AgentState writes `agent_state: true`: each agent's state from agentstatus too.
	AgentState bool
}

// ConfigYAML returns an exporter configuration (agents.yml) with one gateway, "sim", pointing at this
// server, listing every agent with its current Guid.
func (s *Server) ConfigYAML(includeLastCall bool) []byte {
	return s.ConfigYAMLWith(ConfigOptions{IncludeLastCall: includeLastCall})
}

// ConfigYAMLWithCAFile is ConfigYAML for a StartTLS server: the gateway gets tls_config.ca_file,
// naming the file the caller wrote CACertPEM to (relative paths are relative to the configuration file).
func (s *Server) ConfigYAMLWithCAFile(includeLastCall bool, caFile string) []byte {
	return s.ConfigYAMLWith(ConfigOptions{IncludeLastCall: includeLastCall, CAFile: caFile})
}

// ConfigYAMLWith returns an exporter configuration with one gateway, ConfigGateway, pointing at this
// server and listing every agent, shaped by o.
func (s *Server) ConfigYAMLWith(o ConfigOptions) []byte {
	gateway := configGateway{
		Name:            ConfigGateway,
		URL:             s.url,
		Timeout:         "5s",
		Concurrency:     16,
		IncludeLastCall: o.IncludeLastCall,
	}
	if o.CAFile != "" {
		gateway.TLSConfig = &configTLS{CAFile: o.CAFile}
	}
	if o.GuidTTL > 0 {
		gateway.GUIDTTL = o.GuidTTL.String()
	}
	if o.Queues {
		gateway.Queues = &configQueues{}
	}
	gateway.AgentState = o.AgentState
	for _, id := range s.ids {
		agent := configAgent{ID: id}
		if !o.WithoutGuids {
			agent.GUID = s.Guid(id)
		}
		gateway.Agents = append(gateway.Agents, agent)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(configFile{Gateways: []configGateway{gateway}}); err != nil {
		// Encoding a fixed struct of strings, numbers and bools cannot fail.
		panic(err)
	}
	if err := enc.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
