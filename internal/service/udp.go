package service

import (
	"context"
	"errors"
	"net"
	"time"
)

// udpRetry is the pause after a read error that is not the end of the
// socket, so a persistent one cannot make the loop spin.
const udpRetry = 10 * time.Millisecond

// ServeUDP reads datagrams of up to size bytes from pc until ctx is done
// or pc is closed, and calls handle for each in turn with its sender and
// its bytes, which are valid only during the call (a longer datagram is
// cut to size, as a server reading into a fixed buffer cuts it). Datagrams
// from anything but a UDP address are ignored.
func ServeUDP(ctx context.Context, pc net.PacketConn, size int, handle func(peer *net.UDPAddr, b []byte)) {
	stop := context.AfterFunc(ctx, func() { pc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, size)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-time.After(udpRetry):
			case <-ctx.Done():
				return
			}
			continue
		}
		if peer, ok := addr.(*net.UDPAddr); ok {
			handle(peer, buf[:n])
		}
	}
}
