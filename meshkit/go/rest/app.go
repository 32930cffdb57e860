// Package rest is the Go twin of meshkit/runtime/rest: a service's REST/JSON baseline
// over net/http, with the Python app's routes, JSON shapes, error documents, headers,
// deadlines (x-request-timeout-ms), request and operation ids, limits, probes, counters
// and access log.
package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shopmesh/shopmesh/meshkit/go/counters"
	"github.com/shopmesh/shopmesh/meshkit/go/domainerr"
	"github.com/shopmesh/shopmesh/meshkit/go/listen"
	"github.com/shopmesh/shopmesh/meshkit/go/logs"
)

// Headers of the call scope; TimeoutHeader carries the caller's remaining milliseconds
// (REST has no grpc-timeout).
const (
	RequestIDHeader   = "X-Request-Id"
	OperationIDHeader = "X-Operation-Id"
	TimeoutHeader     = "X-Request-Timeout-Ms"
	// Unrouted names requests that matched no route in counters and logs.
	Unrouted = "(no route)"
)

// Settings of a REST host.
type Settings struct {
	Service         string
	Host            string
	Port            int
	DefaultDeadline time.Duration
	MaxBodyBytes    int
	AccessLog       bool
}

// App serves routes as JSON over HTTP; ServeHTTP is its whole boundary.
type App struct {
	settings Settings
	router   *router
	log      *logs.Logger
	Counters *counters.Counters
	draining atomic.Bool
	// Unexpected reports an unexpected failure (logged with an error id) as INTERNAL.
	Unexpected func(err error, where string) *domainerr.Error
}

// NewApp serves routes with settings.
func NewApp(settings Settings, log *logs.Logger, routes []Route, unexpected func(error, string) *domainerr.Error) *App {
	return &App{
		settings: settings, router: newRouter(routes), log: log,
		Counters: counters.New(counters.DefaultMaxOperations), Unexpected: unexpected,
	}
}

// Drain makes /readyz answer 503 (liveness, /healthz, stays 200).
func (a *App) Drain() { a.draining.Store(true) }

// failure is a status the HTTP layer answers itself (no route, bad header, body).
type failure struct {
	status   int // the HTTP layer's own status (413, 415, 405, ...), not the code's
	document StatusDocument
	headers  map[string]string
}

func (f *failure) Error() string { return f.document.Message }

func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rawPath, _, _ := strings.Cut(r.RequestURI, "?")
	switch rawPath {
	case "/healthz", "/readyz", "/metrics":
		a.answerPlain(w, r.Method, rawPath)
		return
	}
	started := time.Now()
	requestID := clip(r.Header.Get(RequestIDHeader))
	operationID := clip(r.Header.Get(OperationIDHeader))
	if requestID == "" {
		requestID = randomID()
	}
	name := Unrouted
	status, document, headers := a.handle(r, rawPath, &name)
	writeJSON(w, status, document, headers)
	ok := int64(0)
	if status < 400 {
		ok = 1
	}
	a.Counters.Record(name, operationID, 1, ok)
	if a.settings.AccessLog {
		code := "OK"
		if doc, isDoc := document.(StatusDocument); isDoc && status >= 400 {
			code = doc.codeName()
		}
		a.log.Access(name, code, time.Since(started), r.RemoteAddr, requestID, operationID, "")
	}
}

func (a *App) handle(r *http.Request, rawPath string, name *string) (int, any, map[string]string) {
	route, params, err := a.route(r.Method, rawPath)
	if err != nil {
		return a.failed(err, *name)
	}
	*name = route.Name()
	timeout, err := a.timeout(r.Header.Get(TimeoutHeader))
	if err != nil {
		return a.failed(err, *name)
	}
	body, err := a.body(r)
	if err != nil {
		return a.failed(err, *name)
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	document, err := a.run(route, &Request{Context: ctx, Params: params, Body: body})
	if err == nil && ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = ctx.Err()
	}
	if err != nil {
		return a.failed(err, *name)
	}
	return http.StatusOK, document, nil
}

// run calls the handler; a panic becomes an error reported as INTERNAL.
func (a *App) run(route *Route, request *Request) (document any, err error) {
	defer func() {
		if recovered := recover(); recovered != nil {
			err = fmt.Errorf("panic: %v", recovered)
		}
	}()
	return route.Handler(request)
}

func (a *App) failed(err error, where string) (int, any, map[string]string) {
	var f *failure
	if errors.As(err, &f) {
		return f.status, f.document, f.headers
	}
	var domain *domainerr.Error
	switch {
	case errors.As(err, &domain):
	case errors.Is(err, context.DeadlineExceeded):
		domain = &domainerr.Error{Kind: domainerr.DeadlineExceeded, Message: "deadline exceeded", Reason: "DEADLINE_EXCEEDED"}
	case errors.Is(err, context.Canceled):
		domain = &domainerr.Error{Kind: domainerr.Cancelled, Message: "the client went away", Reason: "CLIENT_DISCONNECTED"}
	default:
		domain = a.Unexpected(err, where)
	}
	document := Document(domain)
	var headers map[string]string
	if after := retryAfter(domain); after != "" {
		headers = map[string]string{"Retry-After": after}
	}
	return document.HTTPStatus(), document, headers
}

