package main

import (
	"fmt"
	"os"
	"slices"
	"time"
)

// The targets (issues 5 and 10).
const (
	cpuRatioLimit    = 1.3
	wallFactor       = 1.15
	wallSlack        = 100 * time.Millisecond
	peakRSSLimit     = 32 << 20
	peakRSSAtAgents  = 10_000
	memoryGrowth     = 1.10
	memorySlack      = 2 << 20
	newConnsPerLimit = 0.1
)

// report prints the measurements and checks the targets; false when one
// is missed.
func report(o options, bare *bareResult, ex *exporterRun) bool {
	if bare != nil {
		fmt.Printf("\nbare client: %d requests + encoding/json decodes per round, concurrency %d\n", requestsPerScrape(o), o.concurrency)
		fmt.Printf("  wall per round      %s\n", durationStats(bare.rounds))
		fmt.Printf("  CPU per query       %s   (%s over %d queries)\n", perQuery(bare.cpu, bare.queries), bare.cpu.Round(time.Millisecond), bare.queries)
		fmt.Printf("  requests            %d at the simulator, %d new connections%s\n", bare.requests, bare.conns, handshakes(o))
		fmt.Printf("  simulator CPU       %s per request (this process, during rounds 2-%d)\n", perQuery(bare.simCPU, bare.queries), o.scrapes)
	}

	fmt.Printf("\nexporter: /metrics\n")
	fmt.Printf("  wall per scrape     %s\n", durationStats(ex.scrapes))
	fmt.Printf("  of which querying   %s   (the exporter's agentgateway_gateway_scrape_duration_seconds)\n", durationStats(ex.queryPhase))
	fmt.Printf("  CPU per query       %s   (%s over %d queries; whole process life %s)\n",
		perQuery(ex.cpu, ex.queries), ex.cpu.Round(time.Millisecond), ex.queries, ex.totalCPU.Round(time.Millisecond))
	fmt.Printf("  peak RSS            %s   (VmHWM; Go heap in use after the last scrape %s)\n", mib(ex.peakRSS), mib(int64(ex.heap[len(ex.heap)-1])))
	fmt.Printf("  requests            %d at the simulator (%d per scrape)\n", ex.requests, ex.requests/int64(o.scrapes))
	later := 0.0
	if o.scrapes > 1 {
		later = float64(ex.laterConns) / float64(o.scrapes-1)
	}
	fmt.Printf("  new connections     %d in the first scrape, %.2f per scrape after it (%d in all)%s\n", ex.firstConns, later, ex.laterConns, handshakes(o))
	fmt.Printf("  answer              %d samples, %s as text, %s as sent\n", ex.series, kib(ex.textBytes), kib(ex.bodyBytes))
	fmt.Printf("  calls ended         %.0f after the first scrape (the leave-reason counters)\n", ex.endedCalls[len(ex.endedCalls)-1]-ex.endedCalls[0])
	fmt.Printf("  simulator CPU       %s per request (this process, during scrapes 2-%d)\n", perQuery(ex.simCPU, ex.queries), o.scrapes)
	if _, peak, err := processMemory(os.Getpid()); err == nil {
		fmt.Printf("\nload generator: peak RSS %s (this process: the simulator's %d agents, the answers read)\n", mib(peak), o.agents)
	}

	fmt.Println("\nmethod:")
	if bare != nil {
		fmt.Println("  The simulator runs in this process; the exporter and the bare client are separate child")
		fmt.Println("  processes, so neither CPU figure includes the simulator's or this program's work. Bare")
		fmt.Println("  client rounds and exporter scrapes alternate, so both see the same machine. Exporter CPU:")
		fmt.Println("  utime+stime of /proc/PID/stat (all threads, 10 ms ticks) after the first scrape and after")
		fmt.Println("  the last, divided by the queries in between. Bare client CPU: getrusage(RUSAGE_SELF) in the")
		fmt.Println("  child from the end of its first round to the end. First scrape and first round (connections,")
		fmt.Println("  state) are left out of CPU and wall figures; either process is idle while the other works.")
		fmt.Println("  Wall time of a scrape is measured here around its HTTP request, of a round in the child.")
	} else {
		fmt.Println("  The simulator runs in this process, the exporter in a child process. Exporter CPU: utime+stime")
		fmt.Println("  of /proc/PID/stat (all threads, 10 ms ticks) after the first scrape and after the last, divided")
		fmt.Println("  by the queries in between. Heap in use and goroutines are the exporter's own go_memstats_")
		fmt.Println("  heap_inuse_bytes and go_goroutines from each answer, RSS is VmRSS read after each scrape.")
	}
	fmt.Println("  Peak RSS is VmHWM of /proc/PID/status just before the exporter is stopped (wait4's")
	fmt.Println("  ru_maxrss is not used: it also counts the image of this process that the child was forked from).")

	fmt.Println("\ntargets:")
	ok := true
	check := func(pass bool, format string, args ...any) {
		verdict := "PASS"
		if !pass {
			verdict, ok = "FAIL", false
		}
		fmt.Printf("  %s  %s\n", verdict, fmt.Sprintf(format, args...))
	}
	skip := func(format string, args ...any) { fmt.Printf("  n/a   %s\n", fmt.Sprintf(format, args...)) }

	allUp := true
	for _, n := range ex.agentsUp {
		allUp = allUp && n == o.agents
	}
	want := int64(requestsPerScrape(o) * o.scrapes)
	asked := ""
	if o.queues {
		// One agentvdnskill in the first scrape finds the skill queues.
		want++
		asked = fmt.Sprintf("; %d per agent, %d skill queues", requestsPerAgent(o), o.skills)
	}
	check(allUp && ex.requests == want, "every scrape queried and reported all %d agents (%d requests, want %d%s; agents up per scrape %d..%d)",
		o.agents, ex.requests, want, asked, slices.Min(ex.agentsUp), slices.Max(ex.agentsUp))
	if bare != nil && bare.requests != want {
		fmt.Printf("        (the bare client sent %d requests, not %d: the comparison is not like with like)\n", bare.requests, want)
	}

	if bare != nil {
		exporterCPU, bareCPU := perQueryDuration(ex.cpu, ex.queries), perQueryDuration(bare.cpu, bare.queries)
		check(float64(exporterCPU) <= cpuRatioLimit*float64(bareCPU), "CPU per query %s ≤ %.1f × bare client %s = %s (ratio %.2f)",
			exporterCPU.Round(100*time.Nanosecond), cpuRatioLimit, bareCPU.Round(100*time.Nanosecond),
			time.Duration(cpuRatioLimit*float64(bareCPU)).Round(100*time.Nanosecond), float64(exporterCPU)/float64(bareCPU))
		if ex.cpu < time.Second {
			fmt.Printf("        (the exporter used only %s over the measured scrapes; /proc counts in 10 ms ticks,\n"+
				"         so this comparison needs more agents or scrapes to mean much)\n", ex.cpu)
		}
	} else {
		skip("CPU per query: no bare client run in --soak")
	}

	steady := afterFirst(ex.scrapes)
	wallLimit := time.Duration(wallFactor*float64(expectedRound(o))) + wallSlack
	if o.soak {
		skip("wall per scrape: --soak runs at a latency where CPU, not the gateway, sets the pace (mean %s)", mean(steady).Round(time.Millisecond))
	} else {
		check(mean(steady) <= wallLimit, "wall per scrape %s (mean after the first) ≤ %.2f × ceil(%d/%d) × %s + %s = %s",
			mean(steady).Round(time.Millisecond), wallFactor, requestsPerScrape(o), o.concurrency, o.latency, wallSlack, wallLimit.Round(time.Millisecond))
		if bare != nil {
			fmt.Printf("        (for comparison, the bare client's mean round took %s)\n", mean(afterFirst(bare.rounds)).Round(time.Millisecond))
		}
	}

	if o.agents <= peakRSSAtAgents {
		check(ex.peakRSS <= peakRSSLimit, "peak RSS %s ≤ %s (the limit for %d agents, applied to any run up to that)",
			mib(ex.peakRSS), mib(peakRSSLimit), peakRSSAtAgents)
	} else {
		skip("peak RSS %s: the %s limit is set for %d agents", mib(ex.peakRSS), mib(peakRSSLimit), peakRSSAtAgents)
	}

	if o.scrapes > 1 {
		check(later <= newConnsPerLimit, "keep-alive: %.2f new connections per scrape after the first ≤ %.1f%s", later, newConnsPerLimit, handshakes(o))
	} else {
		skip("keep-alive: needs more than one scrape")
	}

	if o.soak {
		checkFlat(ex, check, skip)
	}
	return ok
}

