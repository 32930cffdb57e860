package main

import (
	"github.com/shopmesh/shopmesh/meshkit/go/rest"
	kernel "github.com/shopmesh/shopmesh/services/kernel/go"
	"github.com/shopmesh/shopmesh/services/pricing/go/pricing"
)

// resource is PricingService's REST/JSON baseline (services/pricing/rest.py):
// POST /v1/quotes prices one or many lines.
type resource struct{ pricer *pricing.Pricer }

func (r *resource) routes() []rest.Route {
	return []rest.Route{{Method: "POST", Template: "/v1/quotes", Handler: r.quote}}
}

type moneyJSON struct {
	CurrencyCode string `json:"currencyCode"`
	AmountMinor  int64  `json:"amountMinor"`
}

func money(m kernel.Money) moneyJSON { return moneyJSON{m.Currency, m.AmountMinor} }

type lineJSON struct {
	SKU          string    `json:"sku"`
	Quantity     int64     `json:"quantity"`
	UnitPrice    moneyJSON `json:"unitPrice"`
	Discount     moneyJSON `json:"discount"`
	Tax          moneyJSON `json:"tax"`
	Total        moneyJSON `json:"total"`
	AppliedRules []string  `json:"appliedRules"`
}

type quoteJSON struct {
	Lines []lineJSON `json:"lines"`
	Total moneyJSON  `json:"total"`
}

func (r *resource) quote(request *rest.Request) (any, error) {
	body := request.JSON()
	var items []pricing.QuoteItem
	body.Each("items", func(item *rest.Object) {
		items = append(items, pricing.QuoteItem{SKU: item.String("sku"), Quantity: item.Integer("quantity")})
	})
	region, promoCode := body.String("region"), body.String("promoCode")
	if err := body.Done(); err != nil {
		return nil, err
	}
	quote, err := r.pricer.Quote(items, region, promoCode)
	if err != nil {
		return nil, err
	}
	lines := make([]lineJSON, len(quote.Lines))
	for i, line := range quote.Lines {
		rules := line.AppliedRules
		if rules == nil {
			rules = []string{}
		}
		lines[i] = lineJSON{line.SKU, line.Quantity, money(line.UnitPrice), money(line.Discount), money(line.Tax), money(line.Total), rules}
	}
	return quoteJSON{lines, money(quote.Total)}, nil
}
