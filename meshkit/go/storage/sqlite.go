// Package storage is the Go twin of meshkit/storage/sqlite.py: one SQLite connection with
// the project's durability settings (WAL, synchronous=NORMAL, foreign keys on, a 5 s busy
// timeout as Python's sqlite3 default), a schema created and seeded only when the file is
// new (PRAGMA user_version), and units of work that commit whole or not at all — writes
// in BEGIN IMMEDIATE, so a unit takes the write lock before it reads what it checks.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	_ "modernc.org/sqlite" // the pure-Go driver, registered as "sqlite"
)

// SchemaVersion is stored in PRAGMA user_version once the schema exists.
const SchemaVersion = 1

// Seeder fills a freshly created database inside the transaction that created its schema.
type Seeder func(ctx context.Context, tx *sql.Conn) error

// Database is one connection, serialised by a lock (safe for concurrent use).
type Database struct {
	mu   sync.Mutex
	db   *sql.DB
	conn *sql.Conn
}

// Open opens (creating when missing) the file at path, and creates the schema and runs
// seed when the file is new; ":memory:" for tests.
func Open(ctx context.Context, path string, schema []string, seed Seeder) (*Database, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("cannot open %s: %w", path, err)
	}
	d := &Database{db: db, conn: conn}
	for _, pragma := range []string{"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=5000"} {
		if _, err := conn.ExecContext(ctx, pragma); err != nil {
			d.Close()
			return nil, fmt.Errorf("cannot open %s: %w", path, err)
		}
	}
	err = d.Run(ctx, true, func(conn *sql.Conn) error {
		var version int
		if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
			return err
		}
		if version != 0 {
			return nil
		}
		for _, statement := range schema {
			if _, err := conn.ExecContext(ctx, statement); err != nil {
				return err
			}
		}
		if seed != nil {
			if err := seed(ctx, conn); err != nil {
				return err
			}
		}
		_, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion))
		return err
	})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("cannot open %s: %w", path, err)
	}
	return d, nil
}

// Run runs work in one transaction, committed only if it returns nil: BEGIN IMMEDIATE
// for writes, a deferred BEGIN (a consistent snapshot) for reads. A panic rolls back too.
func (d *Database) Run(ctx context.Context, write bool, work func(*sql.Conn) error) (err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	begin := "BEGIN"
	if write {
		begin = "BEGIN IMMEDIATE"
	}
	// The statements of a unit run on a background context: a caller that goes away must
	// not leave the connection inside a half-done transaction.
	background := context.WithoutCancel(ctx)
	if _, err := d.conn.ExecContext(background, begin); err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			_, rollbackErr := d.conn.ExecContext(background, "ROLLBACK")
			err = errors.Join(err, rollbackErr)
		}
	}()
	if err := work(d.conn); err != nil {
		return err
	}
	if _, err := d.conn.ExecContext(background, "COMMIT"); err != nil {
		return err
	}
	committed = true
	return nil
}

// Close closes the connection; the Database is unusable afterwards.
func (d *Database) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	_ = d.conn.Close()
	_ = d.db.Close()
}
