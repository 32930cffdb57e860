package main

import (
	"context"
	"errors"
	"io"

	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/inventory/v1"
	"github.com/shopmesh/shopmesh/meshkit/go/runtime"
	"github.com/shopmesh/shopmesh/services/inventory/go/inventory"
)

// servicer is InventoryService over gRPC: protobuf ↔ the inventory domain, per-item
// errors on the bidi stream and the batch (services/inventory/servicer.py).
type servicer struct {
	inventoryv1.UnimplementedInventoryServiceServer
	inventory *inventory.Inventory
}

var states = map[inventory.State]inventoryv1.ReservationState{
	inventory.Held:     inventoryv1.ReservationState_RESERVATION_STATE_HELD,
	inventory.Released: inventoryv1.ReservationState_RESERVATION_STATE_RELEASED,
}

func reservationPB(r inventory.Reservation) *inventoryv1.Reservation {
	return &inventoryv1.Reservation{
		ReservationKey: r.Key, Sku: r.SKU, Quantity: int32(r.Quantity), State: states[r.State],
		CreateTime: timestamppb.New(r.CreateTime),
	}
}

func stockPB(s inventory.Stock) *inventoryv1.Stock {
	return &inventoryv1.Stock{Sku: s.SKU, Available: int32(s.Available), Reserved: int32(s.Reserved)}
}

func wanted(request *inventoryv1.ReserveStreamRequest) inventory.Wanted {
	return inventory.Wanted{Key: request.GetReservationKey(), SKU: request.GetSku(), Quantity: int64(request.GetQuantity())}
}

func outcomePB(key string, outcome inventory.Outcome) *inventoryv1.ReserveStreamResponse {
	reply := &inventoryv1.ReserveStreamResponse{ReservationKey: key}
	if domain, ok := inventory.AsDomain(outcome.Err); ok {
		reply.Result = &inventoryv1.ReserveStreamResponse_Error{Error: runtime.StatusOf(domain)}
	} else {
		reply.Result = &inventoryv1.ReserveStreamResponse_Reservation{Reservation: reservationPB(outcome.Reservation)}
	}
	return reply
}

func (s *servicer) GetStock(ctx context.Context, request *inventoryv1.GetStockRequest) (*inventoryv1.GetStockResponse, error) {
	stock, err := s.inventory.GetStock(ctx, request.GetSku())
	if err != nil {
		return nil, err
	}
	return &inventoryv1.GetStockResponse{Stock: stockPB(stock)}, nil
}

func (s *servicer) Reserve(ctx context.Context, request *inventoryv1.ReserveRequest) (*inventoryv1.ReserveResponse, error) {
	reservation, err := s.inventory.Reserve(ctx, request.GetReservationKey(), request.GetSku(), int64(request.GetQuantity()))
	if err != nil {
		return nil, err
	}
	return &inventoryv1.ReserveResponse{Reservation: reservationPB(reservation)}, nil
}

func (s *servicer) GetReservation(ctx context.Context, request *inventoryv1.GetReservationRequest) (*inventoryv1.GetReservationResponse, error) {
	reservation, err := s.inventory.GetReservation(ctx, request.GetReservationKey())
	if err != nil {
		return nil, err
	}
	return &inventoryv1.GetReservationResponse{Reservation: reservationPB(reservation)}, nil
}

func (s *servicer) Release(ctx context.Context, request *inventoryv1.ReleaseRequest) (*inventoryv1.ReleaseResponse, error) {
	reservation, err := s.inventory.Release(ctx, request.GetReservationKey())
	if err != nil {
		return nil, err
	}
	return &inventoryv1.ReleaseResponse{Reservation: reservationPB(reservation)}, nil
}

// ReserveStream answers one message per request message, in order; an item that cannot
// be reserved fails only itself.
func (s *servicer) ReserveStream(stream inventoryv1.InventoryService_ReserveStreamServer) error {
	for {
		request, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		outcomes, err := s.inventory.ReserveEach(stream.Context(), []inventory.Wanted{wanted(request)})
		if err != nil {
			return err
		}
		if err := stream.Send(outcomePB(request.GetReservationKey(), outcomes[0])); err != nil {
			return err
		}
	}
}

func (s *servicer) BatchReserve(ctx context.Context, request *inventoryv1.BatchReserveRequest) (*inventoryv1.BatchReserveResponse, error) {
	lines := make([]inventory.Wanted, len(request.GetReservations()))
	for i, item := range request.GetReservations() {
		lines[i] = wanted(item)
	}
	outcomes, err := s.inventory.ReserveEach(ctx, lines)
	if err != nil {
		return nil, err
	}
	results := make([]*inventoryv1.ReserveStreamResponse, len(outcomes))
	for i, outcome := range outcomes {
		results[i] = outcomePB(lines[i].Key, outcome)
	}
	return &inventoryv1.BatchReserveResponse{Results: results}, nil
}

// Restock reads the whole delivery note first, so a bad line rejects the note before any
// stock moves (and a note over the limit stops being read at the limit), then applies it
// in one transaction.
func (s *servicer) Restock(stream inventoryv1.InventoryService_RestockServer) error {
	var deliveries []inventory.Delivery
	var units int64
	for {
		request, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := inventory.CheckDeliveryCount(len(deliveries) + 1); err != nil {
			return err
		}
		deliveries = append(deliveries, inventory.Delivery{SKU: request.GetSku(), Quantity: int64(request.GetQuantity())})
		units += int64(request.GetQuantity())
	}
	if _, err := s.inventory.RestockMany(stream.Context(), deliveries); err != nil {
		return err
	}
	return stream.SendAndClose(&inventoryv1.RestockResponse{Deliveries: int32(len(deliveries)), UnitsAdded: units})
}
