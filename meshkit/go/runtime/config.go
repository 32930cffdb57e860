// Package runtime is the Go twin of meshkit/runtime: one way to build, run and drain a
// gRPC service (server options, the boundary interceptors, health, reflection, the HTTP
// probe port, tracing) or its REST/JSON twin, configured by the same SHOPMESH_* variables.
package runtime

import (
	"time"

	"github.com/shopmesh/shopmesh/meshkit/go/env"
	"github.com/shopmesh/shopmesh/meshkit/go/logs"
	"github.com/shopmesh/shopmesh/meshkit/go/manifest"
	"github.com/shopmesh/shopmesh/meshkit/go/tracing"
)

// Defaults, as meshkit/runtime/config.py names them.
const (
	DefaultDrainDelay      = 5 * time.Second
	DefaultGrace           = 10 * time.Second
	DefaultDeadline        = 10 * time.Second
	DefaultDeadlineMargin  = 50 * time.Millisecond
	DefaultMaxMessageBytes = 4 * 1024 * 1024
	DefaultStreamHeartbeat = 60 * time.Second
	minStreamHeartbeatS    = 0.01
)

// Config is everything the runtime needs to serve one service; built once, in main.
type Config struct {
	ServiceName     string
	Host            string
	GRPCPort        int
	HealthPort      int
	Transport       string // "grpc" or "rest"
	RESTPort        int
	DrainDelay      time.Duration
	Grace           time.Duration
	DefaultDeadline time.Duration
	DeadlineMargin  time.Duration
	MaxMessageBytes int
	StreamHeartbeat time.Duration
	AccessLog       bool
	LogLevel        string
	Tracing         tracing.Config
}

// ConfigFromEnv reads the runtime settings of service spec from env, ports defaulting to
// the manifest's; the first malformed value is returned as an *env.ConfigError.
func ConfigFromEnv(spec manifest.Service, environment map[string]string) (Config, error) {
	read := env.NewReader(environment)
	transport := read.Choice("TRANSPORT", "grpc", "grpc", "rest")
	if read.Err == nil && transport == "rest" && spec.RESTPort == 0 && read.Raw("REST_PORT") == "" {
		return Config{}, env.Errorf("%s has no rest_port in the manifest: it has no REST baseline", spec.Name)
	}
	config := Config{
		ServiceName:     spec.Name,
		Host:            read.Text("HOST", "0.0.0.0"),
		GRPCPort:        read.Port("GRPC_PORT", spec.GRPCPort),
		HealthPort:      read.Port("HEALTH_PORT", spec.HealthPort),
		Transport:       transport,
		RESTPort:        read.Port("REST_PORT", spec.RESTPort),
		DrainDelay:      seconds(read.Number("DRAIN_DELAY_S", DefaultDrainDelay.Seconds(), 0)),
		Grace:           seconds(read.Number("GRACE_S", DefaultGrace.Seconds(), 0)),
		DefaultDeadline: seconds(read.Number("DEFAULT_DEADLINE_S", DefaultDeadline.Seconds(), 0.001)),
		DeadlineMargin:  seconds(read.Number("DEADLINE_MARGIN_S", DefaultDeadlineMargin.Seconds(), 0)),
		MaxMessageBytes: int(read.Integer("MAX_MESSAGE_BYTES", DefaultMaxMessageBytes, 1024, -1)),
		StreamHeartbeat: seconds(read.Number("STREAM_HEARTBEAT_S", DefaultStreamHeartbeat.Seconds(), minStreamHeartbeatS)),
		AccessLog:       read.Flag("ACCESS_LOG", true),
		LogLevel:        read.Text("LOG_LEVEL", "INFO"),
	}
	if read.Err != nil {
		return Config{}, read.Err
	}
	if _, ok := logs.Levels[upper(config.LogLevel)]; !ok {
		return Config{}, env.Errorf("%s must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got '%s'", read.Name("LOG_LEVEL"), config.LogLevel)
	}
	config.LogLevel = upper(config.LogLevel)
	traced, err := tracing.ConfigFromEnv(environment, spec.Name)
	if err != nil {
		return Config{}, err
	}
	config.Tracing = traced
	return config, nil
}

func seconds(value float64) time.Duration { return time.Duration(value * float64(time.Second)) }

func upper(s string) string {
	out := []byte(s)
	for i, c := range out {
		if 'a' <= c && c <= 'z' {
			out[i] = c - 'a' + 'A'
		}
	}
	return string(out)
}
