package main

import (
	"strings"

	"github.com/shopmesh/shopmesh/meshkit/go/rest"
	"github.com/shopmesh/shopmesh/services/inventory/go/inventory"
	"github.com/shopmesh/shopmesh/services/inventory/go/sqlitestore"
)

// resource is InventoryService's REST/JSON baseline (services/inventory/rest.py): stock and
// reservations as resources, one outcome per item on the batch.
type resource struct{ inventory *inventory.Inventory }

func (r *resource) routes() []rest.Route {
	return []rest.Route{
		{Method: "GET", Template: "/v1/stock/{sku}", Handler: r.getStock},
		{Method: "POST", Template: "/v1/stock/restock", Handler: r.restock},
		{Method: "POST", Template: "/v1/reservations", Handler: r.reserve},
		{Method: "POST", Template: "/v1/reservations/batch", Handler: r.reserveBatch},
		{Method: "GET", Template: "/v1/reservations/{reservationKey}", Handler: r.getReservation},
		{Method: "POST", Template: "/v1/reservations/{reservationKey}/release", Handler: r.release},
	}
}

type reservationJSON struct {
	ReservationKey string `json:"reservationKey"`
	SKU            string `json:"sku"`
	Quantity       int64  `json:"quantity"`
	State          string `json:"state"`
	CreateTime     string `json:"createTime"`
}

func reservationDocument(res inventory.Reservation) reservationJSON {
	// isoformat() with "+00:00" as "Z": the Python twin's time_json.
	created := strings.TrimSuffix(sqlitestore.EncodeTime(res.CreateTime), "+00:00") + "Z"
	return reservationJSON{res.Key, res.SKU, res.Quantity, string(res.State), created}
}

type stockJSON struct {
	SKU       string `json:"sku"`
	Available int64  `json:"available"`
	Reserved  int64  `json:"reserved"`
}

type outcomeJSON struct {
	ReservationKey string               `json:"reservationKey"`
	Reservation    *reservationJSON     `json:"reservation,omitempty"`
	Error          *rest.StatusDocument `json:"error,omitempty"`
}

func readWanted(item *rest.Object) inventory.Wanted {
	return inventory.Wanted{Key: item.String("reservationKey"), SKU: item.String("sku"), Quantity: item.Integer("quantity")}
}

func (r *resource) getStock(request *rest.Request) (any, error) {
	stock, err := r.inventory.GetStock(request.Context, request.Params["sku"])
	if err != nil {
		return nil, err
	}
	return stockJSON{stock.SKU, stock.Available, stock.Reserved}, nil
}

func (r *resource) reserve(request *rest.Request) (any, error) {
	body := request.JSON()
	line := readWanted(body)
	if err := body.Done(); err != nil {
		return nil, err
	}
	reservation, err := r.inventory.Reserve(request.Context, line.Key, line.SKU, line.Quantity)
	if err != nil {
		return nil, err
	}
	return reservationDocument(reservation), nil
}

func (r *resource) reserveBatch(request *rest.Request) (any, error) {
	body := request.JSON()
	var lines []inventory.Wanted
	body.Each("reservations", func(item *rest.Object) { lines = append(lines, readWanted(item)) })
	if err := body.Done(); err != nil {
		return nil, err
	}
	outcomes, err := r.inventory.ReserveEach(request.Context, lines)
	if err != nil {
		return nil, err
	}
	results := make([]outcomeJSON, len(outcomes))
	for i, outcome := range outcomes {
		results[i] = outcomeJSON{ReservationKey: lines[i].Key}
		if domain, ok := inventory.AsDomain(outcome.Err); ok {
			document := rest.Document(domain)
			results[i].Error = &document
		} else {
			document := reservationDocument(outcome.Reservation)
			results[i].Reservation = &document
		}
	}
	return map[string]any{"results": results}, nil
}

func (r *resource) getReservation(request *rest.Request) (any, error) {
	reservation, err := r.inventory.GetReservation(request.Context, request.Params["reservationKey"])
	if err != nil {
		return nil, err
	}
	return reservationDocument(reservation), nil
}

func (r *resource) release(request *rest.Request) (any, error) {
	if err := request.OptionalJSON().Done(); err != nil {
		return nil, err
	}
	reservation, err := r.inventory.Release(request.Context, request.Params["reservationKey"])
	if err != nil {
		return nil, err
	}
	return reservationDocument(reservation), nil
}

type restockJSON struct {
	Deliveries int   `json:"deliveries"`
	UnitsAdded int64 `json:"unitsAdded"`
}

func (r *resource) restock(request *rest.Request) (any, error) {
	body := request.JSON()
	var deliveries []inventory.Delivery
	var units int64
	body.Each("deliveries", func(item *rest.Object) {
		delivery := inventory.Delivery{SKU: item.String("sku"), Quantity: item.Integer("quantity")}
		deliveries = append(deliveries, delivery)
		units += delivery.Quantity
	})
	if err := body.Done(); err != nil {
		return nil, err
	}
	if _, err := r.inventory.RestockMany(request.Context, deliveries); err != nil {
		return nil, err
	}
	return restockJSON{len(deliveries), units}, nil
}
