package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/shopmesh/shopmesh/meshkit/go/domainerr"
	"github.com/shopmesh/shopmesh/meshkit/go/health"
	"github.com/shopmesh/shopmesh/meshkit/go/logs"
	"github.com/shopmesh/shopmesh/meshkit/go/manifest"
	"github.com/shopmesh/shopmesh/meshkit/go/rest"
	"github.com/shopmesh/shopmesh/meshkit/go/tracing"
)

// GuardFlag makes the process drain when its standard input closes: the local runner
// holds the write end and never writes, so end-of-file means the runner is gone, however
// it went (the Go side of runner/guard.py).
const GuardFlag = "--guard-stdin"

// HealthcheckFlag makes the binary probe a running instance's liveness (GET /healthz on
// its probe port, or on the REST port over REST) and exit 0 if it answers 200, 1 if not:
// the container health check of an image that has no shell and no curl.
const HealthcheckFlag = "--healthcheck"

// healthcheckTimeout bounds the probe, below the container check's own timeout.
const healthcheckTimeout = 3 * time.Second

// Service is how one service is built for each transport, from its own settings.
type Service struct {
	// GRPC builds the servicers (and opens what they hold) when the host starts.
	GRPC func() (Parts, error)
	// REST builds the REST/JSON twin's routes and its stop hooks.
	REST func() ([]rest.Route, []func(), error)
}

// Main is the body of every Go service's main (meshkit/runtime/main.py service_main):
// the config from the environment, the transport it names, then serve until SIGTERM or
// SIGINT and drain. A bad setting exits 2 with one line naming it; so does a host that
// cannot start (a taken port), after one JSON log line.
func Main(name string, manifestText []byte, configure func(map[string]string) (Service, error)) {
	os.Exit(run(name, manifestText, os.Args[1:], environ(), configure))
}

func run(name string, manifestText []byte, args []string, environment map[string]string, configure func(map[string]string) (Service, error)) int {
	guard, probe := false, false
	for _, arg := range args {
		switch arg {
		case GuardFlag:
			guard = true
		case HealthcheckFlag:
			probe = true
		default:
			fmt.Fprintf(os.Stderr, "usage: %s [%s | %s] (configured by SHOPMESH_* variables)\n", name, GuardFlag, HealthcheckFlag)
			return 2
		}
	}
	config, service, err := configuration(name, manifestText, environment, configure)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: configuration error: %s\n", name, err)
		return 2
	}
	if probe {
		return healthcheck(name, config, os.Stderr)
	}
	log := logs.New(name, config.LogLevel, os.Stderr)
	if guard {
		go terminateWhenClosed(os.Stdin)
	}
	if err := serve(config, service, log); err != nil {
		var startup *StartupError
		if errors.As(err, &startup) {
			log.Error("shopmesh.server", startup.Message)
			return 2
		}
		log.Error("shopmesh.server", err.Error())
		return 1
	}
	return 0
}

func configuration(name string, manifestText []byte, environment map[string]string, configure func(map[string]string) (Service, error)) (Config, Service, error) {
	spec, err := manifest.ServiceNamed(manifestText, name)
	if err != nil {
		return Config{}, Service{}, err
	}
	config, err := ConfigFromEnv(spec, environment)
	if err != nil {
		return Config{}, Service{}, err
	}
	service, err := configure(environment)
	return config, service, err
}

func serve(config Config, service Service, log *logs.Logger) error {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(signals)
	if config.Transport == "rest" {
		// Tracing is not wired into the REST baseline (docs/REST_BASELINE.md), as in Python.
		routes, onStop, err := service.REST()
		if err != nil {
			return &StartupError{err.Error()}
		}
		host, err := rest.Start(rest.Settings{
			Service: config.ServiceName, Host: config.Host, Port: config.RESTPort,
			DefaultDeadline: config.DefaultDeadline, MaxBodyBytes: config.MaxMessageBytes,
			AccessLog: config.AccessLog,
		}, log, routes, func(err error, where string) *domainerr.Error { return Unexpected(log, err, where) })
		if err != nil {
			runAll(onStop)
			return &StartupError{err.Error()}
		}
		waitForSignal(signals, log)
		host.Stop(config.DrainDelay, config.Grace, log)
		runAll(onStop)
		log.Info("shopmesh.server", "stopped")
		return nil
	}
	traced, err := tracing.Setup(context.Background(), config.Tracing)
	if err != nil {
		return &StartupError{err.Error()}
	}
	parts, err := service.GRPC()
	if err != nil {
		return &StartupError{err.Error()}
	}
	host, err := StartGRPC(config, log, traced, parts)
	if err != nil {
		runAll(parts.OnStop)
		return err
	}
	waitForSignal(signals, log)
	host.Stop(config.DrainDelay, config.Grace)
	return nil
}

// healthcheck GETs the liveness path of the instance this configuration describes.
func healthcheck(name string, config Config, out io.Writer) int {
	port := config.HealthPort
	if config.Transport == "rest" {
		port = config.RESTPort
	}
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, health.LivenessPath)
	client := http.Client{Timeout: healthcheckTimeout}
	response, err := client.Get(url)
	if err != nil {
		fmt.Fprintf(out, "%s: unhealthy: %s\n", name, err)
		return 1
	}
	_ = response.Body.Close()
	if response.StatusCode != http.StatusOK {
		fmt.Fprintf(out, "%s: unhealthy: %s answered %d\n", name, url, response.StatusCode)
		return 1
	}
	return 0
}

func waitForSignal(signals <-chan os.Signal, log *logs.Logger) {
	<-signals
	log.Info("shopmesh.server", "signal received")
	// A second signal during the drain changes nothing (the sequence is already running);
	// the runner kills a process that overstays its budget.
	signal.Ignore(syscall.SIGTERM, syscall.SIGINT)
}

func runAll(hooks []func()) {
	for _, hook := range hooks {
		hook()
	}
}

func terminateWhenClosed(stdin io.Reader) {
	_, _ = io.Copy(io.Discard, stdin) // the runner never writes: returns at end-of-file
	_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
}

func environ() map[string]string {
	environment := map[string]string{}
	for _, pair := range os.Environ() {
		if key, value, ok := strings.Cut(pair, "="); ok {
			environment[key] = value
		}
	}
	return environment
}
