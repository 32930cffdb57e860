// Package sqlitestore keeps inventory's stock and reservations in SQLite, with the schema
// of services/inventory/sqlite_store.py, in a file of its own (FileName) beside the
// Python service's.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/shopmesh/shopmesh/meshkit/go/storage"
	"github.com/shopmesh/shopmesh/services/inventory/go/inventory"
)

// FileName is the Go implementation's database in SHOPMESH_DATA_DIR; the Python one's is
// inventory.sqlite3, and the two never share a file.
const FileName = "inventory-go.sqlite3"

var schema = []string{
	`CREATE TABLE stock (
        sku TEXT PRIMARY KEY,
        available INTEGER NOT NULL CHECK (available >= 0),
        reserved INTEGER NOT NULL CHECK (reserved >= 0)
    )`,
	`CREATE TABLE reservations (
        reservation_key TEXT PRIMARY KEY,
        sku TEXT NOT NULL REFERENCES stock (sku),
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        state TEXT NOT NULL,
        create_time TEXT NOT NULL
    )`,
}

// Store is stock and reservations in one SQLite file (":memory:" for tests).
type Store struct{ db *storage.Database }

// Open opens path; a new file is seeded with initial (SKU -> units, in order).
func Open(ctx context.Context, path string, initial []inventory.Stock) (*Store, error) {
	seed := func(ctx context.Context, conn *sql.Conn) error {
		for _, stock := range initial {
			if _, err := conn.ExecContext(ctx, "INSERT INTO stock VALUES (?, ?, 0)", stock.SKU, stock.Available); err != nil {
				return err
			}
		}
		return nil
	}
	db, err := storage.Open(ctx, path, schema, seed)
	if err != nil {
		return nil, err
	}
	return &Store{db}, nil
}

// Run runs work as one transaction of the database.
func (s *Store) Run(ctx context.Context, write bool, work func(inventory.Records) error) error {
	return s.db.Run(ctx, write, func(conn *sql.Conn) error {
		return work(&records{ctx: context.WithoutCancel(ctx), conn: conn})
	})
}

// Close closes the database.
func (s *Store) Close() { s.db.Close() }

type records struct {
	ctx  context.Context
	conn *sql.Conn
}

func (r *records) Stock(sku string) (inventory.Stock, bool, error) {
	stock := inventory.Stock{SKU: sku}
	err := r.conn.QueryRowContext(r.ctx, "SELECT available, reserved FROM stock WHERE sku = ?", sku).Scan(&stock.Available, &stock.Reserved)
	if errors.Is(err, sql.ErrNoRows) {
		return inventory.Stock{}, false, nil
	}
	return stock, err == nil, err
}

func (r *records) MoveStock(sku string, availableDelta, reservedDelta int64) (inventory.Stock, error) {
	stock := inventory.Stock{SKU: sku}
	err := r.conn.QueryRowContext(r.ctx,
		"UPDATE stock SET available = available + ?, reserved = reserved + ? WHERE sku = ? RETURNING available, reserved",
		availableDelta, reservedDelta, sku).Scan(&stock.Available, &stock.Reserved)
	return stock, err
}

func (r *records) Reservation(key string) (inventory.Reservation, bool, error) {
	var reservation inventory.Reservation
	var state, created string
	err := r.conn.QueryRowContext(r.ctx,
		"SELECT reservation_key, sku, quantity, state, create_time FROM reservations WHERE reservation_key = ?", key,
	).Scan(&reservation.Key, &reservation.SKU, &reservation.Quantity, &state, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return inventory.Reservation{}, false, nil
	}
	if err != nil {
		return inventory.Reservation{}, false, err
	}
	reservation.State = inventory.State(state)
	reservation.CreateTime, err = decodeTime(created)
	return reservation, err == nil, err
}

func (r *records) AddReservation(reservation inventory.Reservation) error {
	_, err := r.conn.ExecContext(r.ctx, "INSERT INTO reservations VALUES (?, ?, ?, ?, ?)",
		reservation.Key, reservation.SKU, reservation.Quantity, string(reservation.State), EncodeTime(reservation.CreateTime))
	return err
}

func (r *records) SetState(key string, state inventory.State) error {
	_, err := r.conn.ExecContext(r.ctx, "UPDATE reservations SET state = ? WHERE reservation_key = ?", string(state), key)
	return err
}

// EncodeTime writes a time as Python's datetime.isoformat() of an aware UTC datetime
// ("2026-01-02T03:04:05.123456+00:00", no fraction when it is zero), as the Python store
// keeps it (meshkit/storage/times.py).
func EncodeTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05+00:00")
	}
	return t.Format("2006-01-02T15:04:05.000000+00:00")
}

func decodeTime(text string) (time.Time, error) {
	return time.Parse("2006-01-02T15:04:05.999999-07:00", text)
}
