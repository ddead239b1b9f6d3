// Package e2e holds the end-to-end test of agentgateway_exporter: the
// exporter against the gateway simulator, scraped by a real Prometheus that
// loads the project's rules and sends the alerts to a real Alertmanager.
//
// The checks run against two pairs of Prometheus (with its promtool) and
// Alertmanager, side by side: the packaged pair, found in PATH (Debian's
// prometheus, promtool and prometheus-alertmanager), and the current pair,
// prometheus, promtool and alertmanager in the Go bin directory (or the
// directory named by AGENTGATEWAY_E2E_CURRENT_BIN), where .ci/run installs
// them at pinned versions. A pair that is missing is skipped with a message,
// as is the whole test with -short; AGENTGATEWAY_E2E_REQUIRED=1 turns the
// skip into a failure.
package e2e
