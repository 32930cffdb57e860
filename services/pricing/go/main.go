// Command pricing is the Go implementation of the pricing service: the same contract,
// behaviour and settings as `python -m services.pricing` (the manifest chooses which
// one runs: services/mesh.toml, docs/POLYGLOT.md).
package main

import (
	pricingv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/pricing/v1"
	"github.com/shopmesh/shopmesh/meshkit/go/env"
	"github.com/shopmesh/shopmesh/meshkit/go/rest"
	"github.com/shopmesh/shopmesh/meshkit/go/runtime"
	"github.com/shopmesh/shopmesh/services"
	kernel "github.com/shopmesh/shopmesh/services/kernel/go"
	"github.com/shopmesh/shopmesh/services/pricing/go/pricing"
)

func main() {
	runtime.Main("pricing", services.Manifest, configure)
}

// configure reads pricing's own setting (SHOPMESH_PRODUCT_COUNT) and wires both faces.
func configure(environment map[string]string) (runtime.Service, error) {
	read := env.NewReader(environment)
	count := read.Integer("PRODUCT_COUNT", kernel.DefaultProductCount, 1, kernel.MaxProductCount)
	if read.Err != nil {
		return runtime.Service{}, read.Err
	}
	pricer, err := pricing.Seeded(int(count))
	if err != nil {
		return runtime.Service{}, err
	}
	return runtime.Service{
		GRPC: func() (runtime.Parts, error) {
			return runtime.Parts{Registrations: []runtime.Registration{
				{Desc: &pricingv1.PricingService_ServiceDesc, Impl: &servicer{pricer: pricer}},
			}}, nil
		},
		REST: func() ([]rest.Route, []func(), error) {
			return (&resource{pricer: pricer}).routes(), nil, nil
		},
	}, nil
}
