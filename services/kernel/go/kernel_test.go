package kernel

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// seedParityDigest is SHA-256 of one line "sku|name|description|category|price|stock|active"
// per default seeded product, computed from the Python seed; tests/unit/test_go_parity.py
// holds the Python side to the same value.
const seedParityDigest = "90ac3d2763672505781fdd70177d84f2123f62502213199234b2473ef7c13878"

// TestSeedMatchesThePythonSeed: the Go seed builds byte for byte the catalogue the Python one does.
func TestSeedMatchesThePythonSeed(t *testing.T) {
	products, err := SeedProducts(DefaultProductCount)
	if err != nil {
		t.Fatal(err)
	}
	var lines strings.Builder
	for _, p := range products {
		active := 0
		if p.Active {
			active = 1
		}
		fmt.Fprintf(&lines, "%s|%s|%s|%s|%d|%d|%d\n", p.SKU, p.Name, p.Description, p.Category, p.ListPriceMinor, p.InitialStock, active)
	}
	sum := sha256.Sum256([]byte(lines.String()))
	if got := hex.EncodeToString(sum[:]); got != seedParityDigest {
		t.Fatalf("seed digest %s, want %s", got, seedParityDigest)
	}
}

// TestSeedVectors: a few products spelled out, as the Python seed prints them.
func TestSeedVectors(t *testing.T) {
	products, _ := SeedProducts(300)
	want := map[int]SeedProduct{
		1:   {"SKU-00001", "Rustic Knife Set", "A rustic knife set from our kitchen range.", "kitchen", 40099, 64, true},
		2:   {"SKU-00002", "Rustic Hose Reel", "A rustic hose reel from our garden range.", "garden", 2799, 426, true},
		50:  {"SKU-00050", "Classic Planter", "A classic planter from our garden range.", "garden", 33199, 396, false},
		300: {"SKU-00300", "Nordic Desk Lamp", "A nordic desk lamp from our office range.", "office", 42899, 186, false},
	}
	for n, p := range want {
		if products[n-1] != p {
			t.Errorf("product %d = %+v, want %+v", n, products[n-1], p)
		}
	}
}

// TestSeedRefusesCountsOutOfRange: counts that do not fit five-digit SKUs are refused.
func TestSeedRefusesCountsOutOfRange(t *testing.T) {
	for _, count := range []int{-1, 100_000} {
		if _, err := SeedProducts(count); err == nil {
			t.Errorf("count %d accepted", count)
		}
	}
}

// TestSKUViolation: malformed SKUs name the field and quote the value as Python's repr does.
func TestSKUViolation(t *testing.T) {
	for _, bad := range []string{"", "SKU-1", "sku-00001", "SKU-000001", "SKU-0000a", " SKU-00001", "SKU-00001\n"} {
		v := SKUViolation(bad, "items[3].sku")
		if v == nil || v.Field != "items[3].sku" {
			t.Errorf("%q: violation %+v", bad, v)
		}
	}
	if v := SKUViolation("SKU-00042", "sku"); v != nil {
		t.Errorf("well-formed SKU refused: %+v", v)
	}
	if v := SKUViolation("sku 1", "sku"); v.Description != "must look like SKU-00042, got 'sku 1'" {
		t.Errorf("description %q", v.Description)
	}
}

// TestPercentRoundsHalfAwayFromZero: a basis-point share rounds half away from zero both ways.
func TestPercentRoundsHalfAwayFromZero(t *testing.T) {
	cases := []struct{ amount, bp, want int64 }{
		{5, 1000, 1}, {-5, 1000, -1}, {4, 1000, 0}, {15, 5000, 8}, {-15, 5000, -8}, {40099, 1900, 7619},
	}
	for _, c := range cases {
		if got := USD(c.amount).Percent(c.bp).AmountMinor; got != c.want {
			t.Errorf("%d at %d bp = %d, want %d", c.amount, c.bp, got, c.want)
		}
	}
}

// TestTextViolation: empty, too long and unprintable texts are refused; lengths count characters.
func TestTextViolation(t *testing.T) {
	if TextViolation("", "k", 3) == nil || TextViolation("abcd", "k", 3) == nil || TextViolation("a\x01", "k", 3) == nil {
		t.Error("bad text accepted")
	}
	if v := TextViolation("ééé", "k", 3); v != nil {
		t.Errorf("three characters refused: %+v", v)
	}
	if v := TextViolation("", "k", 200); v.Description != "must be 1 to 200 characters, got 0" {
		t.Errorf("description %q", v.Description)
	}
}
