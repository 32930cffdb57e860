// Package pricing is the Go twin of services/pricing/domain.py: price book, volume,
// category and promo discounts, and regional tax, on integer minor units. A line rounds
// exactly twice, each time half away from zero: once for its discount, once for its tax.
// It imports no transport.
package pricing

import (
	"fmt"
	"sort"
	"strings"

	"github.com/shopmesh/shopmesh/meshkit/go/domainerr"
	"github.com/shopmesh/shopmesh/meshkit/go/pytext"
	kernel "github.com/shopmesh/shopmesh/services/kernel/go"
)

// Limits, as in the Python domain.
const (
	MaxQuantity = 10_000
	MaxItems    = 1000
)

// QuoteItem is an item to price.
type QuoteItem struct {
	SKU      string
	Quantity int64
}

// LineQuote is the price of one line: Total = UnitPrice*Quantity + Discount + Tax.
type LineQuote struct {
	SKU          string
	Quantity     int64
	UnitPrice    kernel.Money
	Discount     kernel.Money // zero or negative
	Tax          kernel.Money // on the discounted amount
	Total        kernel.Money
	AppliedRules []string
}

// Quote is line quotes in request order and their sum.
type Quote struct {
	Lines []LineQuote
	Total kernel.Money
}

type volumeTier struct{ minQuantity, basisPoints int64 }

// The default rules (every rate in basis points); discounts stack, tax is charged on
// the discounted amount.
var (
	volumeTiers       = []volumeTier{{5, 500}, {10, 1000}}
	categoryDiscounts = map[string]int64{"books": 300}
	promoCodes        = map[string]int64{"WELCOME10": 1000, "SPRING5": 500}
	taxRates          = map[string]int64{"US": 725, "CA": 1300, "DE": 1900, "FR": 2000, "GB": 2000, "NL": 2100, "JP": 1000}
)

type rule struct {
	name        string
	basisPoints int64
}

func discounts(quantity int64, category, promoCode string) []rule {
	var applied []rule
	var best *volumeTier
	for i := range volumeTiers {
		tier := &volumeTiers[i]
		if quantity >= tier.minQuantity && (best == nil || tier.minQuantity > best.minQuantity) {
			best = tier
		}
	}
	if best != nil {
		applied = append(applied, rule{fmt.Sprintf("volume-%d", best.minQuantity), best.basisPoints})
	}
	if rate, ok := categoryDiscounts[category]; ok {
		applied = append(applied, rule{"category-" + category, rate})
	}
	if promoCode != "" {
		applied = append(applied, rule{"promo-" + promoCode, promoCodes[promoCode]})
	}
	return applied
}

type bookEntry struct {
	unitPrice kernel.Money
	category  string
}

// Pricer prices items from a price book of SKU -> (unit price, category).
type Pricer struct {
	book map[string]bookEntry
}

// Seeded is a pricer over the list prices of the first count seeded products.
func Seeded(count int) (*Pricer, error) {
	products, err := kernel.SeedProducts(count)
	if err != nil {
		return nil, err
	}
	book := make(map[string]bookEntry, len(products))
	for _, p := range products {
		book[p.SKU] = bookEntry{kernel.USD(p.ListPriceMinor), p.Category}
	}
	return &Pricer{book}, nil
}

// QuoteLine prices one item (the streaming shape); errors name the field "item.*".
func (p *Pricer) QuoteLine(item QuoteItem, region, promoCode string) (LineQuote, error) {
	if err := checkItems([]string{"item"}, []QuoteItem{item}); err != nil {
		return LineQuote{}, err
	}
	if err := checkTerms(region, promoCode); err != nil {
		return LineQuote{}, err
	}
	return p.price(item, region, promoCode)
}

// Quote prices 1..1000 items; lines come back in request order.
func (p *Pricer) Quote(items []QuoteItem, region, promoCode string) (Quote, error) {
	if len(items) < 1 || len(items) > MaxItems {
		return Quote{}, domainerr.Invalid("INVALID_ARGUMENT", domainerr.FieldViolation{
			Field: "items", Description: fmt.Sprintf("must hold 1 to %d items, got %d", MaxItems, len(items)),
		})
	}
	paths := make([]string, len(items))
	for i := range items {
		paths[i] = fmt.Sprintf("items[%d]", i)
	}
	if err := checkItems(paths, items); err != nil {
		return Quote{}, err
	}
	if err := checkTerms(region, promoCode); err != nil {
		return Quote{}, err
	}
	lines := make([]LineQuote, len(items))
	for i, item := range items {
		line, err := p.price(item, region, promoCode)
		if err != nil {
			return Quote{}, err
		}
		lines[i] = line
	}
	total := kernel.Money{Currency: lines[0].Total.Currency}
	for _, line := range lines {
		total = total.Add(line.Total)
	}
	return Quote{lines, total}, nil
}

func checkTerms(region, promoCode string) error {
	if _, ok := taxRates[region]; !ok {
		supported := make([]string, 0, len(taxRates))
		for code := range taxRates {
			supported = append(supported, code)
		}
		sort.Strings(supported)
		return domainerr.Invalid("UNSUPPORTED_REGION", domainerr.FieldViolation{
			Field: "region", Description: fmt.Sprintf("%s is not one of %s", pytext.Repr(region), strings.Join(supported, ", ")),
		})
	}
	if _, ok := promoCodes[promoCode]; promoCode != "" && !ok {
		return domainerr.Invalid("UNKNOWN_PROMO_CODE", domainerr.FieldViolation{
			Field: "promo_code", Description: pytext.Repr(promoCode) + " is not a known promotion",
		})
	}
	return nil
}

func (p *Pricer) price(item QuoteItem, region, promoCode string) (LineQuote, error) {
	entry, ok := p.book[item.SKU]
	if !ok {
		return LineQuote{}, domainerr.Missing(
			fmt.Sprintf("product %s has no price", item.SKU), "PRODUCT_NOT_PRICED", "product", item.SKU)
	}
	rules := discounts(item.Quantity, entry.category, promoCode)
	var rate int64
	names := make([]string, len(rules))
	for i, r := range rules {
		rate += r.basisPoints
		names[i] = r.name
	}
	gross := entry.unitPrice.Times(item.Quantity)
	discount := gross.Percent(rate).Neg()
	tax := gross.Add(discount).Percent(taxRates[region])
	return LineQuote{
		SKU:          item.SKU,
		Quantity:     item.Quantity,
		UnitPrice:    entry.unitPrice,
		Discount:     discount,
		Tax:          tax,
		Total:        gross.Add(discount).Add(tax),
		AppliedRules: names,
	}, nil
}

// checkItems is one InvalidArgument listing every malformed SKU and out-of-range quantity.
func checkItems(paths []string, items []QuoteItem) error {
	var found kernel.Violations
	for i, item := range items {
		found.Add(kernel.SKUViolation(item.SKU, paths[i]+".sku"))
		found.Add(kernel.RangeViolation(item.Quantity, paths[i]+".quantity", 1, MaxQuantity))
	}
	return found.Err()
}
