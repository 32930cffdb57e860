// Package manifest reads what a Go service needs of services/mesh.toml: its own ports.
// The Python loader (meshkit/manifest.py) validates the whole file; the tests hold both
// to the same file.
package manifest

import (
	"fmt"

	"github.com/BurntSushi/toml"
)

// Service is one [services.<name>] table, as far as a Go service reads it.
type Service struct {
	Name       string
	GRPCPort   int `toml:"grpc_port"`
	HealthPort int `toml:"health_port"`
	RESTPort   int `toml:"rest_port"`
}

type document struct {
	Services map[string]Service `toml:"services"`
}

// ServiceNamed is the table of service name in the manifest text.
func ServiceNamed(text []byte, name string) (Service, error) {
	var doc document
	if _, err := toml.Decode(string(text), &doc); err != nil {
		return Service{}, fmt.Errorf("manifest: %w", err)
	}
	spec, ok := doc.Services[name]
	if !ok {
		return Service{}, fmt.Errorf("manifest: no [services.%s] table", name)
	}
	spec.Name = name
	return spec, nil
}
