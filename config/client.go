package config

import (
	"fmt"
	"os"

	promconfig "github.com/prometheus/common/config"
)

// checkClient validates the gateway's HTTP client settings as far as the
// exporter will use them when it starts: the settings agree, every file
// they name can be read, and the client can be built (which loads the CA
// and the client certificate). So --config.check and a reload fail on a
// missing ca_file with the line of the key, instead of the start failing
// later without one.
func (gw *Gateway) checkClient(fail func(key, format string, args ...any), dir string) {
	c := &gw.HTTPClientConfig
	c.SetDirectory(dir)
	files := clientFiles(c) // before Validate turns bearer_token_file into authorization
	if err := c.Validate(); err != nil {
		fail(firstKey(gw.keys, "tls_config", "basic_auth", "authorization", "oauth2", "bearer_token", "bearer_token_file", "proxy_url"), "%v", err)
		return
	}
	if c.OAuth2 != nil {
		if err := c.OAuth2.Validate(); err != nil {
			fail("oauth2", "%v", err)
			return
		}
	}
	unreadable := false
	for _, f := range files {
		if f.path == "" {
			continue
		}
		file, err := os.Open(f.path)
		if err == nil {
			var info os.FileInfo
			if info, err = file.Stat(); err == nil && info.IsDir() {
				err = fmt.Errorf("%s is a directory", f.path)
			}
			file.Close()
		}
		if err != nil {
			fail(f.key, "%s: %v", f.key, err)
			unreadable = true
		}
	}
	if unreadable {
		return
	}
	client, err := promconfig.NewClientFromConfig(*c, "agentgateway_"+gw.Name)
	if err != nil {
		fail(firstKey(gw.keys, "tls_config", "oauth2", "basic_auth", "authorization"), "%v", err)
		return
	}
	client.CloseIdleConnections()
}

type clientFile struct{ key, path string }

// clientFiles lists the files the HTTP client settings name, with their
// keys in agents.yml.
func clientFiles(c *promconfig.HTTPClientConfig) []clientFile {
	files := []clientFile{
		{"tls_config.ca_file", c.TLSConfig.CAFile},
		{"tls_config.cert_file", c.TLSConfig.CertFile},
		{"tls_config.key_file", c.TLSConfig.KeyFile},
		{"bearer_token_file", c.BearerTokenFile},
	}
	if a := c.BasicAuth; a != nil {
		files = append(files, clientFile{"basic_auth.username_file", a.UsernameFile}, clientFile{"basic_auth.password_file", a.PasswordFile})
	}
	if a := c.Authorization; a != nil {
		files = append(files, clientFile{"authorization.credentials_file", a.CredentialsFile})
	}
	if o := c.OAuth2; o != nil {
		files = append(files,
			clientFile{"oauth2.client_secret_file", o.ClientSecretFile},
			clientFile{"oauth2.client_certificate_key_file", o.ClientCertificateKeyFile},
			clientFile{"oauth2.tls_config.ca_file", o.TLSConfig.CAFile},
			clientFile{"oauth2.tls_config.cert_file", o.TLSConfig.CertFile},
			clientFile{"oauth2.tls_config.key_file", o.TLSConfig.KeyFile})
	}
	return files
}

// firstKey is the first of keys written for the gateway, for a problem
// the library reports without naming its key.
func firstKey(k *keyLines, keys ...string) string {
	for _, key := range keys {
		if k.has(key) {
			return key
		}
	}
	return ""
}
