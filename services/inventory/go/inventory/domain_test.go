package inventory_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shopmesh/shopmesh/meshkit/go/domainerr"
	"github.com/shopmesh/shopmesh/services/inventory/go/inventory"
	"github.com/shopmesh/shopmesh/services/inventory/go/sqlitestore"
)

var ctx = context.Background()

var initial = []inventory.Stock{{SKU: "SKU-00001", Available: 10}, {SKU: "SKU-00002", Available: 5}}

func open(t *testing.T, path string) *sqlitestore.Store {
	t.Helper()
	store, err := sqlitestore.Open(ctx, path, initial)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	return store
}

func fresh(t *testing.T) (*inventory.Inventory, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), sqlitestore.FileName)
	return inventory.New(open(t, path), time.Now), path
}

func reason(t *testing.T, err error) string {
	t.Helper()
	var de *domainerr.Error
	if !errors.As(err, &de) {
		t.Fatalf("want a domain error, got %v", err)
	}
	return de.Reason
}

func stock(t *testing.T, inv *inventory.Inventory, sku string) inventory.Stock {
	t.Helper()
	s, err := inv.GetStock(ctx, sku)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestReserveIsIdempotentByKey: a repeated key returns the first reservation and moves no stock; another request under it is refused.
func TestReserveIsIdempotentByKey(t *testing.T) {
	inv, _ := fresh(t)
	first, err := inv.Reserve(ctx, "k", "SKU-00001", 3)
	if err != nil {
		t.Fatal(err)
	}
	again, err := inv.Reserve(ctx, "k", "SKU-00001", 3)
	if err != nil || !again.CreateTime.Equal(first.CreateTime) {
		t.Fatalf("replay: %+v %v", again, err)
	}
	if got := stock(t, inv, "SKU-00001"); got.Available != 7 || got.Reserved != 3 {
		t.Fatalf("stock %+v", got)
	}
	if _, err := inv.Reserve(ctx, "k", "SKU-00001", 4); reason(t, err) != "IDEMPOTENCY_KEY_REUSED" {
		t.Fatal(err)
	}
}

// TestReserveRefusesMoreThanAvailable: INSUFFICIENT_STOCK names what is left, and nothing moves.
func TestReserveRefusesMoreThanAvailable(t *testing.T) {
	inv, _ := fresh(t)
	_, err := inv.Reserve(ctx, "k", "SKU-00002", 6)
	var de *domainerr.Error
	if !errors.As(err, &de) || de.Reason != "INSUFFICIENT_STOCK" || de.Metadata["available"] != "5" || de.Kind != domainerr.FailedPrecondition {
		t.Fatalf("%+v", err)
	}
	if got := stock(t, inv, "SKU-00002"); got.Available != 5 || got.Reserved != 0 {
		t.Fatalf("stock moved: %+v", got)
	}
}

// TestReleaseReturnsUnitsExactlyOnce: a second release changes nothing; an unknown key is RESERVATION_NOT_FOUND.
func TestReleaseReturnsUnitsExactlyOnce(t *testing.T) {
	inv, _ := fresh(t)
	if _, err := inv.Reserve(ctx, "k", "SKU-00001", 4); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		released, err := inv.Release(ctx, "k")
		if err != nil || released.State != inventory.Released {
			t.Fatalf("%+v %v", released, err)
		}
	}
	if got := stock(t, inv, "SKU-00001"); got.Available != 10 || got.Reserved != 0 {
		t.Fatalf("stock %+v", got)
	}
	if _, err := inv.Release(ctx, "nope"); reason(t, err) != "RESERVATION_NOT_FOUND" {
		t.Fatal(err)
	}
}

// TestRestockAppliesTheWholeNoteOrNothing: a note with an unknown SKU moves no stock at all.
func TestRestockAppliesTheWholeNoteOrNothing(t *testing.T) {
	inv, _ := fresh(t)
	_, err := inv.RestockMany(ctx, []inventory.Delivery{{SKU: "SKU-00001", Quantity: 5}, {SKU: "SKU-99999", Quantity: 1}})
	if reason(t, err) != "PRODUCT_NOT_FOUND" {
		t.Fatal(err)
	}
	if got := stock(t, inv, "SKU-00001"); got.Available != 10 {
		t.Fatalf("partial restock: %+v", got)
	}
	_, err = inv.RestockMany(ctx, []inventory.Delivery{{SKU: "SKU-00001", Quantity: 5}, {SKU: "bad", Quantity: 0}})
	var de *domainerr.Error
	if !errors.As(err, &de) || len(de.Violations) != 2 || de.Violations[0].Field != "deliveries[1].sku" {
		t.Fatalf("%+v", err)
	}
	if _, err := inv.RestockMany(ctx, []inventory.Delivery{{SKU: "SKU-00001", Quantity: 5}, {SKU: "SKU-00001", Quantity: 1}}); err != nil {
		t.Fatal(err)
	}
	if got := stock(t, inv, "SKU-00001"); got.Available != 16 {
		t.Fatalf("stock %+v", got)
	}
	if err := inventory.CheckDeliveryCount(inventory.MaxRestockDeliveries + 1); err == nil {
		t.Fatal("a note over the limit was accepted")
	}
}

