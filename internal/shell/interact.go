package shell

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"golang.org/x/term"
)

// WindowSize is a terminal size change.
type WindowSize struct{ Width, Height int }

// maxInteractiveLine bounds a line typed at the prompt.
const maxInteractiveLine = 16 << 10

// Interact runs the session as an interactive login shell on a terminal:
// prompt, line editing, history, Ctrl-C and Ctrl-D. It returns the exit
// status when the user logs out or the input ends. sizes, if not nil,
// carries window changes.
func (s *Session) Interact(ctx context.Context, rw io.ReadWriter, size WindowSize, sizes <-chan WindowSize) int {
	s.loadHistory()
	defer s.saveHistory()
	in := &ctrlReader{r: rw}
	hist := &history{s: s}
	var mu sync.Mutex
	newTerm := func() *term.Terminal {
		t := term.NewTerminal(struct {
			io.Reader
			io.Writer
		}{in, rw}, s.Prompt())
		t.History = hist
		if size.Width > 0 {
			t.SetSize(size.Width, max(size.Height, 1))
		}
		return t
	}
	t := newTerm()
	s.SetWidth(size.Width)
	t.Write([]byte(s.LoginBanner()))
	done := make(chan struct{})
	defer close(done)
	if sizes != nil {
		go func() {
			for {
				select {
				case <-done:
					return
				case ws, ok := <-sizes:
					if !ok {
						return
					}
					mu.Lock()
					size = ws
					t.SetSize(ws.Width, max(ws.Height, 1))
					s.SetWidth(ws.Width)
					mu.Unlock()
				}
			}
		}()
	}
	for !s.exited && ctx.Err() == nil {
		mu.Lock()
		t.SetPrompt(s.Prompt())
		cur := t
		mu.Unlock()
		line, err := cur.ReadLine()
		if errors.Is(err, io.EOF) {
			if in.interrupted() {
				// bash prints ^C and a fresh prompt; x/term ends the line
				// with EOF and keeps its state, so start a new terminal.
				io.WriteString(rw, "^C\r\n")
				mu.Lock()
				t = newTerm()
				mu.Unlock()
				s.status = 130
				continue
			}
			if line == "" {
				// bash says logout; busybox ash's line editor only ends
				// the line.
				if s.d.ash {
					io.WriteString(rw, "\r\n")
				} else {
					io.WriteString(rw, "logout\r\n")
				}
				break
			}
		}
		if err != nil && !errors.Is(err, term.ErrPasteIndicator) {
			break
		}
		if len(line) > maxInteractiveLine {
			line = line[:maxInteractiveLine]
		}
		s.termOut = cur
		s.Run(ctx, line, cur, cur)
	}
	return s.status
}

// RunLines runs a shell without a terminal (ssh -T, or a piped shell):
// each input line is a command, with no prompt or echo.
func (s *Session) RunLines(ctx context.Context, r io.Reader, stdout, stderr io.Writer) int {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxInteractiveLine)
	for !s.exited && ctx.Err() == nil && sc.Scan() {
		s.lineMode = false
		s.Run(ctx, sc.Text(), stdout, stderr)
	}
	return s.status
}

// ctrlReader notes whether the last input held a Ctrl-C, which x/term
// reports as io.EOF like Ctrl-D.
type ctrlReader struct {
	r    io.Reader
	mu   sync.Mutex
	intr bool
}

func (c *ctrlReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.intr = strings.IndexByte(string(p[:n]), 3) >= 0
		c.mu.Unlock()
	}
	return n, err
}

func (c *ctrlReader) interrupted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.intr
	c.intr = false
	return v
}

// history adapts the session's history to x/term, so arrow keys recall
// the lines that history prints.
type history struct{ s *Session }

func (h *history) Add(string) {} // Run records every line itself
func (h *history) Len() int   { return len(h.s.history) }
func (h *history) At(i int) string {
	return h.s.history[len(h.s.history)-1-i]
}

// loadHistory reads ~/.bash_history as bash does at login.
func (s *Session) loadHistory() {
	data, err := s.fs.readFile(s.cred, s.user.home+"/.bash_history")
	if err != nil {
		return
	}
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if l != "" {
			s.history = append(s.history, l)
		}
	}
	s.histBase = len(s.history)
}

// saveHistory appends this session's lines to ~/.bash_history at logout.
func (s *Session) saveHistory() {
	if len(s.history) <= s.histBase {
		return
	}
	var b strings.Builder
	for _, l := range s.history[s.histBase:] {
		b.WriteString(l + "\n")
	}
	s.fs.writeFile(s.cred, s.user.home+"/.bash_history", []byte(b.String()), true, s.now())
}
