package postgres

import "decnet/internal/service"

func init() { service.Register(Service{}) }

// Interface guards.
var (
	_ service.Service = Service{}
	_ service.Server  = (*Server)(nil)
)
