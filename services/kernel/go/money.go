// Package kernel is the Go twin of services/kernel: money, request validation and the
// deterministic product seed, computed exactly as the Python kernel computes them.
package kernel

import "fmt"

// DefaultCurrency is the currency of every seeded price.
const DefaultCurrency = "USD"

// Money is an amount in the minor unit of its currency (cents for USD).
type Money struct {
	AmountMinor int64
	Currency    string
}

// USD is an amount of US cents.
func USD(amountMinor int64) Money { return Money{amountMinor, DefaultCurrency} }

// Add sums two amounts of one currency (a mismatch is a bug, so it panics).
func (m Money) Add(other Money) Money {
	m.sameCurrency(other)
	return Money{m.AmountMinor + other.AmountMinor, m.Currency}
}

// Neg is the amount with its sign flipped.
func (m Money) Neg() Money { return Money{-m.AmountMinor, m.Currency} }

// Times is the amount of quantity units.
func (m Money) Times(quantity int64) Money { return Money{m.AmountMinor * quantity, m.Currency} }

// Percent is basisPoints/10000 of the amount, rounded half away from zero.
func (m Money) Percent(basisPoints int64) Money {
	numerator := m.AmountMinor * basisPoints
	sign, magnitude := int64(1), numerator
	if numerator < 0 {
		sign, magnitude = -1, -numerator
	}
	return Money{sign * ((magnitude + 5000) / 10000), m.Currency}
}

func (m Money) sameCurrency(other Money) {
	if m.Currency != other.Currency {
		panic(fmt.Sprintf("currency mismatch: %s vs %s", m.Currency, other.Currency))
	}
}
