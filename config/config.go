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
	"slices"
	"strconv"
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
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

	// Queues turns on skill-queue statistics (see queues.go); nil = off.
	Queues *Queues `yaml:"queues,omitempty"`
	// AgentState adds each agent's state from the gateway's agentstatus
	// interface: a second query per agent and scrape.
	AgentState bool `yaml:"agent_state,omitempty"`

	HTTPClientConfig promconfig.HTTPClientConfig `yaml:",inline"`

	Agents []*Agent `yaml:"agents"`

	// BaseURL is URL parsed; set by Load.
	BaseURL *url.URL `yaml:"-"`
	line    int
	index   int // position in the file, for a gateway without a name
	keys    *keyLines
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

	line  int
	index int
	keys  *keyLines
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

// LoadFile reads and validates a configuration file. The file is parsed as
// it is read, never held whole: at ten thousand agents its text is most of
// a megabyte beside the parsed tree at the peak of start-up.
func LoadFile(path string, opts ...LoadOption) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	defer f.Close()
	return load(f, path, opts)
}

// Load parses and validates content; name is the file name used in errors
// and the directory against which relative paths are resolved. The file is
// parsed once; every problem found is reported, each as an *Error, joined
// in the order of their lines.
func Load(content []byte, name string, opts ...LoadOption) (*Config, error) {
	return load(bytes.NewReader(content), name, opts)
}

func load(r io.Reader, name string, opts []LoadOption) (*Config, error) {
	in := &anchorWatch{r: r}
	var root yaml.Node
	if err := yaml.NewDecoder(in).Decode(&root); err != nil && !errors.Is(err, io.EOF) { // EOF: an empty file
		if in.readErr != nil {
			return nil, fmt.Errorf("reading configuration: %w", in.readErr)
		}
		return nil, yamlError(name, err)
	}
	d := &decoder{file: name, noAnchors: !in.sawAmpersand}
	cfg := &Config{}
	d.decodeConfig(&root, cfg)
	applyLoadOptions(cfg, opts)
	cfg.validate(d, filepath.Dir(name))
	if len(d.errs) > 0 {
		// Decoding and validation find problems in two passes; the
		// reader goes through the file once, top to bottom.
		slices.SortStableFunc(d.errs, func(a, b *Error) int { return a.Line - b.Line })
		joined := make([]error, len(d.errs))
		for i, e := range d.errs {
			joined[i] = e
		}
		return nil, errors.Join(joined...)
	}
	// Key positions serve validation only; a running configuration of
	// ten thousand agents does not keep them.
	for _, gw := range cfg.Gateways {
		gw.keys = nil
		for _, a := range gw.Agents {
			a.keys = nil
		}
	}
	return cfg, nil
}

// anchorWatch passes the file to the parser and notes whether it has an &
// anywhere, which every anchor starts with.
type anchorWatch struct {
	r            io.Reader
	sawAmpersand bool
	readErr      error
}

func (a *anchorWatch) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if !a.sawAmpersand && bytes.IndexByte(p[:n], '&') >= 0 {
		a.sawAmpersand = true
	}
	if err != nil && err != io.EOF {
		a.readErr = err
	}
	return n, err
}

// Problems splits an error of Load into its single problems, for logging
// one line each.
func Problems(err error) []error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		return joined.Unwrap()
	}
	return []error{err}
}

var agentIDPattern = regexp.MustCompile(`^[1-9][0-9]*$`)

func (c *Config) validate(d *decoder, dir string) {
	if len(c.Gateways) == 0 {
		if len(d.errs) == 0 { // else the reason is already reported
			d.errorf(0, "no gateways configured")
		}
		return
	}
	gatewayNames := map[string]int{}
	for _, gw := range c.Gateways {
		if gw.keys.empty() {
			if gw.keys.ok("") {
				d.errorf(gw.line, "%s is empty", gw.title())
			}
			continue
		}
		if gw.Name == "" {
			if gw.keys.ok("name") {
				d.errorf(gw.line, "%s has no name", gw.title())
			}
		} else if first, dup := gatewayNames[gw.Name]; dup {
			d.errorf(gw.keys.at("name", gw.line), "%s: duplicate name (first defined at line %d)", gw.title(), first)
		} else {
			gatewayNames[gw.Name] = gw.line
		}
		gw.validate(d, dir)
	}
}