// checkFlat compares memory right after warm-up (the first 10% of the
// scrapes) with memory over the last 10%, by medians so one GC cycle's
// timing does not decide.
func checkFlat(ex *exporterRun, check func(bool, string, ...any), skip func(string, ...any)) {
	n := len(ex.heap)
	w := max(1, n/10)
	if n < 3*w {
		skip("steady-state memory: too few scrapes")
		return
	}
	for _, m := range []struct {
		name   string
		values []float64
	}{{"heap in use", ex.heap}, {"RSS", ex.rss}} {
		early, late := median(m.values[w:2*w]), median(m.values[n-w:])
		limit := memoryGrowth*early + memorySlack
		check(late <= limit, "steady-state %s: median of scrapes %d-%d %s, of the last %d %s ≤ %.2f × early + %s = %s",
			m.name, w+1, 2*w, mib(int64(early)), w, mib(int64(late)), memoryGrowth, mib(memorySlack), mib(int64(limit)))
	}
	early, late := median(ex.goroutines[w:2*w]), median(ex.goroutines[n-w:])
	check(late <= early+2, "goroutines: %.0f after warm-up, %.0f at the end", early, late)
}

// handshakes notes that with --tls every new connection is a full TLS
// handshake, so the connection count is the handshake count.
func handshakes(o options) string {
	if o.tls {
		return " (each one TLS handshake)"
	}
	return ""
}

func perQueryDuration(total time.Duration, queries int) time.Duration {
	if queries == 0 {
		return 0
	}
	return total / time.Duration(queries)
}

func perQuery(total time.Duration, queries int) string {
	return perQueryDuration(total, queries).Round(100 * time.Nanosecond).String()
}

// afterFirst leaves out the first of several measurements.
func afterFirst(ds []time.Duration) []time.Duration {
	if len(ds) > 1 {
		return ds[1:]
	}
	return ds
}

func durationStats(ds []time.Duration) string {
	steady := afterFirst(ds)
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("mean %s  min %s  max %s  after the first; first %s", r(mean(steady)), r(slices.Min(steady)), r(slices.Max(steady)), r(ds[0]))
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

func median(values []float64) float64 {
	s := slices.Clone(values)
	slices.Sort(s)
	return s[len(s)/2]
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func kib(b int) string { return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10)) }
