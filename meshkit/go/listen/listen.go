// Package listen opens the TCP listeners of a host. net.Listen never sets SO_REUSEPORT,
// so a second instance on a taken port fails loudly instead of sharing it.
package listen

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// TCP listens on host:port (0: any free port).
func TCP(host string, port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
}

// Port is a listener's bound port.
func Port(listener net.Listener) int { return listener.Addr().(*net.TCPAddr).Port }

// Strerror is the system's text for a socket error as C's strerror (and so Python's
// exc.strerror) spells it: "Address already in use".
func Strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		text := errno.Error()
		if text != "" && 'a' <= text[0] && text[0] <= 'z' {
			text = string(text[0]-'a'+'A') + text[1:]
		}
		return text
	}
	return err.Error()
}
