// Package logs writes the JSON log lines of meshkit/runtime/logs.py: one object per line
// on stderr with ts, level, service, logger and msg, then the line's own fields, and the
// active trace id when there is one. The access log has the same fields as the Python
// access log, so tools read the lines of both implementations alike.
package logs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/shopmesh/shopmesh/meshkit/go/pytext"
)

// Levels by name, as Python's logging numbers them.
var Levels = map[string]int{"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}

// Field is one extra key of a line.
type Field struct {
	Key   string
	Value any
}

// F is a Field.
func F(key string, value any) Field { return Field{key, value} }

// Logger writes JSON lines for one service; safe for concurrent use (one write a line).
type Logger struct {
	service []byte
	level   int
	mu      sync.Mutex
	out     io.Writer
}

// New is a logger of service writing lines at level (a Levels name) or above to out.
func New(service, level string, out io.Writer) *Logger {
	number, ok := Levels[strings.ToUpper(level)]
	if !ok {
		number = Levels["INFO"]
	}
	return &Logger{service: quote(service), level: number, out: out}
}

// Enabled says whether lines of this level are written.
func (l *Logger) Enabled(level string) bool { return Levels[level] >= l.level }

// Log writes one line of level from the named logger.
func (l *Logger) Log(level, logger, msg string, fields ...Field) {
	if !l.Enabled(level) {
		return
	}
	var b bytes.Buffer
	b.WriteString(`{"ts": "`)
	b.WriteString(Timestamp(time.Now()))
	fmt.Fprintf(&b, `", "level": "%s", "service": %s, "logger": %s, "msg": %s`, level, l.service, quote(logger), quote(msg))
	for _, f := range fields {
		fmt.Fprintf(&b, ", %s: %s", quote(f.Key), value(f.Value))
	}
	b.WriteString("}\n")
	l.write(b.Bytes())
}

func (l *Logger) write(line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.out.Write(line)
}

// Info, Error: the levels the runtime writes.
func (l *Logger) Info(logger, msg string, fields ...Field) { l.Log("INFO", logger, msg, fields...) }

// Error writes an ERROR line.
func (l *Logger) Error(logger, msg string, fields ...Field) { l.Log("ERROR", logger, msg, fields...) }

// Access writes one access-log line (logger shopmesh.access, msg rpc) for a call.
func (l *Logger) Access(method, code string, duration time.Duration, peer, requestID, operationID, traceID string) {
	var b bytes.Buffer
	b.WriteString(`{"ts": "`)
	b.WriteString(Timestamp(time.Now()))
	fmt.Fprintf(&b, `", "level": "INFO", "service": %s, "logger": "shopmesh.access", "msg": "rpc", `, l.service)
	fmt.Fprintf(&b, `"rpc_method": %s, "grpc_code": "%s", "duration_ms": %.3f, "peer": %s, "request_id": %s, "operation_id": %s`,
		quote(method), code, float64(duration.Nanoseconds())/1e6, quote(peer), quote(requestID), quote(operationID))
	if traceID != "" {
		fmt.Fprintf(&b, `, "trace_id": "%s"`, traceID)
	}
	b.WriteString("}\n")
	l.write(b.Bytes())
}

// Timestamp is the log time format: UTC to the millisecond, "2026-01-02T03:04:05.678Z".
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func quote(s string) []byte {
	encoded, _ := json.Marshal(s)
	return encoded
}

func value(v any) []byte {
	if number, ok := v.(float64); ok {
		return []byte(pytext.Float(number)) // 5.0, not 5: as Python's json writes a float
	}
	encoded, err := json.Marshal(v)
	if err != nil {
		return quote(fmt.Sprint(v))
	}
	return encoded
}
