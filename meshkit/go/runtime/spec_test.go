package runtime

import (
	"github.com/shopmesh/shopmesh/meshkit/go/manifest"
	"github.com/shopmesh/shopmesh/services"
)

func manifestSpec() manifest.Service {
	spec, err := manifest.ServiceNamed(services.Manifest, "pricing")
	if err != nil {
		panic(err)
	}
	return spec
}
