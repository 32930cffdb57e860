// Package tracing is the Go twin of meshkit/runtime/tracing.py: OpenTelemetry switched on
// by the standard OTEL_* variables (off by default: no provider, no handler, no cost),
// spans to stderr (console) or an OTLP/gRPC endpoint, W3C traceparent propagated by
// otelgrpc on every call.
package tracing

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"

	"github.com/shopmesh/shopmesh/meshkit/go/env"
)

// Config is OpenTelemetry export, from the standard OTEL_* variables.
type Config struct {
	Exporter     string // "none" | "console" | "otlp"
	ServiceName  string
	OTLPEndpoint string
	SampleRatio  float64
}

// ConfigFromEnv reads the OTEL_* variables as the Python services do (same checks, same
// messages).
func ConfigFromEnv(environment map[string]string, serviceName string) (Config, error) {
	off := Config{Exporter: "none", ServiceName: serviceName, SampleRatio: 1}
	if strings.ToLower(get(environment, "OTEL_SDK_DISABLED", "false")) == "true" {
		return off, nil
	}
	exporter := strings.ToLower(strings.TrimSpace(get(environment, "OTEL_TRACES_EXPORTER", "none")))
	if exporter != "none" && exporter != "console" && exporter != "otlp" {
		return off, env.Errorf("OTEL_TRACES_EXPORTER must be none, console or otlp, got '%s'", exporter)
	}
	sampler := get(environment, "OTEL_TRACES_SAMPLER", "parentbased_always_on")
	ratios := map[string]string{"parentbased_always_on": "1", "parentbased_always_off": "0"}
	raw, fixed := ratios[sampler]
	if !fixed {
		if sampler != "parentbased_traceidratio" {
			return off, env.Errorf("OTEL_TRACES_SAMPLER must be parentbased_always_on, parentbased_always_off or parentbased_traceidratio, got '%s'", sampler)
		}
		raw = get(environment, "OTEL_TRACES_SAMPLER_ARG", "1")
	}
	ratio, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || !(ratio >= 0 && ratio <= 1) {
		return off, env.Errorf("OTEL_TRACES_SAMPLER_ARG must be in 0..1, got '%s'", raw)
	}
	return Config{
		Exporter:     exporter,
		ServiceName:  get(environment, "OTEL_SERVICE_NAME", serviceName),
		OTLPEndpoint: environment["OTEL_EXPORTER_OTLP_ENDPOINT"],
		SampleRatio:  ratio,
	}, nil
}

func get(environment map[string]string, key, def string) string {
	if value, ok := environment[key]; ok {
		return value
	}
	return def
}

// Tracing is the server option to install and how to flush at shutdown.
type Tracing struct {
	provider *sdktrace.TracerProvider
}

// Setup builds tracing as configured; for "none" it is a no-op.
func Setup(ctx context.Context, config Config) (*Tracing, error) {
	if config.Exporter == "none" {
		return &Tracing{}, nil
	}
	var exporter sdktrace.SpanExporter
	var err error
	if config.Exporter == "console" {
		exporter, err = stdouttrace.New(stdouttrace.WithWriter(os.Stderr))
	} else {
		var options []otlptracegrpc.Option
		if config.OTLPEndpoint != "" {
			options = append(options, otlptracegrpc.WithEndpointURL(config.OTLPEndpoint))
		}
		exporter, err = otlptracegrpc.New(ctx, options...)
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	return To(exporter, config.ServiceName, config.SampleRatio, true), nil
}

// To exports spans of serviceName to exporter (batched, or one by one for tests).
func To(exporter sdktrace.SpanExporter, serviceName string, ratio float64, batch bool) *Tracing {
	processor := sdktrace.NewSimpleSpanProcessor(exporter)
	if batch {
		processor = sdktrace.NewBatchSpanProcessor(exporter)
	}
	provider := sdktrace.NewTracerProvider(
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(serviceName))),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
		sdktrace.WithSpanProcessor(processor),
	)
	return &Tracing{provider: provider}
}

// ServerOptions are the gRPC server options that trace every call (none when off).
func (t *Tracing) ServerOptions() []grpc.ServerOption {
	if t.provider == nil {
		return nil
	}
	return []grpc.ServerOption{grpc.StatsHandler(t.handler())}
}

func (t *Tracing) handler() stats.Handler {
	return otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(t.provider),
		otelgrpc.WithPropagators(propagation.TraceContext{}),
	)
}

// Shutdown flushes and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) {
	if t.provider != nil {
		_ = t.provider.Shutdown(ctx)
	}
}

// TraceID is the active trace id of ctx, "" when none.
func TraceID(ctx context.Context) string {
	span := trace.SpanContextFromContext(ctx)
	if !span.IsValid() {
		return ""
	}
	return span.TraceID().String()
}
