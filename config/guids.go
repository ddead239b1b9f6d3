package config

import (
	"fmt"
	"os"

	promconfig "github.com/prometheus/common/config"
)

// LoadOption changes how a configuration is validated.
type LoadOption func(*loadOptions)

type loadOptions struct{ guidPush bool }

// WithGUIDPush tells validation that Guids can also arrive through the
// push API, so an agent needs no guid or guid_file of its own.
func WithGUIDPush(on bool) LoadOption {
	return func(o *loadOptions) { o.guidPush = on }
}

func applyLoadOptions(cfg *Config, opts []LoadOption) {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	for _, gw := range cfg.Gateways {
		if gw != nil {
			gw.guidPush = o.guidPush
		}
	}
}

// validateGUIDSupply checks guid_dir (a guid_ttl cannot be negative: the
// duration syntax has no sign). The directory must exist when the
// configuration is loaded; its files may come later.
func (gw *Gateway) validateGUIDSupply(dir string) error {
	if gw.GUIDDir == "" {
		return nil
	}
	gw.GUIDDir = promconfig.JoinDir(dir, gw.GUIDDir)
	info, err := os.Stat(gw.GUIDDir)
	if err != nil {
		return fmt.Errorf("guid_dir: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("guid_dir %s is not a directory", gw.GUIDDir)
	}
	return nil
}