// TestReserveEachFailsOnlyTheBadLine: one outcome per line, in order; over 1000 lines is refused whole.
func TestReserveEachFailsOnlyTheBadLine(t *testing.T) {
	inv, _ := fresh(t)
	outcomes, err := inv.ReserveEach(ctx, []inventory.Wanted{{Key: "a", SKU: "SKU-00001", Quantity: 1}, {Key: "b", SKU: "SKU-00001", Quantity: 100}, {Key: "c", SKU: "SKU-00002", Quantity: 1}})
	if err != nil || len(outcomes) != 3 || outcomes[0].Err != nil || outcomes[1].Err == nil || outcomes[2].Err != nil {
		t.Fatalf("%+v %v", outcomes, err)
	}
	if _, err := inv.ReserveEach(ctx, make([]inventory.Wanted, inventory.MaxBatchReservations+1)); reason(t, err) != "INVALID_ARGUMENT" {
		t.Fatal(err)
	}
}

// TestConcurrentReservesNeverOversell: goroutines on two connections to one file never hold more units than stocked.
func TestConcurrentReservesNeverOversell(t *testing.T) {
	_, path := fresh(t)
	stores := []*inventory.Inventory{inventory.New(open(t, path), time.Now), inventory.New(open(t, path), time.Now)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	held := 0
	for n := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "k" + string(rune('A'+n%26)) + string(rune('a'+n/26))
			if _, err := stores[n%2].Reserve(ctx, key, "SKU-00002", 1); err == nil {
				mu.Lock()
				held++
				mu.Unlock()
			} else if reason(t, err) != "INSUFFICIENT_STOCK" {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := stock(t, stores[0], "SKU-00002"); held != 5 || got.Available != 0 || got.Reserved != 5 {
		t.Fatalf("held %d, stock %+v", held, got)
	}
}

// TestReopeningKeepsDataAndNeverReseeds: a second open of the file sees the first's writes, not the seed.
func TestReopeningKeepsDataAndNeverReseeds(t *testing.T) {
	inv, path := fresh(t)
	if _, err := inv.Reserve(ctx, "k", "SKU-00001", 2); err != nil {
		t.Fatal(err)
	}
	again := inventory.New(open(t, path), time.Now)
	if got := stock(t, again, "SKU-00001"); got.Available != 8 || got.Reserved != 2 {
		t.Fatalf("stock %+v", got)
	}
	r, err := again.Reserve(ctx, "k", "SKU-00001", 2)
	if err != nil || r.State != inventory.Held || r.CreateTime.Nanosecond()%1000 != 0 {
		t.Fatalf("%+v %v", r, err)
	}
}

// TestValidationNamesEveryField: a reservation with every field wrong lists each, as the Python domain does.
func TestValidationNamesEveryField(t *testing.T) {
	inv, _ := fresh(t)
	_, err := inv.Reserve(ctx, "", "bad", 0)
	var de *domainerr.Error
	if !errors.As(err, &de) {
		t.Fatal(err)
	}
	want := "reservation_key: must be 1 to 200 characters, got 0; sku: must look like SKU-00042, got 'bad'; quantity: must be 1 to 10000, got 0"
	if de.Message != want {
		t.Fatalf("%q", de.Message)
	}
}

// TestGetReservationShowsItsStateAndNeverMovesStock: held, then released, read by key; an unknown key is RESERVATION_NOT_FOUND and a bad key INVALID_ARGUMENT.
func TestGetReservationShowsItsStateAndNeverMovesStock(t *testing.T) {
	inv, _ := fresh(t)
	if _, err := inv.Reserve(ctx, "ord_1/0", "SKU-00001", 2); err != nil {
		t.Fatal(err)
	}
	held, err := inv.GetReservation(ctx, "ord_1/0")
	if err != nil || held.State != inventory.Held || held.Quantity != 2 || held.SKU != "SKU-00001" {
		t.Fatalf("%+v %v", held, err)
	}
	if _, err := inv.Release(ctx, "ord_1/0"); err != nil {
		t.Fatal(err)
	}
	released, err := inv.GetReservation(ctx, "ord_1/0")
	if err != nil || released.State != inventory.Released {
		t.Fatalf("%+v %v", released, err)
	}
	if got := stock(t, inv, "SKU-00001"); got.Available != 10 || got.Reserved != 0 {
		t.Fatalf("stock %+v", got)
	}
	if _, err := inv.GetReservation(ctx, "never"); reason(t, err) != "RESERVATION_NOT_FOUND" {
		t.Fatal(err)
	}
	if _, err := inv.GetReservation(ctx, ""); reason(t, err) != "INVALID_ARGUMENT" {
		t.Fatal(err)
	}
}
