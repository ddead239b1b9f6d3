// Package config loads and validates agents.yml.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// Agent id bounds: the newer interface pages allow 101–999999 (older ones
// stop at 59999, and some leave a gap; the gateway itself is the judge there).
const (
	MinAgentID = 101
	MaxAgentID = 999999
)

// Defaults applied to a gateway that leaves a setting out.
const (
	DefaultTimeout     = model.Duration(5 * time.Second)
	DefaultConcurrency = 16
)

// Config is the whole agents.yml.
type Config struct {
	Gateways []*Gateway `yaml:"gateways"`
}

// Gateway is one CC-Gateway and the agents queried through it.
type Gateway struct {
	Name        string         `yaml:"name"`
	URL         string         `yaml:"url"`
	Timeout     model.Duration `yaml:"timeout,omitempty"`
	Concurrency int            `yaml:"concurrency,omitempty"`
	// IncludeLastCall sets isNoContainLastCall: true asks the gateway for
	// the previous call when the agent has none. It is a named setting
	// because the parameter's name contradicts its documentation.
	IncludeLastCall *bool `yaml:"include_last_call,omitempty"`
	// MaxRequestsPerSecond limits the query rate to this gateway; 0 = none.
	MaxRequestsPerSecond float64 `yaml:"max_requests_per_second,omitempty"`
	// MinInterval lets concurrent or closely repeated scrapes share one
	// answer per agent; 0 = every scrape queries.
	MinInterval model.Duration `yaml:"min_interval,omitempty"`
	// GUIDDir holds one Guid file per agent, named by agent id, so a
	// session owner can supply thousands of Guids without touching this file.
	GUIDDir string `yaml:"guid_dir,omitempty"`
	// GUIDTTL is how long a Guid is sent after it was last supplied; 0 = for ever.
	GUIDTTL model.Duration `yaml:"guid_ttl,omitempty"`

	HTTPClientConfig promconfig.HTTPClientConfig `yaml:",inline"`

	Agents []*Agent `yaml:"agents"`

	// BaseURL is URL parsed; set by Load.
	BaseURL *url.URL `yaml:"-"`
	line    int
	// guidPush: Guids may also arrive through the push API.
	guidPush bool
}

// Agent is one agent whose calls are watched.
type Agent struct {
	ID string `yaml:"id"`
	// Guid is the agent's session credential, given inline. It is masked
	// whenever the configuration is printed.
	GUID promconfig.Secret `yaml:"guid,omitempty"`
	// GUIDFile holds the Guid; it is re-read whenever it changes, so a
	// session owner can rotate it without a restart.
	GUIDFile string `yaml:"guid_file,omitempty"`

	line int
}

// IncludesLastCall reports the effective include_last_call setting.
func (g *Gateway) IncludesLastCall() bool {
	return g.IncludeLastCall == nil || *g.IncludeLastCall
}

// Line is where the agent is defined in its file.
func (a *Agent) Line() int { return a.line }

// Error is a configuration problem with the place it was found.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// LoadFile reads and validates a configuration file.
func LoadFile(path string, opts ...LoadOption) (*Config, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	return Load(content, path, opts...)
}

// Load parses and validates content; name is the file name used in errors
// and the directory against which relative paths are resolved.
func Load(content []byte, name string, opts ...LoadOption) (*Config, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(content))
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	cfg := &Config{}
	strict := yaml.NewDecoder(bytes.NewReader(content))
	strict.KnownFields(true)
	if err := strict.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	recordLines(cfg, &root)
	applyLoadOptions(cfg, opts)
	if err := cfg.validate(name, filepath.Dir(name)); err != nil {
		return nil, err
	}
	return cfg, nil
}

var yamlLine = regexp.MustCompile(`line (\d+): `)

// yamlError keeps yaml.v3's own wording but leads with file:line like every
// other configuration error.
func yamlError(name string, err error) error {
	var typeErr *yaml.TypeError
	if errors.As(err, &typeErr) && len(typeErr.Errors) > 0 {
		first := typeErr.Errors[0]
		if m := yamlLine.FindStringSubmatch(first); m != nil {
			line, _ := strconv.Atoi(m[1])
			return &Error{File: name, Line: line, Msg: yamlLine.ReplaceAllString(first, "")}
		}
		return &Error{File: name, Msg: first}
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: name, Line: line, Msg: yamlLine.ReplaceAllString(msg, "")}
	}
	return &Error{File: name, Msg: msg}
}

// recordLines copies node positions onto the decoded structs so that
// validation can name the line of the gateway or agent at fault.
func recordLines(cfg *Config, root *yaml.Node) {
	gateways := mappingValue(documentBody(root), "gateways")
	if gateways == nil || gateways.Kind != yaml.SequenceNode {
		return
	}
	for i, gwNode := range gateways.Content {
		if i >= len(cfg.Gateways) || cfg.Gateways[i] == nil {
			break
		}
		gw := cfg.Gateways[i]
		gw.line = gwNode.Line
		agents := mappingValue(gwNode, "agents")
		if agents == nil || agents.Kind != yaml.SequenceNode {
			continue
		}
		for j, agentNode := range agents.Content {
			if j < len(gw.Agents) && gw.Agents[j] != nil {
				gw.Agents[j].line = agentNode.Line
			}
		}
	}
}

func documentBody(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return n.Content[0]
	}
	return n
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

var agentIDPattern = regexp.MustCompile(`^[1-9][0-9]*$`)

