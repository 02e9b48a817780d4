package tftp

// toNetascii converts a file to netascii for a read in that mode, as
// tftp-hpa's readit does: LF becomes CR LF, and a bare CR becomes CR NUL.
func toNetascii(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/16)
	for _, c := range b {
		switch c {
		case '\n':
			out = append(out, '\r', '\n')
		case '\r':
			out = append(out, '\r', 0)
		default:
			out = append(out, c)
		}
	}
	return out
}

// netasciiWriter undoes netascii on an upload, block by block, as
// tftp-hpa's writeit does: CR LF becomes LF, CR NUL becomes CR, and any
// other CR is kept. prev carries the last byte across blocks.
type netasciiWriter struct {
	prev byte
}

// decode appends p, decoded, to dst.
func (w *netasciiWriter) decode(dst, p []byte) []byte {
	for _, c := range p {
		switch {
		case w.prev == '\r' && c == '\n':
			dst[len(dst)-1] = '\n' // the LF goes over the CR written before it
		case w.prev == '\r' && c == 0:
		default:
			dst = append(dst, c)
		}
		w.prev = c
	}
	return dst
}