// title names the gateway in messages: by name, or by position when it has none.
func (gw *Gateway) title() string {
	if gw.Name == "" {
		return fmt.Sprintf("gateway %d", gw.index)
	}
	return fmt.Sprintf("gateway %q", gw.Name)
}

// title names the agent in messages: by id, or by position when it has none.
func (a *Agent) title() string {
	if a.ID == "" {
		return fmt.Sprintf("agent %d", a.index)
	}
	return fmt.Sprintf("agent %q", shortID(a.ID))
}

func (gw *Gateway) validate(d *decoder, dir string) {
	fail := func(key, format string, args ...any) {
		d.errorf(gw.keys.at(key, gw.line), gw.title()+": "+format, args...)
	}
	u, err := url.Parse(gw.URL)
	switch {
	case !gw.keys.ok("url"):
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		shown := gw.URL
		if err == nil {
			shown = u.Redacted() // a password in the URL stays out of logs and reload answers
		}
		fail("url", "url %q is not an http(s) URL with a host", shown)
	default:
		gw.BaseURL = u
	}
	if gw.Timeout == 0 {
		gw.Timeout = DefaultTimeout
	}
	if gw.Timeout < 0 {
		fail("timeout", "timeout must be positive")
	}
	if gw.Concurrency == 0 {
		gw.Concurrency = DefaultConcurrency
	}
	if gw.Concurrency < 0 {
		fail("concurrency", "concurrency must be positive")
	}
	if gw.MaxRequestsPerSecond < 0 {
		fail("max_requests_per_second", "max_requests_per_second must not be negative")
	}
	if gw.MinInterval < 0 {
		fail("min_interval", "min_interval must not be negative")
	}
	if err := gw.validateGUIDSupply(dir); err != nil {
		fail("guid_dir", "%v", err)
	}
	gw.checkClient(fail, dir)
	gw.validateQueues(fail)
	if len(gw.Agents) == 0 {
		if gw.keys.ok("agents") {
			fail("agents", "no agents configured")
		}
		return
	}
	agentIDs := map[string]int{}
	for _, agent := range gw.Agents {
		agent.validate(d, gw.title()+": ", dir, agentIDs, gw.GUIDDir != "" || gw.guidPush)
	}
}

// guidElsewhere: the agent's Guid may come from guid_dir or the push API.
func (a *Agent) validate(d *decoder, where, dir string, agentIDs map[string]int, guidElsewhere bool) {
	fail := func(key, format string, args ...any) {
		d.errorf(a.keys.at(key, a.line), where+a.title()+": "+format, args...)
	}
	if a.keys.empty() {
		if a.keys.ok("") {
			d.errorf(a.line, "%s%s is empty", where, a.title())
		}
		return
	}
	if !validAgentID(a.ID) {
		if a.keys.ok("id") {
			fail("id", "id must be digits from %d to %d", MinAgentID, MaxAgentID)
		}
	} else if first, dup := agentIDs[a.ID]; dup {
		fail("id", "duplicate id (first defined at line %d)", first)
	} else {
		agentIDs[a.ID] = a.line
	}
	switch {
	case !a.keys.ok("guid") || !a.keys.ok("guid_file"):
	case a.GUID == "" && a.GUIDFile == "" && !guidElsewhere:
		fail("", "needs guid or guid_file (or guid_dir on its gateway, or the push API)")
	case a.GUID != "" && a.GUIDFile != "":
		fail("guid_file", "give guid or guid_file, not both")
	case a.GUIDFile != "":
		a.GUIDFile = promconfig.JoinDir(dir, a.GUIDFile)
		if _, err := ReadGUIDFile(a.GUIDFile); err != nil {
			fail("guid_file", "%v", err)
		}
	}
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
