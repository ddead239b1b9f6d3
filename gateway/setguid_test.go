package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// TestSetGUID: the Guid is the whole value after JSESSIONID=, suffix
// included; a bare value is taken as it is.
func TestSetGUID(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"JSESSIONID=279fe21d-2caa-4437-84c3-ab9e9dae20f5.AgentGateway0", "279fe21d-2caa-4437-84c3-ab9e9dae20f5.AgentGateway0"},
		{" jsessionid = abc.AgentGateway1 ; Path=/", "abc.AgentGateway1"},
		{"abc.AgentGateway1", "abc.AgentGateway1"},
		{"", ""},
		{"JSESSIONID=", ""},
	} {
		header := http.Header{}
		if tc.header != "" {
			header.Set("Set-GUID", tc.header)
		}
		if got := SetGUID(header); got != tc.want {
			t.Errorf("Set-GUID %q: got %q, want %q", tc.header, got, tc.want)
		}
	}
}

// TestQueryCallInfoGUID: the Set-GUID of an answer is returned, with a
// success and with a retcode error.
func TestQueryCallInfoGUID(t *testing.T) {
	for _, body := range []string{`{"retcode":"0","result":""}`, `{"retcode":"100-006","message":"not login","result":""}`} {
		server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Set-GUID", "JSESSIONID=renewed.AgentGateway0")
			_, _ = w.Write([]byte(body))
		}))
		base, _ := url.Parse(server.URL)
		answer, newGUID, err := NewClient(base, server.Client()).QueryCallInfoGUID(context.Background(), "1001", testGUID, true)
		server.Close()
		if answer == nil || newGUID != "renewed.AgentGateway0" {
			t.Errorf("body %s: answer %v, Guid %q, err %v", body, answer, newGUID, err)
		}
	}
}