func (c *Config) validate(name, dir string) error {
	fail := func(line int, format string, args ...any) error {
		return &Error{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	if len(c.Gateways) == 0 {
		return fail(0, "no gateways configured")
	}
	gatewayNames := map[string]int{}
	for i, gw := range c.Gateways {
		if gw == nil {
			return fail(0, "gateway %d is empty", i+1)
		}
		if gw.Name == "" {
			return fail(gw.line, "gateway %d has no name", i+1)
		}
		if first, dup := gatewayNames[gw.Name]; dup {
			return fail(gw.line, "gateway %q: duplicate name (first defined at line %d)", gw.Name, first)
		}
		gatewayNames[gw.Name] = gw.line
		if err := gw.validate(fail, dir); err != nil {
			return err
		}
	}
	return nil
}

func (gw *Gateway) validate(fail func(int, string, ...any) error, dir string) error {
	u, err := url.Parse(gw.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		shown := gw.URL
		if err == nil {
			shown = u.Redacted() // a password in the URL stays out of logs and reload answers
		}
		return fail(gw.line, "gateway %q: url %q is not an http(s) URL with a host", gw.Name, shown)
	}
	gw.BaseURL = u
	if gw.Timeout == 0 {
		gw.Timeout = DefaultTimeout
	}
	if gw.Timeout < 0 {
		return fail(gw.line, "gateway %q: timeout must be positive", gw.Name)
	}
	if gw.Concurrency == 0 {
		gw.Concurrency = DefaultConcurrency
	}
	if gw.Concurrency < 0 {
		return fail(gw.line, "gateway %q: concurrency must be positive", gw.Name)
	}
	if gw.MaxRequestsPerSecond < 0 {
		return fail(gw.line, "gateway %q: max_requests_per_second must not be negative", gw.Name)
	}
	if gw.MinInterval < 0 {
		return fail(gw.line, "gateway %q: min_interval must not be negative", gw.Name)
	}
	if err := gw.validateGUIDSupply(dir); err != nil {
		return fail(gw.line, "gateway %q: %v", gw.Name, err)
	}
	gw.HTTPClientConfig.SetDirectory(dir)
	if err := gw.HTTPClientConfig.Validate(); err != nil {
		return fail(gw.line, "gateway %q: %v", gw.Name, err)
	}
	if len(gw.Agents) == 0 {
		return fail(gw.line, "gateway %q: no agents configured", gw.Name)
	}
	agentIDs := map[string]int{}
	for j, agent := range gw.Agents {
		if agent == nil {
			return fail(gw.line, "gateway %q: agent %d is empty", gw.Name, j+1)
		}
		where := fmt.Sprintf("gateway %q: agent %q", gw.Name, shortID(agent.ID))
		if !validAgentID(agent.ID) {
			return fail(agent.line, "%s: id must be digits from %d to %d", where, MinAgentID, MaxAgentID)
		}
		if first, dup := agentIDs[agent.ID]; dup {
			return fail(agent.line, "%s: duplicate id (first defined at line %d)", where, first)
		}
		agentIDs[agent.ID] = agent.line
		switch {
		case agent.GUID == "" && agent.GUIDFile == "" && gw.GUIDDir == "" && !gw.guidPush:
			return fail(agent.line, "%s: needs guid or guid_file (or guid_dir on its gateway, or the push API)", where)
		case agent.GUID != "" && agent.GUIDFile != "":
			return fail(agent.line, "%s: give guid or guid_file, not both", where)
		case agent.GUIDFile != "":
			agent.GUIDFile = promconfig.JoinDir(dir, agent.GUIDFile)
			if _, err := ReadGUIDFile(agent.GUIDFile); err != nil {
				return fail(agent.line, "%s: %v", where, err)
			}
		}
	}
	return nil
}

// shortID shortens a value too long to be an agent id for error texts: a
// Guid pasted into the id field must not reach logs and reload answers.
func shortID(id string) string {
	if len(id) <= 12 {
		return id
	}
	return id[:7] + "..."
}

func validAgentID(id string) bool {
	if !agentIDPattern.MatchString(id) || len(id) > 6 {
		return false
	}
	n, err := strconv.Atoi(id)
	return err == nil && n >= MinAgentID && n <= MaxAgentID
}

// maxGUIDFileBytes bounds what is read of a guid_file: a Guid is about
// fifty bytes, and a path naming something else must not be read whole.
const maxGUIDFileBytes = 4 << 10

// ReadGUIDFile reads a Guid file: the Guid alone, surrounding white space
// ignored. Only a regular file of at most a few kilobytes is read, so a
// path naming a device, a pipe or a log file fails instead of blocking or
// filling memory. The error never contains the file's content.
func ReadGUIDFile(path string) (string, error) {
	if info, err := os.Stat(path); err == nil && !info.Mode().IsRegular() {
		return "", fmt.Errorf("guid_file %s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("guid_file: %w", err)
	}
	defer f.Close()
	content, err := io.ReadAll(io.LimitReader(f, maxGUIDFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("guid_file: %w", err)
	}
	if len(content) > maxGUIDFileBytes {
		return "", fmt.Errorf("guid_file %s is larger than %d bytes", path, maxGUIDFileBytes)
	}
	guid := string(bytes.TrimSpace(content))
	if guid == "" {
		return "", fmt.Errorf("guid_file %s is empty", path)
	}
	return guid, nil
}

// String renders the configuration with every secret masked.
func (c *Config) String() string {
	shown := Config{Gateways: make([]*Gateway, len(c.Gateways))}
	for i, gw := range c.Gateways {
		copied := *gw
		if gw.BaseURL != nil {
			copied.URL = gw.BaseURL.Redacted()
		}
		shown.Gateways[i] = &copied
	}
	out, err := yaml.Marshal(&shown)
	if err != nil {
		return fmt.Sprintf("<configuration not printable: %v>", err)
	}
	return string(out)
}
