package rest

import "crypto/rand"

var randReader = rand.Reader
