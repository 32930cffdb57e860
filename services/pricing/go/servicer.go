package main

import (
	"context"
	"errors"
	"io"

	commonv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/common/v1"
	pricingv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/pricing/v1"
	"github.com/shopmesh/shopmesh/meshkit/go/domainerr"
	"github.com/shopmesh/shopmesh/meshkit/go/runtime"
	kernel "github.com/shopmesh/shopmesh/services/kernel/go"
	"github.com/shopmesh/shopmesh/services/pricing/go/pricing"
)

// servicer is PricingService over gRPC: protobuf ↔ the pricing domain, per-line errors on
// the stream (services/pricing/servicer.py).
type servicer struct {
	pricingv1.UnimplementedPricingServiceServer
	pricer *pricing.Pricer
}

func moneyPB(m kernel.Money) *commonv1.Money {
	return &commonv1.Money{CurrencyCode: m.Currency, AmountMinor: m.AmountMinor}
}

func linePB(line pricing.LineQuote) *pricingv1.LineQuote {
	return &pricingv1.LineQuote{
		Sku:          line.SKU,
		Quantity:     int32(line.Quantity),
		UnitPrice:    moneyPB(line.UnitPrice),
		Discount:     moneyPB(line.Discount),
		Tax:          moneyPB(line.Tax),
		Total:        moneyPB(line.Total),
		AppliedRules: line.AppliedRules,
	}
}

func (s *servicer) Quote(_ context.Context, request *pricingv1.QuoteRequest) (*pricingv1.QuoteResponse, error) {
	items := make([]pricing.QuoteItem, len(request.GetItems()))
	for i, item := range request.GetItems() {
		items[i] = pricing.QuoteItem{SKU: item.GetSku(), Quantity: int64(item.GetQuantity())}
	}
	quote, err := s.pricer.Quote(items, request.GetRegion(), request.GetPromoCode())
	if err != nil {
		return nil, err
	}
	lines := make([]*pricingv1.LineQuote, len(quote.Lines))
	for i, line := range quote.Lines {
		lines[i] = linePB(line)
	}
	return &pricingv1.QuoteResponse{Lines: lines, Total: moneyPB(quote.Total)}, nil
}

// QuoteStream answers one message per request message, in order; a bad line fails that
// line only (its google.rpc.Status in the oneof) and the stream carries on.
func (s *servicer) QuoteStream(stream pricingv1.PricingService_QuoteStreamServer) error {
	for {
		request, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		item := pricing.QuoteItem{SKU: request.GetItem().GetSku(), Quantity: int64(request.GetItem().GetQuantity())}
		reply := &pricingv1.QuoteStreamResponse{LineId: request.GetLineId()}
		line, err := s.pricer.QuoteLine(item, request.GetRegion(), request.GetPromoCode())
		var domain *domainerr.Error
		switch {
		case err == nil:
			reply.Result = &pricingv1.QuoteStreamResponse_Quote{Quote: linePB(line)}
		case errors.As(err, &domain):
			reply.Result = &pricingv1.QuoteStreamResponse_Error{Error: runtime.StatusOf(domain)}
		default:
			return err
		}
		if err := stream.Send(reply); err != nil {
			return err
		}
	}
}