func (a *App) route(method, rawPath string) (*Route, map[string]string, error) {
	route, params, allowed, err := a.router.match(method, rawPath)
	if err != nil {
		return nil, nil, &failure{status: 400, document: problem(3, "path is not UTF-8", "BAD_PATH")}
	}
	if route != nil {
		return route, params, nil
	}
	if len(allowed) > 0 {
		allow := strings.Join(unique(allowed), ", ")
		return nil, nil, &failure{
			status:   405,
			document: problem(12, fmt.Sprintf("method %s not allowed here; allowed: %s", method, allow), "METHOD_NOT_ALLOWED"),
			headers:  map[string]string{"Allow": allow},
		}
	}
	return nil, nil, &failure{status: 404, document: problem(5, fmt.Sprintf("no route for %s %s", method, rawPath), "NO_ROUTE")}
}

func (a *App) timeout(header string) (time.Duration, error) {
	if header == "" {
		return a.settings.DefaultDeadline, nil
	}
	if len(header) > 9 || !digits(header) {
		return 0, &failure{status: 400, document: problem(3, "x-request-timeout-ms must be a whole number of milliseconds", "BAD_TIMEOUT")}
	}
	ms, _ := strconv.Atoi(header)
	return time.Duration(ms) * time.Millisecond, nil
}

func (a *App) body(r *http.Request) ([]byte, error) {
	limit := a.settings.MaxBodyBytes
	tooLarge := &failure{status: 413, document: problem(8, fmt.Sprintf("request body over %d bytes", limit), "BODY_TOO_LARGE")}
	if r.ContentLength > int64(limit) {
		return nil, tooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, &domainerr.Error{Kind: domainerr.Cancelled, Message: "the client went away", Reason: "CLIENT_DISCONNECTED"}
	}
	if len(body) > limit {
		return nil, tooLarge
	}
	if media := mediaType(r.Header.Get("Content-Type")); len(body) > 0 && media != "application/json" {
		if media == "" {
			media = "no content type"
		}
		return nil, &failure{status: 415, document: problem(3, "request body must be application/json, got "+media, "UNSUPPORTED_MEDIA_TYPE")}
	}
	return body, nil
}

type plainHealth struct {
	Service  string `json:"service"`
	Status   string `json:"status"`
	Draining bool   `json:"draining"`
}

func (a *App) answerPlain(w http.ResponseWriter, method, path string) {
	if method != http.MethodGet && method != http.MethodHead {
		writeJSON(w, http.StatusMethodNotAllowed, problem(12, "only GET", "METHOD_NOT_ALLOWED"), map[string]string{"Allow": "GET, HEAD"})
		return
	}
	if path == "/metrics" {
		writeJSON(w, http.StatusOK, a.Counters.Document(a.settings.Service), nil)
		return
	}
	draining := a.draining.Load()
	document := plainHealth{a.settings.Service, "SERVING", draining}
	status := http.StatusOK
	if draining {
		document.Status = "NOT_SERVING"
		if path == "/readyz" {
			status = http.StatusServiceUnavailable
		}
	}
	writeJSON(w, status, document, nil)
}

func writeJSON(w http.ResponseWriter, status int, document any, headers map[string]string) {
	body, err := json.Marshal(document)
	if err != nil {
		body, status = []byte(`{"code":13,"message":"unencodable response","details":[]}`), 500
	}
	header := w.Header()
	header.Set("Content-Type", "application/json")
	header.Set("Content-Length", strconv.Itoa(len(body)))
	for key, value := range headers {
		header.Set(key, value)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func clip(value string) string {
	if len(value) > 128 {
		return value[:128]
	}
	return value
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func unique(values []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

func randomID() string {
	var raw [16]byte
	_, _ = io.ReadFull(randReader, raw[:])
	return fmt.Sprintf("%x", raw)
}

// Host is a running REST service.
type Host struct {
	App    *App
	server *http.Server
	Port   int
}

// serverKeepalive is longer than the REST clients keep idle connections (30 s), so a
// client never reuses a connection the server is closing at that moment.
const serverKeepalive = 45 * time.Second

// Start listens on settings' port and serves routes.
func Start(settings Settings, log *logs.Logger, routes []Route, unexpected func(error, string) *domainerr.Error) (*Host, error) {
	listener, err := listen.TCP(settings.Host, settings.Port)
	if err != nil {
		return nil, fmt.Errorf("cannot listen for REST on %s:%d: %s", settings.Host, settings.Port, listen.Strerror(err))
	}
	app := NewApp(settings, log, routes, unexpected)
	h := &Host{
		App: app,
		server: &http.Server{
			Handler: app, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: serverKeepalive,
			MaxHeaderBytes: 64 * 1024,
		},
		Port: listen.Port(listener),
	}
	go func() { _ = h.server.Serve(listener) }() // returns once shut down
	log.Info("shopmesh.server", "serving", logs.F("rest_port", h.Port), logs.F("transport", "rest"))
	return h, nil
}

// Stop drains as the gRPC host does: /readyz 503 at once, the drain delay, then the
// listener and idle keep-alive connections close and requests in flight get the grace.
func (h *Host) Stop(drainDelay, grace time.Duration, log *logs.Logger) {
	log.Info("shopmesh.server", "draining", logs.F("drain_delay_s", drainDelay.Seconds()), logs.F("grace_s", grace.Seconds()))
	h.App.Drain()
	time.Sleep(drainDelay)
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := h.server.Shutdown(ctx); err != nil {
		_ = h.server.Close()
	}
}
