// Package e2e holds the end-to-end test of agentgateway_exporter: the
// exporter against the gateway simulator, scraped by a real Prometheus that
// loads the project's rules and sends the alerts to a real Alertmanager.
//
// It needs prometheus, promtool and Alertmanager (alertmanager or Debian's
// prometheus-alertmanager) in PATH and is skipped without them, or with
// -short; AGENTGATEWAY_E2E_REQUIRED=1 turns the skip into a failure.
package e2e
