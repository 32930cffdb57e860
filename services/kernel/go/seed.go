package kernel

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"

	"github.com/shopmesh/shopmesh/meshkit/go/domainerr"
	"github.com/shopmesh/shopmesh/meshkit/go/pytext"
)

// The seed's constants, as services/kernel/seed.py defines them.
const (
	DefaultProductCount = 300
	MaxProductCount     = 99_999
	inactiveEvery       = 50
)

// Categories are the category slugs; product n belongs to Categories[(n-1) % 6].
var Categories = []string{"kitchen", "garden", "books", "toys", "outdoor", "office"}

var nouns = map[string][]string{
	"kitchen": {"Kettle", "Skillet", "Knife Set", "Cutting Board", "Teapot", "Colander"},
	"garden":  {"Trowel", "Watering Can", "Planter", "Pruner", "Hose Reel", "Seed Tray"},
	"books":   {"Cookbook", "Field Guide", "Atlas", "Novel", "Poetry Reader", "Sketchbook"},
	"toys":    {"Kite", "Puzzle", "Yo-Yo", "Block Set", "Spinning Top", "Marble Run"},
	"outdoor": {"Tent", "Lantern", "Hammock", "Daypack", "Camp Stool", "Water Flask"},
	"office":  {"Notebook", "Desk Lamp", "Stapler", "Pen Set", "Monitor Stand", "Organizer"},
}

var adjectives = []string{"Classic", "Compact", "Deluxe", "Rustic", "Modern", "Sturdy", "Nordic", "Bright"}

// skuPattern is a well-formed SKU, for example "SKU-00042". Python's \d matches any
// Unicode decimal digit, so this does too (\p{Nd}): both refuse and accept the same SKUs.
var skuPattern = regexp.MustCompile(`^SKU-\p{Nd}{5}$`)

// SeedProduct is one product as seeded; prices are in USD minor units.
type SeedProduct struct {
	SKU            string
	Name           string
	Description    string
	Category       string
	ListPriceMinor int64
	InitialStock   int64
	Active         bool
}

// SKUFor is the SKU of the number-th seeded product (1-based).
func SKUFor(number int) string { return fmt.Sprintf("SKU-%05d", number) }

// SeedProducts are the first count seeded products in SKU order, identical to the
// Python seed's on every machine.
func SeedProducts(count int) ([]SeedProduct, error) {
	if count < 0 || count > MaxProductCount {
		return nil, fmt.Errorf("count must be 0..%d, got %d", MaxProductCount, count)
	}
	products := make([]SeedProduct, count)
	for n := 1; n <= count; n++ {
		products[n-1] = product(n)
	}
	return products, nil
}

func product(number int) SeedProduct {
	sku := SKUFor(number)
	category := Categories[(number-1)%len(Categories)]
	noun := pick(nouns[category], sku, "noun")
	adjective := pick(adjectives, sku, "adjective")
	return SeedProduct{
		SKU:         sku,
		Name:        adjective + " " + noun,
		Description: fmt.Sprintf("A %s %s from our %s range.", strings.ToLower(adjective), strings.ToLower(noun), category),
		Category:    category,
		// Whole currency units minus one minor unit: 199 .. 49999.
		ListPriceMinor: draw(sku, "price", 2, 500)*100 - 1,
		InitialStock:   draw(sku, "stock", 50, 500),
		Active:         number%inactiveEvery != 0,
	}
}

// draw is a stable integer in [low, high] for this SKU and field: the first 8 bytes of
// SHA-256("<sku>/<field>") big-endian, modulo the range's size.
func draw(sku, field string, low, high int64) int64 {
	digest := sha256.Sum256([]byte(sku + "/" + field))
	value := binary.BigEndian.Uint64(digest[:8])
	return low + int64(value%uint64(high-low+1))
}

func pick(options []string, sku, field string) string {
	return options[draw(sku, field, 0, int64(len(options)-1))]
}

// SKUViolation is the violation for a malformed SKU in field, or nil.
func SKUViolation(value, field string) *domainerr.FieldViolation {
	if skuPattern.MatchString(value) {
		return nil
	}
	return &domainerr.FieldViolation{Field: field, Description: "must look like SKU-00042, got " + pytext.Repr(value)}
}
