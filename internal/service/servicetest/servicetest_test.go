package servicetest

import (
	"context"
	"errors"
	"net"
	"testing"

	"decnet/internal/service"
)

type acceptOnce struct{ got chan struct{} }

func (a acceptOnce) Serve(ctx context.Context, ls service.Listeners) error {
	c, err := ls.TCP[7].Accept()
	if err != nil {
		return errors.New("accept failed")
	}
	c.Close()
	close(a.got)
	<-ctx.Done()
	return nil
}

func TestServeTCP(t *testing.T) {
	srv := acceptOnce{got: make(chan struct{})}
	addr := ServeTCP(t, srv, "127.0.0.1", 7)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	<-srv.got
}
