// Package inventory is the Go twin of services/inventory/domain.py: stock levels and
// idempotent reservations. Every mutation is one unit of work of the store, so a check
// ("enough units?") and the change it guards commit together or not at all. Batch limits
// and per-item outcomes live here, shared by the gRPC and REST faces. No transport here.
package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopmesh/shopmesh/meshkit/go/domainerr"
	"github.com/shopmesh/shopmesh/meshkit/go/pytext"
	kernel "github.com/shopmesh/shopmesh/services/kernel/go"
)

// Limits, as in the Python domain.
const (
	MaxKeyLength         = 200
	MaxReserveQuantity   = 10_000
	MaxRestockQuantity   = 1_000_000
	MaxBatchReservations = 1000   // per BatchReserve call (a stream has no limit)
	MaxRestockDeliveries = 10_000 // lines of one delivery note, committed as one unit
)

// State is whether a reservation's units are held or went back to stock.
type State string

// The two states, stored and sent by these names.
const (
	Held     State = "HELD"
	Released State = "RELEASED"
)

// Reservation is units of one SKU held under a caller's idempotency key.
type Reservation struct {
	Key        string
	SKU        string
	Quantity   int64
	State      State
	CreateTime time.Time
}

// Stock is units of one SKU that can be reserved, and units held by reservations.
type Stock struct {
	SKU       string
	Available int64
	Reserved  int64
}

// Records are the reads and writes inside one unit of work.
type Records interface {
	Stock(sku string) (Stock, bool, error)
	MoveStock(sku string, availableDelta, reservedDelta int64) (Stock, error)
	Reservation(key string) (Reservation, bool, error)
	AddReservation(reservation Reservation) error
	SetState(key string, state State) error
}

// Store runs units of work: what work writes commits all together, or (when it returns
// an error) not at all; write=false reads a consistent view.
type Store interface {
	Run(ctx context.Context, write bool, work func(Records) error) error
}

// Wanted is one line of a batch: hold Quantity units of SKU under Key.
type Wanted struct {
	Key      string
	SKU      string
	Quantity int64
}

// Delivery is one line of a delivery note.
type Delivery struct {
	SKU      string
	Quantity int64
}

// Inventory is stock and reservations over a Store.
type Inventory struct {
	store Store
	clock func() time.Time
}

// New is an inventory over store; clock gives the time of new reservations.
func New(store Store, clock func() time.Time) *Inventory {
	return &Inventory{store: store, clock: clock}
}

// GetStock is the stock of sku; InvalidArgument if malformed, NotFound if unknown.
func (i *Inventory) GetStock(ctx context.Context, sku string) (Stock, error) {
	var found kernel.Violations
	found.Add(kernel.SKUViolation(sku, "sku"))
	if err := found.Err(); err != nil {
		return Stock{}, err
	}
	var stock Stock
	err := i.store.Run(ctx, false, func(records Records) (err error) {
		stock, err = stockOf(records, sku)
		return err
	})
	return stock, err
}

// Reserve holds quantity units of sku under key. Repeating a key with the same SKU and
// quantity returns the stored reservation (released since or not) and changes nothing;
// the same key with another SKU or quantity is IDEMPOTENCY_KEY_REUSED.
func (i *Inventory) Reserve(ctx context.Context, key, sku string, quantity int64) (Reservation, error) {
	var found kernel.Violations
	found.Add(kernel.TextViolation(key, "reservation_key", MaxKeyLength))
	found.Add(kernel.SKUViolation(sku, "sku"))
	found.Add(kernel.RangeViolation(quantity, "quantity", 1, MaxReserveQuantity))
	if err := found.Err(); err != nil {
		return Reservation{}, err
	}
	// Python's datetime keeps microseconds; so does a reservation here, so both
	// implementations send the same create_time precision.
	now := i.clock().UTC().Truncate(time.Microsecond)
	var reservation Reservation
	err := i.store.Run(ctx, true, func(records Records) error {
		existing, ok, err := records.Reservation(key)
		if err != nil {
			return err
		}
		if ok {
			if existing.SKU != sku || existing.Quantity != quantity {
				return kernel.IdempotencyKeyReused("reservation_key", fmt.Sprintf("%d x %s", existing.Quantity, existing.SKU))
			}
			reservation = existing
			return nil
		}
		stock, err := stockOf(records, sku)
		if err != nil {
			return err
		}
		if stock.Available < quantity {
			return &domainerr.Error{
				Kind:    domainerr.FailedPrecondition,
				Message: fmt.Sprintf("only %d units of %s left, %d requested", stock.Available, sku, quantity),
				Reason:  "INSUFFICIENT_STOCK",
				Metadata: map[string]string{
					"sku": sku, "available": fmt.Sprint(stock.Available), "requested": fmt.Sprint(quantity),
				},
			}
		}
		reservation = Reservation{key, sku, quantity, Held, now}
		if err := records.AddReservation(reservation); err != nil {
			return err
		}
		_, err = records.MoveStock(sku, -quantity, quantity)
		return err
	})
	return reservation, err
}

// Outcome is one line's result: the reservation, or the error of that line alone.
type Outcome struct {
	Reservation Reservation
	Err         error
}

