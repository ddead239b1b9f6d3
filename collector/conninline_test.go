package collector

import (
	"os"
	"path/filepath"
	"testing"

	promconfig "github.com/prometheus/common/config"
)

// TestInlineFiles: every file the HTTP settings name is read into its
// inline setting, trimmed as the client library trims it, and the
// configuration it came from keeps naming its files.
func TestInlineFiles(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	original := promconfig.HTTPClientConfig{
		BasicAuth: &promconfig.BasicAuth{UsernameFile: file("user", "ops\n"), PasswordFile: file("password", " s3cret \n")},
		TLSConfig: promconfig.TLSConfig{CAFile: file("ca.pem", "CA PEM\n"), CertFile: file("cert.pem", "CERT"), KeyFile: file("key.pem", "KEY\n")},
	}
	inlined, files, err := inlineFiles(original)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 5 {
		t.Errorf("%d files read, want 5", len(files))
	}
	for _, c := range []struct{ what, got, want string }{
		{"username", inlined.BasicAuth.Username, "ops"},
		{"password", string(inlined.BasicAuth.Password), "s3cret"},
		{"ca", inlined.TLSConfig.CA, "CA PEM"},
		{"cert", inlined.TLSConfig.Cert, "CERT"},
		{"key", string(inlined.TLSConfig.Key), "KEY"},
		{"username_file", inlined.BasicAuth.UsernameFile + inlined.BasicAuth.PasswordFile + inlined.TLSConfig.CAFile + inlined.TLSConfig.CertFile + inlined.TLSConfig.KeyFile, ""},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
		}
	}
	if original.BasicAuth.PasswordFile == "" || original.BasicAuth.Password != "" {
		t.Error("inlining changed the configuration's own basic_auth")
	}

	authorization := promconfig.HTTPClientConfig{Authorization: &promconfig.Authorization{Type: "Bearer", CredentialsFile: file("token", "t0ken\n")}}
	inlined, _, err = inlineFiles(authorization)
	if err != nil || string(inlined.Authorization.Credentials) != "t0ken" || authorization.Authorization.CredentialsFile == "" {
		t.Errorf("authorization: %v, %+v", err, inlined.Authorization)
	}

	if _, _, err := inlineFiles(promconfig.HTTPClientConfig{TLSConfig: promconfig.TLSConfig{CAFile: filepath.Join(dir, "missing.pem")}}); err == nil {
		t.Error("a missing file gave no error")
	}
}
