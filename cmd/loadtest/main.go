// Command loadtest measures the exporter against a simulated CC-Gateway and
// checks the performance targets: CPU per agent query against a bare HTTP
// client, wall time per scrape, peak RSS, flat memory over many scrapes and
// keep-alive connection reuse.
//
//	go run ./cmd/loadtest --agents=1000 --latency=20ms --scrapes=20 --concurrency=64
//	go run ./cmd/loadtest --agents=1000 --soak
//	go run ./cmd/loadtest --agents=1000 --tls
//	go run ./cmd/loadtest --agents=1000 --queues
//
// The simulator runs inside this process on 127.0.0.1. The exporter is the
// real binary, built from this module and run as a child process, so the
// CPU time and memory measured are its own. The bare client runs as a
// second child process for the same reason; its rounds alternate with the
// exporter's scrapes. It exits with status 1 when a target is missed.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/agentgateway/agentgateway_exporter/gateway"
	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// Bounds on what one run may ask for.
const (
	maxAgents      = 20_000 // the simulator keeps about 65 KB per agent
	maxScrapes     = 10_000
	maxConcurrency = 1024
	firstAgentID   = 1001
	simulatorSeed  = 1
)

type options struct {
	agents, scrapes, concurrency int
	latency                      time.Duration
	soak                         bool
	gzip                         bool
	tls                          bool
	queues                       bool
	// skills are the skill queues of the simulated VDN, known once the
	// simulator runs; with queues they set the queue requests per scrape.
	skills      int
	memoryLimit string
	gogc        int
	exporterBin string
	maxDuration time.Duration
	keep        bool
	cpuProfile  string
}

func main() {
	// The bare client is this same program, re-run as a child.
	if len(os.Args) > 1 && os.Args[1] == bareClientArg {
		os.Exit(bareClientMain(os.Args[2:]))
	}
	os.Exit(run(os.Args[1:]))
}

func bareClientMain(args []string) int {
	fs := flag.NewFlagSet("loadtest bare client", flag.ContinueOnError)
	configFile := fs.String("config", "", "agents.yml")
	concurrency := fs.Int("concurrency", 1, "concurrency")
	timeout := fs.Duration("timeout", 5*time.Second, "per-request timeout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := runBareClient(os.Stdin, os.Stdout, *configFile, *concurrency, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "bare client:", err)
		return 1
	}
	return 0
}

func run(args []string) int {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.IntVar(&o.agents, "agents", 1000, "simulated agents, all on one gateway")
	fs.DurationVar(&o.latency, "latency", 20*time.Millisecond, "latency the simulator adds to every answer (--soak: 2ms)")
	fs.IntVar(&o.scrapes, "scrapes", 20, "scrapes of /metrics, and rounds of the bare client (--soak: 1000)")
	fs.IntVar(&o.concurrency, "concurrency", 64, "the gateway's concurrency setting, and the bare client's")
	fs.BoolVar(&o.soak, "soak", false, "many scrapes at low latency with fast call churn, no bare client; checks that memory stays flat")
	fs.BoolVar(&o.gzip, "gzip", true, "ask for a gzip-compressed answer, as Prometheus does")
	fs.BoolVar(&o.tls, "tls", false, "the simulated gateway serves HTTPS with a certificate made for this run, which the exporter and the bare client trust")
	fs.BoolVar(&o.queues, "queues", false, "turn on queues: {} and agent_state: true: per scrape one agentstatus per agent after its callinfo,\n"+
		"and one queryacdstat per 100 skill queues (found with one agentvdnskill in the first scrape); the bare client does the same")
	fs.IntVar(&o.gogc, "gogc", 25, "GOGC for the exporter, as the README recommends for large fleets; 0 leaves Go's default (100)")
	fs.StringVar(&o.memoryLimit, "memory-limit", "off", "GOMEMLIMIT for the exporter: off, or a size such as 24MiB")
	fs.StringVar(&o.exporterBin, "exporter", "", "exporter binary to run (default: go build this module's main package)")
	fs.DurationVar(&o.maxDuration, "max-duration", 20*time.Minute, "abort the run after this long")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (configuration, exporter log)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process (the simulator, mostly) to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.soak {
		if !set["scrapes"] {
			o.scrapes = 1000
		}
		if !set["latency"] {
			o.latency = 2 * time.Millisecond
		}
	}
	if o.agents < 1 || o.agents > maxAgents || o.scrapes < 1 || o.scrapes > maxScrapes ||
		o.concurrency < 1 || o.concurrency > maxConcurrency || o.latency < 0 || o.latency > 10*time.Second {
		fmt.Fprintf(os.Stderr, "loadtest: need 1 ≤ agents ≤ %d, 1 ≤ scrapes ≤ %d, 1 ≤ concurrency ≤ %d, 0 ≤ latency ≤ 10s\n",
			maxAgents, maxScrapes, maxConcurrency)
		return 2
	}
	if o.memoryLimit = exporterMemoryLimit(o.memoryLimit); o.memoryLimit == "?" || o.gogc < 0 {
		fmt.Fprintln(os.Stderr, "loadtest: --memory-limit is off or a size such as 24MiB; --gogc is 0 or more")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.maxDuration)
	defer cancel()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	passed, err := loadTest(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		return 2
	}
	if !passed {
		return 1
	}
	return 0
}

