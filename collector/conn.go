package collector

import (
	"crypto/sha256"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	promconfig "github.com/prometheus/common/config"

	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/gateway"
)

// gatewayConn is a gateway's HTTP client. The files its settings name
// (tls_config's ca_file, cert_file and key_file, basic_auth's
// username_file and password_file, authorization's credentials_file,
// bearer_token_file) are read when it is built and handed to the client
// as inline values. The client library would read and hash each of them
// again on every request, to notice a rotated certificate: at thousands of
// queries per scrape over HTTPS that was a third of the exporter's CPU.
// Instead each scrape reads them once (changed), and a change builds a
// new client.
type gatewayConn struct {
	httpClient *http.Client
	api        *gateway.Client
	files      []settingFile
	// warned: a file could not be read, or its new content not used;
	// logged once until the files are as read again.
	warned atomic.Bool
}

// settingFile is a file read into the client, and a digest of what it held.
type settingFile struct {
	path string
	sum  [sha256.Size]byte
}

func newGatewayConn(cfg *config.Gateway) (*gatewayConn, error) {
	settings, files, err := inlineFiles(cfg.HTTPClientConfig)
	if err != nil {
		return nil, err
	}
	httpClient, err := promconfig.NewClientFromConfig(settings, "agentgateway_"+cfg.Name,
		promconfig.WithDialContextFunc(newConnLimit(cfg.Concurrency).DialContext))
	if err != nil {
		return nil, err
	}
	httpClient.Timeout = 0 // the per-request context carries the timeout
	var opts []gateway.ClientOption
	if !settings.FollowRedirects {
		opts = append(opts, gateway.NoRedirects())
	}
	return &gatewayConn{httpClient: httpClient, api: gateway.NewClient(cfg.BaseURL, httpClient, opts...), files: files}, nil
}

// inlineFiles returns the settings with every file they name read into the
// inline setting beside it, as the client library would read it (spaces
// around the content trimmed), and the files read.
func inlineFiles(c promconfig.HTTPClientConfig) (promconfig.HTTPClientConfig, []settingFile, error) {
	var files []settingFile
	var err error
	// inline reads the file at *path into set and forgets the path.
	inline := func(path *string, set func(string)) {
		if *path == "" || err != nil {
			return
		}
		var content []byte
		if content, err = os.ReadFile(*path); err != nil {
			return
		}
		files = append(files, settingFile{path: *path, sum: sha256.Sum256(content)})
		*path = ""
		set(strings.TrimSpace(string(content)))
	}
	secret := func(s *promconfig.Secret) func(string) { return func(v string) { *s = promconfig.Secret(v) } }
	text := func(s *string) func(string) { return func(v string) { *s = v } }
	// The structs behind pointers are shared with the configuration,
	// which must keep naming its files.
	tls := &c.TLSConfig
	inline(&tls.CAFile, text(&tls.CA))
	inline(&tls.CertFile, text(&tls.Cert))
	inline(&tls.KeyFile, secret(&tls.Key))
	if c.BasicAuth != nil {
		basic := *c.BasicAuth
		c.BasicAuth = &basic
		inline(&basic.UsernameFile, text(&basic.Username))
		inline(&basic.PasswordFile, secret(&basic.Password))
	}
	if c.Authorization != nil {
		auth := *c.Authorization
		c.Authorization = &auth
		inline(&auth.CredentialsFile, secret(&auth.Credentials))
	}
	inline(&c.BearerTokenFile, secret(&c.BearerToken))
	return c, files, err
}

// changed reports whether a file read into the client now holds something
// else. A file that cannot be read does not count as a change: the client
// keeps what it had, as the library's own client would fail every request.
func (c *gatewayConn) changed(logger log.Logger, gatewayName string) bool {
	for _, f := range c.files {
		content, err := os.ReadFile(f.path)
		if err != nil {
			if !c.warned.Swap(true) {
				level.Warn(logger).Log("msg", "cannot read a file of the gateway's HTTP settings, going on with what was read before",
					"gateway", gatewayName, "err", err)
			}
			return false
		}
		if sha256.Sum256(content) != f.sum {
			return true
		}
	}
	c.warned.Store(false)
	return false
}

// refreshConn replaces the gateway's client when a file of its settings
// changed, so a rotated certificate or password is used from this scrape
// on; connections of the old client are let go once idle.
func (gw *gatewayTarget) refreshConn(logger log.Logger) {
	old := gw.conn.Load()
	if !old.changed(logger, gw.name) {
		return
	}
	fresh, err := newGatewayConn(gw.cfg)
	if err != nil {
		if !old.warned.Swap(true) {
			level.Warn(logger).Log("msg", "the files of the gateway's HTTP settings changed but cannot be used, going on with what was read before",
				"gateway", gw.name, "err", err)
		}
		return
	}
	if gw.conn.CompareAndSwap(old, fresh) {
		level.Info(logger).Log("msg", "the files of the gateway's HTTP settings changed; new connections use them", "gateway", gw.name)
		old.httpClient.CloseIdleConnections()
	} else {
		fresh.httpClient.CloseIdleConnections() // a concurrent scrape replaced it first
	}
}

// api is the gateway client of this moment.
func (gw *gatewayTarget) api() *gateway.Client { return gw.conn.Load().api }
