// Command inventory is the Go implementation of the inventory service: the same contract,
// behaviour and settings as `python -m services.inventory`, with its SQLite file of its
// own (docs/POLYGLOT.md).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	inventoryv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/inventory/v1"
	"github.com/shopmesh/shopmesh/meshkit/go/env"
	"github.com/shopmesh/shopmesh/meshkit/go/rest"
	"github.com/shopmesh/shopmesh/meshkit/go/runtime"
	"github.com/shopmesh/shopmesh/services"
	"github.com/shopmesh/shopmesh/services/inventory/go/inventory"
	"github.com/shopmesh/shopmesh/services/inventory/go/sqlitestore"
	kernel "github.com/shopmesh/shopmesh/services/kernel/go"
)

func main() {
	runtime.Main("inventory", services.Manifest, configure)
}

// configure reads inventory's own settings: SHOPMESH_PRODUCT_COUNT, SHOPMESH_STORAGE
// (sqlite only here) and SHOPMESH_DATA_DIR.
func configure(environment map[string]string) (runtime.Service, error) {
	read := env.NewReader(environment)
	count := read.Integer("PRODUCT_COUNT", kernel.DefaultProductCount, 1, kernel.MaxProductCount)
	if read.Raw("STORAGE") != "" && read.Choice("STORAGE", "sqlite", "sqlite", "dynamodb") == "dynamodb" {
		return runtime.Service{}, env.Errorf("%s=dynamodb: the Go implementation keeps SQLite only (run the Python inventory for DynamoDB)", read.Name("STORAGE"))
	}
	dataDir := read.Text("DATA_DIR", "data")
	if read.Err != nil {
		return runtime.Service{}, read.Err
	}
	products, err := kernel.SeedProducts(int(count))
	if err != nil {
		return runtime.Service{}, err
	}
	initial := make([]inventory.Stock, len(products))
	for i, p := range products {
		initial[i] = inventory.Stock{SKU: p.SKU, Available: p.InitialStock}
	}
	open := func() (*inventory.Inventory, func(), error) {
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, nil, fmt.Errorf("cannot create %s: %w", dataDir, err)
		}
		store, err := sqlitestore.Open(context.Background(), filepath.Join(dataDir, sqlitestore.FileName), initial)
		if err != nil {
			return nil, nil, err
		}
		return inventory.New(store, time.Now), store.Close, nil
	}
	return runtime.Service{
		GRPC: func() (runtime.Parts, error) {
			domain, closeStore, err := open()
			if err != nil {
				return runtime.Parts{}, err
			}
			return runtime.Parts{
				Registrations: []runtime.Registration{{Desc: &inventoryv1.InventoryService_ServiceDesc, Impl: &servicer{inventory: domain}}},
				OnStop:        []func(){closeStore},
			}, nil
		},
		REST: func() ([]rest.Route, []func(), error) {
			domain, closeStore, err := open()
			if err != nil {
				return nil, nil, err
			}
			return (&resource{inventory: domain}).routes(), []func(){closeStore}, nil
		},
	}, nil
}