// exporterMemoryLimit turns --memory-limit into the exporter's GOMEMLIMIT:
// "" for none, "?" when it is not understood.
func exporterMemoryLimit(flag string) string {
	switch {
	case flag == "off":
		return ""
	case memoryLimitSyntax.MatchString(flag):
		return flag
	default:
		return "?"
	}
}

// exporterEnv is what the exporter's environment adds to this process's.
func exporterEnv(o options) []string {
	var env []string
	if o.gogc > 0 {
		env = append(env, fmt.Sprintf("GOGC=%d", o.gogc))
	}
	if o.memoryLimit != "" {
		env = append(env, "GOMEMLIMIT="+o.memoryLimit)
	}
	return env
}

var memoryLimitSyntax = regexp.MustCompile(`^[1-9][0-9]*(B|KiB|MiB|GiB)?$`)

// requestsPerAgent are the requests one agent takes per scrape: callinfo,
// and with --queues agentstatus after it.
func requestsPerAgent(o options) int {
	if o.queues {
		return 2
	}
	return 1
}

// requestsPerScrape are the requests of one scrape after the first (which
// also discovers the skill queues with --queues).
func requestsPerScrape(o options) int {
	n := requestsPerAgent(o) * o.agents
	if o.queues {
		n += (o.skills + gateway.MaxSkillsPerQuery - 1) / gateway.MaxSkillsPerQuery
	}
	return n
}

// expectedRound is the time one pass over every agent needs when only the
// concurrency limit and the gateway's latency count: the requests of a
// scrape in waves of concurrency, and no fewer waves than one agent's
// requests, which follow each other.
func expectedRound(o options) time.Duration {
	rounds := max((requestsPerScrape(o)+o.concurrency-1)/o.concurrency, requestsPerAgent(o))
	return time.Duration(rounds) * o.latency
}

