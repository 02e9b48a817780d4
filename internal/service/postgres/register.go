package postgres

import "decnet/internal/service"

func init() { service.Register(Service{}) }

// Fragment implements service.Composer: the host's snakeoil, which the
// decky's other services present too, is kept in its shared directory.
func (Service) Fragment(h service.Host, keys map[string]string) service.Fragment {
	return service.SharedFragment(Slug, h, keys)
}

// Interface guards.
var (
	_ service.Service  = Service{}
	_ service.Composer = Service{}
	_ service.Server   = (*Server)(nil)
)
