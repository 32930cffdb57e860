// Command grpcgateway is the reference transcoder `make bench-gateway` measures our
// gateway against: the REST/JSON reverse proxy protoc-gen-grpc-gateway generates from the
// same protos (gen/go/grpcgateway), on grpc-gateway's own defaults, in front of the
// upstreams named on the command line.
//
//	grpcgateway -listen 127.0.0.1:8090 -upstream catalog=127.0.0.1:50051 [-guard-stdin]
//
// It is a benchmark fixture, not an edge: it routes every RPC that has a google.api.http
// rule on each named service (our gateway routes the public ones only, docs/GATEWAY.md),
// with no authentication, limits or caching. What it keeps equal to our gateway is the
// upstream deadline (10 s when the request sets none) and a GET /healthz for readiness.
// SIGTERM, SIGINT or (with -guard-stdin) the end of standard input stops it gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	catalogv1 "github.com/shopmesh/shopmesh/gen/go/grpcgateway/shopmesh/catalog/v1"
	inventoryv1 "github.com/shopmesh/shopmesh/gen/go/grpcgateway/shopmesh/inventory/v1"
	ordersv1 "github.com/shopmesh/shopmesh/gen/go/grpcgateway/shopmesh/orders/v1"
	paymentsv1 "github.com/shopmesh/shopmesh/gen/go/grpcgateway/shopmesh/payments/v1"
	pricingv1 "github.com/shopmesh/shopmesh/gen/go/grpcgateway/shopmesh/pricing/v1"
)

const (
	// upstreamTimeout is our gateway's default deadline for a request that sets none.
	upstreamTimeout   = 10 * time.Second
	readHeaderTimeout = 10 * time.Second
	shutdownGrace     = 5 * time.Second
	healthPath        = "/healthz"
	exitUsage         = 2
)

// registrar wires one service's generated handlers to a client connection.
type registrar func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error

var registrars = map[string]registrar{
	"catalog":   catalogv1.RegisterCatalogServiceHandler,
	"inventory": inventoryv1.RegisterInventoryServiceHandler,
	"orders":    ordersv1.RegisterOrdersServiceHandler,
	"payments":  paymentsv1.RegisterPaymentsServiceHandler,
	"pricing":   pricingv1.RegisterPricingServiceHandler,
}

// upstreams is the repeatable -upstream NAME=HOST:PORT flag.
type upstreams map[string]string

func (u upstreams) String() string {
	parts := make([]string, 0, len(u))
	for name, address := range u {
		parts = append(parts, name+"="+address)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (u upstreams) Set(value string) error {
	name, address, found := strings.Cut(value, "=")
	if !found || address == "" {
		return fmt.Errorf("expected NAME=HOST:PORT, got %q", value)
	}
	if _, known := registrars[name]; !known {
		return fmt.Errorf("unknown service %q (known: %s)", name, knownServices())
	}
	if _, _, err := net.SplitHostPort(address); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	u[name] = address
	return nil
}

func knownServices() string {
	names := make([]string, 0, len(registrars))
	for name := range registrars {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

type settings struct {
	listen     string
	upstreams  upstreams
	guardStdin bool
}

func parseArgs(args []string, output io.Writer) (settings, error) {
	flags := flag.NewFlagSet("grpcgateway", flag.ContinueOnError)
	flags.SetOutput(output)
	chosen := settings{upstreams: upstreams{}}
	flags.StringVar(&chosen.listen, "listen", "127.0.0.1:8090", "HOST:PORT to serve HTTP on")
	flags.Var(chosen.upstreams, "upstream", "NAME=HOST:PORT of a service to route (repeatable)")
	flags.BoolVar(&chosen.guardStdin, "guard-stdin", false, "stop when standard input closes")
	if err := flags.Parse(args); err != nil {
		return settings{}, err
	}
	if flags.NArg() > 0 {
		return settings{}, fmt.Errorf("unexpected arguments: %s", strings.Join(flags.Args(), " "))
	}
	if len(chosen.upstreams) == 0 {
		return settings{}, errors.New("no -upstream given: nothing to route")
	}
	return chosen, nil
}

// newHandler is grpc-gateway's ServeMux with the named services registered on one client
// connection each, plus GET /healthz; release closes the connections.
func newHandler(ctx context.Context, routes upstreams) (handler http.Handler, release func(), err error) {
	mux := runtime.NewServeMux()
	var conns []*grpc.ClientConn
	release = func() {
		for _, conn := range conns {
			_ = conn.Close()
		}
	}
	for name, address := range routes {
		conn, dialErr := grpc.NewClient(address, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if dialErr != nil {
			release()
			return nil, nil, fmt.Errorf("%s at %s: %w", name, address, dialErr)
		}
		conns = append(conns, conn)
		if regErr := registrars[name](ctx, mux, conn); regErr != nil {
			release()
			return nil, nil, fmt.Errorf("%s: %w", name, regErr)
		}
	}
	healthy := func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
		w.WriteHeader(http.StatusOK)
	}
	if regErr := mux.HandlePath(http.MethodGet, healthPath, healthy); regErr != nil {
		release()
		return nil, nil, regErr
	}
	return mux, release, nil
}

// serve runs until stop is closed, then shuts the server down gracefully.
func serve(listener net.Listener, handler http.Handler, stop <-chan struct{}) error {
	server := &http.Server{Handler: handler, ReadHeaderTimeout: readHeaderTimeout}
	failed := make(chan error, 1)
	go func() { failed <- server.Serve(listener) }()
	select {
	case err := <-failed:
		return err
	case <-stop:
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return server.Shutdown(ctx)
}

// stopSignal closes when SIGTERM or SIGINT arrives or, with guardStdin, stdin ends.
func stopSignal(guardStdin bool) <-chan struct{} {
	stop := make(chan struct{})
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	ended := make(chan struct{})
	if guardStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			close(ended)
		}()
	}
	go func() {
		select {
		case <-signals:
		case <-ended:
		}
		close(stop)
	}()
	return stop
}

func run(args []string, stderr io.Writer) int {
	chosen, err := parseArgs(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "grpcgateway:", err)
		}
		return exitUsage
	}
	runtime.DefaultContextTimeout = upstreamTimeout
	handler, closeConns, err := newHandler(context.Background(), chosen.upstreams)
	if err != nil {
		fmt.Fprintln(stderr, "grpcgateway:", err)
		return exitUsage
	}
	defer closeConns()
	listener, err := net.Listen("tcp", chosen.listen)
	if err != nil {
		fmt.Fprintln(stderr, "grpcgateway:", err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "grpcgateway: serving http://%s for %s\n", listener.Addr(), chosen.upstreams)
	if err := serve(listener, handler, stopSignal(chosen.guardStdin)); err != nil {
		fmt.Fprintln(stderr, "grpcgateway:", err)
		return 1
	}
	return 0
}

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}