func loadTest(ctx context.Context, o options) (bool, error) {
	dir, err := os.MkdirTemp("", "agentgateway-loadtest-")
	if err != nil {
		return false, err
	}
	if o.keep {
		defer fmt.Printf("kept %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	mode := ""
	if o.soak {
		mode += ", soak"
	}
	if o.tls {
		mode += ", TLS"
	}
	if o.queues {
		mode += ", queues and agent states"
	}
	fmt.Printf("loadtest: %d agents, %s latency, concurrency %d, %d scrapes%s (%s, %s/%s, %d CPUs)\n",
		o.agents, o.latency, o.concurrency, o.scrapes, mode, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())

	simOpts := simulator.Options{Agents: o.agents, FirstAgentID: firstAgentID, Seed: simulatorSeed, Latency: o.latency}
	if o.soak {
		// Calls every few seconds, so a soak run sees thousands of them end.
		simOpts.IdleMean, simOpts.QueueMean, simOpts.RingMean = 2*time.Second, 500*time.Millisecond, 500*time.Millisecond
		simOpts.TalkMean, simOpts.WrapUpMean = 2*time.Second, 300*time.Millisecond
	}
	start := simulator.Start
	if o.tls {
		start = simulator.StartTLS
	}
	sim, err := start("127.0.0.1:0", simOpts)
	if err != nil {
		return false, err
	}
	defer sim.Close()
	o.skills = len(sim.QueueStats())
	if o.tls {
		if err := os.WriteFile(filepath.Join(dir, caFile), sim.CACertPEM(), 0o600); err != nil {
			return false, err
		}
	}
	configFile := filepath.Join(dir, "agents.yml")
	if err := os.WriteFile(configFile, agentsYAML(sim, o), 0o600); err != nil {
		return false, err
	}
	fmt.Printf("simulator: %s, in this process\n", sim.URL())
	if env := exporterEnv(o); len(env) > 0 {
		fmt.Printf("exporter: run with %s\n", strings.Join(env, " "))
	}

	bin := o.exporterBin
	if bin == "" {
		if bin, err = buildExporter(ctx, dir); err != nil {
			return false, err
		}
	}
	ex, err := startExporter(ctx, o, bin, dir, configFile, sim)
	if err != nil {
		return false, err
	}
	defer ex.stop()
	var bare *bareProc
	if !o.soak {
		if bare, err = startBare(ctx, o, configFile, sim); err != nil {
			return false, err
		}
		defer bare.stop()
	}
	encoding := ""
	if o.gzip {
		encoding = ", gzip"
	}
	if bare != nil {
		fmt.Printf("running %d rounds of the bare client (child process %d) alternating with %d scrapes of the exporter's\n"+
			"/metrics (child process %d, text format%s)\n", o.scrapes, bare.res.pid, o.scrapes, ex.pid(), encoding)
	} else {
		fmt.Printf("running %d scrapes of the exporter's /metrics (child process %d, text format%s)\n", o.scrapes, ex.pid(), encoding)
	}

	for i := range o.scrapes {
		if bare != nil {
			if err := bare.round(i); err != nil {
				return false, err
			}
		}
		if err := ex.scrape(ctx, i); err != nil {
			return false, err
		}
	}

	var bareRes *bareResult
	if bare != nil {
		if bareRes, err = bare.finish(); err != nil {
			return false, err
		}
	}
	exRes, err := ex.finish()
	if err != nil {
		return false, err
	}
	return report(o, bareRes, exRes), nil
}

// caFile holds the simulator's certificate with --tls, next to agents.yml.
const caFile = "simulator-ca.pem"

// agentsYAML is the exporter's configuration: one gateway, every simulated
// agent with its Guid, with --tls the simulator's certificate as the
// gateway's CA, and with --queues queue statistics and agent states.
func agentsYAML(sim *simulator.Server, o options) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "gateways:\n  - name: main\n    url: %s\n    timeout: 5s\n    concurrency: %d\n    include_last_call: true\n",
		sim.URL(), o.concurrency)
	if o.tls {
		fmt.Fprintf(&b, "    tls_config:\n      ca_file: %s\n", caFile)
	}
	if o.queues {
		b.WriteString("    queues: {}\n    agent_state: true\n")
	}
	b.WriteString("    agents:\n")
	for _, id := range sim.AgentIDs() {
		fmt.Fprintf(&b, "      - id: %q\n        guid: %q\n", id, sim.Guid(id))
	}
	return b.Bytes()
}

func buildExporter(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run the load test inside the exporter's module, or pass --exporter")
	}
	root := filepath.Dir(gomod)
	bin := filepath.Join(dir, "agentgateway_exporter")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".") //nolint:gosec // a temporary path of our own
	cmd.Dir = root
	// As the container image is built: without cgo, so no C library is
	// loaded into the process whose memory is measured.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	fmt.Printf("exporter: built from %s\n", root)
	return bin, nil
}