// ReserveEach reserves each line in turn, one outcome per line in order: a line that
// cannot be reserved fails only itself (a domain error), so a caller knows exactly which
// reservations to compensate. Any other failure ends the batch.
func (i *Inventory) ReserveEach(ctx context.Context, wanted []Wanted) ([]Outcome, error) {
	if len(wanted) > MaxBatchReservations {
		return nil, tooMany("reservations", MaxBatchReservations)
	}
	outcomes := make([]Outcome, 0, len(wanted))
	for _, line := range wanted {
		reservation, err := i.Reserve(ctx, line.Key, line.SKU, line.Quantity)
		if err != nil && !IsDomain(err) {
			return nil, err
		}
		outcomes = append(outcomes, Outcome{reservation, err})
	}
	return outcomes, nil
}

// GetReservation is the reservation stored under key, held or released; NotFound if none
// was made under it.
func (i *Inventory) GetReservation(ctx context.Context, key string) (Reservation, error) {
	var found kernel.Violations
	found.Add(kernel.TextViolation(key, "reservation_key", MaxKeyLength))
	if err := found.Err(); err != nil {
		return Reservation{}, err
	}
	var reservation Reservation
	err := i.store.Run(ctx, false, func(records Records) (err error) {
		reservation, err = reservationOf(records, key)
		return err
	})
	return reservation, err
}

// Release returns a reservation's units to stock; a released one is returned as is.
func (i *Inventory) Release(ctx context.Context, key string) (Reservation, error) {
	var found kernel.Violations
	found.Add(kernel.TextViolation(key, "reservation_key", MaxKeyLength))
	if err := found.Err(); err != nil {
		return Reservation{}, err
	}
	var reservation Reservation
	err := i.store.Run(ctx, true, func(records Records) error {
		existing, err := reservationOf(records, key)
		if err != nil {
			return err
		}
		reservation = existing
		if existing.State == Released {
			return nil
		}
		if err := records.SetState(key, Released); err != nil {
			return err
		}
		if _, err := records.MoveStock(existing.SKU, existing.Quantity, -existing.Quantity); err != nil {
			return err
		}
		reservation.State = Released
		return nil
	})
	return reservation, err
}

// RestockMany applies a delivery note all at once or not at all: every line is checked
// first (violations name "deliveries[i].sku"/".quantity"), then all are added in one unit.
func (i *Inventory) RestockMany(ctx context.Context, deliveries []Delivery) ([]Stock, error) {
	if err := CheckDeliveryCount(len(deliveries)); err != nil {
		return nil, err
	}
	var found kernel.Violations
	for index, d := range deliveries {
		prefix := fmt.Sprintf("deliveries[%d].", index)
		found.Add(kernel.SKUViolation(d.SKU, prefix+"sku"))
		found.Add(kernel.RangeViolation(d.Quantity, prefix+"quantity", 1, MaxRestockQuantity))
	}
	if err := found.Err(); err != nil {
		return nil, err
	}
	stocks := make([]Stock, 0, len(deliveries))
	err := i.store.Run(ctx, true, func(records Records) error {
		stocks = stocks[:0] // a store may run a unit again
		for _, d := range deliveries {
			if _, err := stockOf(records, d.SKU); err != nil { // an unknown SKU is NotFound
				return err
			}
			stock, err := records.MoveStock(d.SKU, d.Quantity, 0)
			if err != nil {
				return err
			}
			stocks = append(stocks, stock)
		}
		return nil
	})
	return stocks, err
}

// CheckDeliveryCount is InvalidArgument once a note has more lines than one call may
// carry; a streaming adapter calls it as lines arrive, so it stops reading at the limit.
func CheckDeliveryCount(count int) error {
	if count > MaxRestockDeliveries {
		return tooMany("deliveries", MaxRestockDeliveries)
	}
	return nil
}

func tooMany(field string, limit int) error {
	return domainerr.Invalid("INVALID_ARGUMENT", domainerr.FieldViolation{Field: field, Description: fmt.Sprintf("at most %d per call", limit)})
}

func reservationOf(records Records, key string) (Reservation, error) {
	reservation, ok, err := records.Reservation(key)
	if err != nil {
		return Reservation{}, err
	}
	if !ok {
		return Reservation{}, domainerr.Missing(fmt.Sprintf("no reservation under key %s", pytext.Repr(key)),
			"RESERVATION_NOT_FOUND", "reservation", key)
	}
	return reservation, nil
}

func stockOf(records Records, sku string) (Stock, error) {
	stock, ok, err := records.Stock(sku)
	if err != nil {
		return Stock{}, err
	}
	if !ok {
		return Stock{}, domainerr.Missing(fmt.Sprintf("product %s is not stocked", sku), "PRODUCT_NOT_FOUND", "product", sku)
	}
	return stock, nil
}

// IsDomain says whether err is a domain error (one line's outcome) rather than a failure.
func IsDomain(err error) bool {
	_, ok := AsDomain(err)
	return ok
}

// AsDomain is err as a domain error.
func AsDomain(err error) (*domainerr.Error, bool) {
	var domain *domainerr.Error
	ok := errors.As(err, &domain)
	return domain, ok
}
