package pricing

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopmesh/shopmesh/meshkit/go/domainerr"
)

func seeded(t *testing.T) *Pricer {
	t.Helper()
	p, err := Seeded(300)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestQuoteLineMatchesPythonVectors: lines priced as the Python pricer prices them (vectors printed by it).
func TestQuoteLineMatchesPythonVectors(t *testing.T) {
	vectors := []struct {
		sku                        string
		quantity                   int64
		region, promo              string
		unit, discount, tax, total int64
		rules                      string
	}{
		{"SKU-00001", 1, "DE", "", 40099, 0, 7619, 47718, ""},
		{"SKU-00003", 12, "US", "WELCOME10", 25699, -70929, 17216, 254675, "volume-10,category-books,promo-WELCOME10"},
		{"SKU-00002", 5, "JP", "SPRING5", 2799, -1400, 1260, 13855, "volume-5,promo-SPRING5"},
		{"SKU-00009", 10000, "NL", "", 15499, -20148700, 28316673, 163157973, "volume-10,category-books"},
	}
	p := seeded(t)
	for _, v := range vectors {
		line, err := p.QuoteLine(QuoteItem{v.sku, v.quantity}, v.region, v.promo)
		if err != nil {
			t.Fatalf("%s: %v", v.sku, err)
		}
		got := []int64{line.UnitPrice.AmountMinor, line.Discount.AmountMinor, line.Tax.AmountMinor, line.Total.AmountMinor}
		want := []int64{v.unit, v.discount, v.tax, v.total}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: amounts %v, want %v", v.sku, got, want)
				break
			}
		}
		if strings.Join(line.AppliedRules, ",") != v.rules || line.Total.Currency != "USD" {
			t.Errorf("%s: rules %v currency %s", v.sku, line.AppliedRules, line.Total.Currency)
		}
	}
}

func domainError(t *testing.T, err error) *domainerr.Error {
	t.Helper()
	var de *domainerr.Error
	if !errors.As(err, &de) {
		t.Fatalf("want a domain error, got %v", err)
	}
	return de
}

// TestQuoteReportsEveryBadFieldAtOnce: one InvalidArgument names every malformed SKU and quantity.
func TestQuoteReportsEveryBadFieldAtOnce(t *testing.T) {
	_, err := seeded(t).Quote([]QuoteItem{{"bad", 0}, {"SKU-00001", 10001}}, "ZZ", "")
	de := domainError(t, err)
	want := "items[0].sku: must look like SKU-00042, got 'bad'; items[0].quantity: must be 1 to 10000, got 0; items[1].quantity: must be 1 to 10000, got 10001"
	if de.Kind != domainerr.InvalidArgument || de.Reason != "INVALID_ARGUMENT" || de.Message != want {
		t.Errorf("%+v", de)
	}
}

// TestQuoteRefusesBadTerms: counts, regions, promo codes and unknown SKUs fail as in Python.
func TestQuoteRefusesBadTerms(t *testing.T) {
	p := seeded(t)
	cases := []struct {
		items         []QuoteItem
		region, promo string
		kind          domainerr.Kind
		reason, msg   string
	}{
		{nil, "ZZ", "", domainerr.InvalidArgument, "INVALID_ARGUMENT", "items: must hold 1 to 1000 items, got 0"},
		{make([]QuoteItem, 1001), "DE", "", domainerr.InvalidArgument, "INVALID_ARGUMENT", "items: must hold 1 to 1000 items, got 1001"},
		{[]QuoteItem{{"SKU-00001", 1}}, "ZZ", "", domainerr.InvalidArgument, "UNSUPPORTED_REGION", "region: 'ZZ' is not one of CA, DE, FR, GB, JP, NL, US"},
		{[]QuoteItem{{"SKU-00001", 1}}, "DE", "NOPE", domainerr.InvalidArgument, "UNKNOWN_PROMO_CODE", "promo_code: 'NOPE' is not a known promotion"},
		{[]QuoteItem{{"SKU-99999", 1}}, "DE", "", domainerr.NotFound, "PRODUCT_NOT_PRICED", "product SKU-99999 has no price"},
	}
	for _, c := range cases {
		_, err := p.Quote(c.items, c.region, c.promo)
		de := domainError(t, err)
		if de.Kind != c.kind || de.Reason != c.reason || de.Message != c.msg {
			t.Errorf("got %v %s %q, want %v %s %q", de.Kind, de.Reason, de.Message, c.kind, c.reason, c.msg)
		}
	}
}

// TestQuoteSumsLinesInOrder: lines come back in request order and the total is their sum.
func TestQuoteSumsLinesInOrder(t *testing.T) {
	q, err := seeded(t).Quote([]QuoteItem{{"SKU-00002", 5}, {"SKU-00001", 1}}, "JP", "SPRING5")
	if err != nil {
		t.Fatal(err)
	}
	if q.Lines[0].SKU != "SKU-00002" || q.Lines[1].SKU != "SKU-00001" || q.Total.AmountMinor != q.Lines[0].Total.AmountMinor+q.Lines[1].Total.AmountMinor {
		t.Errorf("%+v", q)
	}
}

// TestQuoteLineNamesItemFields: the streaming shape names its fields "item.*".
func TestQuoteLineNamesItemFields(t *testing.T) {
	_, err := seeded(t).QuoteLine(QuoteItem{"x", -1}, "DE", "")
	de := domainError(t, err)
	if len(de.Violations) != 2 || de.Violations[0].Field != "item.sku" || de.Violations[1].Field != "item.quantity" {
		t.Errorf("%+v", de.Violations)
	}
}
