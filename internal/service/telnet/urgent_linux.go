package telnet

import (
	"net"
	"syscall"
)

// sendUrgent sends b as TCP urgent data (MSG_OOB), as telnetd sends the
// IAC of a data mark: a receiver without SO_OOBINLINE never sees that byte
// in the stream.
func sendUrgent(c net.Conn, b byte) error {
	tc := tcpConn(c)
	if tc == nil {
		_, err := c.Write([]byte{b})
		return err
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Write(func(fd uintptr) bool {
		_, serr = syscall.SendmsgN(int(fd), []byte{b}, nil, nil, syscall.MSG_OOB)
		return serr != syscall.EAGAIN
	}); err != nil {
		return err
	}
	return serr
}
