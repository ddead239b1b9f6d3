package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pushToken is the Guid push API's token in these tests, a secret.
const pushToken = "guid-Push-t0ken-3a7c"

// TestGUIDPushBehindTLS: with --guid-push.token-file the agents need no
// Guid in agents.yml (and --config.check agrees); pushes work over the
// TLS and basic auth of --web.config.file, the pushed Guids reach the
// gateway, and nothing the exporter logs or serves holds a Guid or the
// token.
func TestGUIDPushBehindTLS(t *testing.T) {
	sim := startGateway(t)
	dir := t.TempDir()
	configFile := filepath.Join(dir, "agents.yml")
	writeFile(t, configFile, fmt.Sprintf("gateways:\n  - name: sim\n    url: %s\n    timeout: 2s\n    guid_ttl: 110s\n"+
		"    basic_auth: {username: exporter, password: %s}\n    agents:\n      - id: \"1001\"\n      - id: \"1002\"\n      - id: \"1003\"\n",
		sim.URL(), gatewayPassword))
	tokenFile := filepath.Join(dir, "push.token")
	writeFile(t, tokenFile, pushToken+"\n")

	check := func(args ...string) (int, string) {
		cmd := exec.Command(exporterBinary(t), append([]string{"--config.file=" + configFile, "--config.check"}, args...)...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), string(out)
	}
	if code, out := check(); code != 1 || !strings.Contains(out, `agent "1001": needs guid or guid_file`) {
		t.Errorf("--config.check without push: exit %d, %s", code, out)
	}
	if code, out := check("--guid-push.token-file=" + tokenFile); code != 0 {
		t.Errorf("--config.check with push: exit %d, %s", code, out)
	}

	webConfig, client := tlsWebConfig(t, dir)
	p := startExporter(t, client, "https", "--config.file="+configFile, "--web.config.file="+webConfig, "--guid-push.token-file="+tokenFile)

	request := func(method, path, token, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, "https://"+p.addr+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("prometheus", webPassword)
		if token != "" {
			req.Header.Set("X-Guid-Push-Token", token)
		}
		return p.do(t, client, req)
	}
	scrape := func() string {
		t.Helper()
		status, body := request(http.MethodGet, "/metrics", "", "")
		if status != http.StatusOK {
			t.Fatalf("scrape: %d %s", status, body)
		}
		return body
	}

	body := scrape()
	for _, id := range []string{"1001", "1002", "1003"} {
		expectSample(t, body, `agentgateway_agent_query_failed{agent_id="`+id+`",gateway="sim",reason="no_guid",retcode=""}`, 1)
	}
	if _, present := sample(body, `agentgateway_gateway_up{gateway="sim"}`); present {
		t.Error("gateway_up reported although no agent was queried")
	}

	push := fmt.Sprintf(`{"gateway":"sim","guids":{"1001":%q,"1002":%q,"1003":%q,"4242":%q}}`,
		sim.Guid("1001"), sim.Guid("1002"), sim.Guid("1003"), sim.Guid("1001"))
	if status, answer := request(http.MethodPut, "/api/v1/guids", "wrong-token", push); status != http.StatusUnauthorized {
		t.Errorf("wrong token: %d %s", status, answer)
	}
	status, answer := request(http.MethodPut, "/api/v1/guids", pushToken, push)
	if status != http.StatusOK || answer != `{"accepted":3,"rejected":{"4242":"agent is not configured for this gateway"}}`+"\n" {
		t.Fatalf("push: %d %s", status, answer)
	}
	body = scrape()
	for _, id := range []string{"1001", "1002", "1003"} {
		expectSample(t, body, agentUp(id), 1)
	}
	expectSample(t, body, `agentgateway_gateway_up{gateway="sim"}`, 1)
	expectSample(t, body, `agentgateway_guid_updates_total{gateway="sim",result="accepted",source="push"}`, 3)
	expectSample(t, body, `agentgateway_guid_updates_total{gateway="sim",result="rejected",source="push"}`, 1)

	// The token file is re-read when it changes.
	writeFile(t, tokenFile, pushToken+"-rotated\n")
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(tokenFile, future, future); err != nil {
		t.Fatal(err)
	}
	if status, _ := request(http.MethodPut, "/api/v1/guids", pushToken, push); status != http.StatusUnauthorized {
		t.Errorf("old token after rotation: %d", status)
	}
	if status, _ := request(http.MethodPut, "/api/v1/guids", pushToken+"-rotated", push); status != http.StatusOK {
		t.Errorf("rotated token: %d", status)
	}
	const pushOn = `Guid push API</dt>
    <dd><span class="ok">on</span>`
	if status, landing := request(http.MethodGet, "/", "", ""); status != http.StatusOK || !strings.Contains(landing, pushOn) {
		t.Errorf("landing page: %d, says push is on: %v", status, strings.Contains(landing, pushOn))
	}
	request(http.MethodGet, "/api/v1/guids", pushToken, "")
	request(http.MethodPut, "/api/v1/guids", pushToken, `{"gateway":"sim","guids":{"1001":`)
	assertNoSecrets(t, p.output.String()+p.emitted.String(),
		append(guids(sim), gatewayPassword, webPassword, pushToken)...)
}
