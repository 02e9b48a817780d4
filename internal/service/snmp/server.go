package snmp

import (
	"context"
	"sync"

	"decnet/internal/service"
)

// Server is one decky's SNMP agent on its UDP listeners.
type Server struct {
	agent *Agent
}

// Serve answers on every UDP listener until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	var wg sync.WaitGroup
	for _, pc := range ls.UDP {
		wg.Go(func() { s.agent.ServePacket(ctx, pc) })
	}
	wg.Wait()
	return nil
}
