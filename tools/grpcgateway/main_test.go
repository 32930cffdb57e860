package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	catalogv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/catalog/v1"
)

// fakeCatalog answers GetProduct for SKU-00042 only and streams limit products.
type fakeCatalog struct {
	catalogv1.UnimplementedCatalogServiceServer
	deadlines chan time.Duration
}

func (f *fakeCatalog) GetProduct(ctx context.Context, in *catalogv1.GetProductRequest) (*catalogv1.GetProductResponse, error) {
	if deadline, ok := ctx.Deadline(); ok {
		f.deadlines <- time.Until(deadline)
	}
	if in.GetSku() != "SKU-00042" {
		return nil, status.Errorf(codes.NotFound, "no product %s", in.GetSku())
	}
	return &catalogv1.GetProductResponse{Product: &catalogv1.Product{Sku: in.GetSku(), Name: "Kettle"}}, nil
}

func (f *fakeCatalog) ListProducts(in *catalogv1.ListProductsRequest, stream grpc.ServerStreamingServer[catalogv1.ListProductsResponse]) error {
	for n := range in.GetLimit() {
		product := &catalogv1.Product{Sku: "SKU-0000" + string(rune('1'+n))}
		if err := stream.Send(&catalogv1.ListProductsResponse{Product: product}); err != nil {
			return err
		}
	}
	return nil
}

// startCatalog serves the fake on a loopback port and returns its address.
func startCatalog(t *testing.T, fake *fakeCatalog) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer()
	catalogv1.RegisterCatalogServiceServer(server, fake)
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(server.Stop)
	return listener.Addr().String()
}

func startGateway(t *testing.T, catalog string) *httptest.Server {
	t.Helper()
	runtimeTimeout(t)
	handler, release, err := newHandler(context.Background(), upstreams{"catalog": catalog})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	server := httptest.NewServer(handler)
	t.Cleanup(server.Close)
	return server
}

// runtimeTimeout sets the upstream default deadline as run does, for this test only.
func runtimeTimeout(t *testing.T) {
	t.Helper()
	runtime.DefaultContextTimeout = upstreamTimeout
	t.Cleanup(func() { runtime.DefaultContextTimeout = 0 })
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	response, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(response.Body); err != nil {
		t.Fatal(err)
	}
	return response.StatusCode, body.Bytes()
}

func TestGetProductIsTranscodedWithTheDefaultDeadline(t *testing.T) {
	fake := &fakeCatalog{deadlines: make(chan time.Duration, 1)}
	gateway := startGateway(t, startCatalog(t, fake))
	code, body := get(t, gateway.URL+"/v1/products/SKU-00042")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var document struct {
		Product struct{ Sku, Name string } `json:"product"`
	}
	if err := json.Unmarshal(body, &document); err != nil {
		t.Fatal(err)
	}
	if document.Product.Sku != "SKU-00042" || document.Product.Name != "Kettle" {
		t.Fatalf("unexpected body %s", body)
	}
	if left := <-fake.deadlines; left <= upstreamTimeout-time.Second || left > upstreamTimeout {
		t.Fatalf("upstream deadline %v, want about %v", left, upstreamTimeout)
	}
}

func TestUpstreamStatusBecomesTheHTTPStatus(t *testing.T) {
	fake := &fakeCatalog{deadlines: make(chan time.Duration, 1)}
	gateway := startGateway(t, startCatalog(t, fake))
	if code, body := get(t, gateway.URL+"/v1/products/SKU-99999"); code != http.StatusNotFound {
		t.Fatalf("status %d: %s", code, body)
	}
}

func TestListProductsStreamsOneResultLinePerMessage(t *testing.T) {
	fake := &fakeCatalog{deadlines: make(chan time.Duration, 1)}
	gateway := startGateway(t, startCatalog(t, fake))
	code, body := get(t, gateway.URL+"/v1/products?limit=3")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	lines := 0
	scanner := bufio.NewScanner(bytes.NewReader(body))
	for scanner.Scan() {
		var line struct {
			Result struct {
				Product struct{ Sku string } `json:"product"`
			} `json:"result"`
		}
		if err := json.Unmarshal(scanner.Bytes(), &line); err != nil {
			t.Fatalf("line %q: %v", scanner.Text(), err)
		}
		if !strings.HasPrefix(line.Result.Product.Sku, "SKU-") {
			t.Fatalf("line %q has no product", scanner.Text())
		}
		lines++
	}
	if lines != 3 {
		t.Fatalf("%d lines, want 3: %s", lines, body)
	}
}

func TestHealthzAnswersOK(t *testing.T) {
	gateway := startGateway(t, "127.0.0.1:1")
	if code, _ := get(t, gateway.URL+healthPath); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
}

func TestBadArgumentsAreRefusedWithExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-upstream", "catalog"},
		{"-upstream", "warehouse=127.0.0.1:1"},
		{"-upstream", "catalog=no-port"},
		{"-upstream", "catalog=127.0.0.1:1", "extra"},
	} {
		var stderr bytes.Buffer
		if code := run(args, &stderr); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
		if !strings.Contains(stderr.String(), "grpcgateway") {
			t.Errorf("%q: stderr %q does not name the command", args, stderr.String())
		}
	}
}
