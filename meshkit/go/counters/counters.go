// Package counters tallies what a server received and sent, per method and per operation
// id (x-operation-id), as meshkit/runtime/counters.py does; GET /metrics serves the
// snapshot in the same JSON shape, which the load test reads from every hop.
package counters

import (
	"container/list"
	"sync"
)

// DefaultMaxOperations bounds the per-operation tallies; the oldest are forgotten first.
const DefaultMaxOperations = 10_000

// Tally is calls and messages of one method or operation.
type Tally struct {
	Calls       int64 `json:"calls"`
	MessagesIn  int64 `json:"messages_in"`
	MessagesOut int64 `json:"messages_out"`
}

func (t *Tally) add(in, out int64) {
	t.Calls++
	t.MessagesIn += in
	t.MessagesOut += out
}

type operation struct {
	id    string
	tally Tally
}

// Counters is safe for concurrent use.
type Counters struct {
	mu            sync.Mutex
	maxOperations int
	methods       map[string]*Tally
	operations    map[string]*list.Element
	order         *list.List // oldest first
}

// New counters keeping at most maxOperations operation tallies.
func New(maxOperations int) *Counters {
	return &Counters{
		maxOperations: maxOperations,
		methods:       map[string]*Tally{},
		operations:    map[string]*list.Element{},
		order:         list.New(),
	}
}

// Record counts one call of method under operationID ("" for none).
func (c *Counters) Record(method, operationID string, messagesIn, messagesOut int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tally, ok := c.methods[method]
	if !ok {
		tally = &Tally{}
		c.methods[method] = tally
	}
	tally.add(messagesIn, messagesOut)
	if operationID == "" {
		return
	}
	element, ok := c.operations[operationID]
	if !ok {
		element = c.order.PushBack(&operation{id: operationID})
		c.operations[operationID] = element
		if c.order.Len() > c.maxOperations {
			oldest := c.order.Front()
			c.order.Remove(oldest)
			delete(c.operations, oldest.Value.(*operation).id)
		}
	}
	element.Value.(*operation).tally.add(messagesIn, messagesOut)
}

// Snapshot is {"methods": {name: tally}, "operations": {id: tally}}.
type Snapshot struct {
	Methods    map[string]Tally `json:"methods"`
	Operations map[string]Tally `json:"operations"`
}

// Snapshot copies the tallies.
func (c *Counters) Snapshot() Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	snapshot := Snapshot{Methods: map[string]Tally{}, Operations: map[string]Tally{}}
	for name, tally := range c.methods {
		snapshot.Methods[name] = *tally
	}
	for element := c.order.Front(); element != nil; element = element.Next() {
		op := element.Value.(*operation)
		snapshot.Operations[op.id] = op.tally
	}
	return snapshot
}

// Document is the /metrics JSON body: {"service", "methods", "operations"}.
type Document struct {
	Service string `json:"service"`
	Snapshot
}

// Document is the snapshot under the service's name.
func (c *Counters) Document(service string) Document {
	return Document{Service: service, Snapshot: c.Snapshot()}
}
