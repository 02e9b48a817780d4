#!/usr/bin/python3
"""Records scripted conversations with a real busybox telnetd.

Usage: record_busybox.py HOST PORT OUTDIR [NAME...]
       record_busybox.py --proxy LISTENPORT HOST PORT OUTFILE WHAT

The second form records one connection of a real client (see run_busybox.sh)
through a proxy on 127.0.0.1:LISTENPORT.

Each conversation in CONVERSATIONS runs on its own connection (all at once,
so the 60 s timeouts overlap) and is written to OUTDIR/NAME.txt in the
format of testdata/golden: "S <hex>" for what the server sent (one line per
read), "C <hex>" for what the client sent, "E" when the server closed, and
"# +N.NNs" before a server line that came after a pause of more than 0.5 s.
run_busybox.sh starts the server; see the package README.
"""
import socket
import sys
import threading
import time

VERSION = "busybox 1.36.1 telnetd -F -l /bin/login, busybox login (no PAM)"

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240


def mirai_answer(data):
    """What a Mirai-style bot answers to the server's options: WONT to every
    DO except NAWS (WILL NAWS and an 80x24 window), DO to every WILL."""
    out = b""
    i = 0
    while i + 2 < len(data):
        if data[i] == IAC and data[i + 1] in (DO, WILL):
            cmd, opt = data[i + 1], data[i + 2]
            if cmd == DO and opt == 31:
                out += bytes([IAC, WILL, 31, IAC, SB, 31, 0, 80, 0, 24, IAC, SE])
            elif cmd == DO:
                out += bytes([IAC, WONT, opt])
            else:
                out += bytes([IAC, DO, opt])
            i += 3
        else:
            i += 1
    return out


NEG = "neg"  # answer the opening negotiation like a Mirai bot

# Steps: ("C", bytes) send; ("X", bytes) read until the server's output
# (since the last send) contains it; ("Q", seconds) read until nothing came
# for that long; ("E", seconds) read until the server closes; (NEG,) wait
# for the opening and answer it.
LOGIN = [(NEG,), ("X", b"login: ")]
CONVERSATIONS = {
    "empty": ("a client that sends nothing: the opening, the prompt, and login's 60 s timeout",
              [("E", 75)]),
    "mirai": ("Mirai-style bot: DO answered WONT (NAWS WILL), WILL answered DO; three wrong logins, then the close",
              LOGIN + [("C", b"root\r\n"), ("X", b"Password: "), ("C", b"xc3511\r\n"), ("X", b"login: "),
                       ("C", b"admin\r\n"), ("X", b"Password: "), ("C", b"admin\r\n"), ("X", b"login: "),
                       ("C", b"root\r\n"), ("X", b"Password: "), ("C", b"vizxv\r\n"), ("E", 10)]),
    "timeout": ("a name, then no password: login's 60 s timeout", LOGIN + [("C", b"root\r\n"), ("E", 75)]),
    "success": ("the right password: login's motd and the shell's prompt; a command, then exit (ash says no logout)",
                LOGIN + [("C", b"rptest\r\n"), ("X", b"Password: "), ("C", b"Secret123\r\n"), ("X", b"$ "),
                         ("C", b"echo hi\r\n"), ("X", b"$ "), ("C", b"exit\r\n"), ("E", 10)]),
    "shelleof": ("the right password, then ^D at the shell's prompt",
                 LOGIN + [("C", b"rptest\r\n"), ("X", b"Password: "), ("C", b"Secret123\r\n"), ("X", b"$ "),
                          ("C", b"\x04"), ("E", 10)]),
    "noanswer": ("the options never answered, a login typed at once", [("Q", 1), ("C", b"root\r\n"),
                                                                        ("X", b"Password: "), ("C", b"x\r\n"),
                                                                        ("X", b"login: ")]),
    "iacgarbage": ("bad IAC sequences at the name prompt: unknown commands, IAC IAC, AYT, NOP, a sub-option "
                   "that is not NAWS (its bytes reach login), a NAWS without SE",
                   LOGIN + [("C", b"\xff\x01ab\xff\xff\xff\xf1cd\xff\xfa\x18\x00xterm\xff\xf0ef\r\n"),
                            ("X", b"Password: "), ("C", b"\xff\xf6"), ("Q", 1), ("C", b"pw\xff\xfb\x01\r\n"),
                            ("X", b"login: "), ("C", b"\xff\xfa\x1f\x00\x50\x00\x18gh\xff\xf4\xff\xf0\r\n"),
                            ("X", b"Password: ")]),
    "ayt": ("AYT at the prompt", LOGIN + [("C", b"\xff\xf6"), ("Q", 1), ("C", b"ro\xff\xf6ot\r\n"),
                                          ("X", b"Password: ")]),
    "crnul": ("CR NUL, bare CR, bare LF and CR LF line ends",
              LOGIN + [("C", b"a\r\x00"), ("X", b"Password: "), ("C", b"b\r"), ("X", b"login: "),
                       ("C", b"c\n"), ("X", b"Password: "), ("C", b"d\r\n"), ("X", b"login: ")]),
    "edit": ("line editing at the name prompt: DEL, ^U, ^W, tab, control characters, ^R, ^V, then at the "
             "password prompt", LOGIN + [("C", b"roox\x7ft a\x15b c\x17d\te\x01f\x1b[A\x12\x16\x03g\r\n"),
                                         ("X", b"Password: "), ("C", b"ab\x7fc\x15d\r\n"), ("X", b"login: ")]),
    "spaces": ("blank lines and leading spaces at the name prompt, a name with a space in it",
               LOGIN + [("C", b"\r\n"), ("X", b"login: "), ("C", b"  \t \r\n"), ("X", b"login: "),
                        ("C", b"  root x\r\n"), ("X", b"Password: "), ("C", b"\r\n"), ("X", b"login: ")]),
    "blank10": ("ten blank lines: login gives up", LOGIN + [("C", b"\r\n")] + [("X", b"login: "), ("C", b"\r\n")] * 9
                + [("E", 10)]),
    "longname": ("a name longer than login's buffer: login exits",
                 LOGIN + [("C", b"A" * 80 + b"\r\n"), ("E", 10)]),
    "name61": ("the longest name login takes: 61 bytes", LOGIN + [("C", b"B" * 61 + b"\r\n"), ("X", b"Password: ")]),
    "name62": ("one byte more ends login", LOGIN + [("C", b"B" * 62 + b"\r\n"), ("E", 10)]),
    "quit_pw": ("^\\ at the password prompt kills login", LOGIN + [("C", b"root\r\n"), ("X", b"Password: "),
                                                                   ("C", b"ab\x1c"), ("E", 10)]),
    "ctrld": ("^D at the name prompt", LOGIN + [("C", b"\x04"), ("E", 10)]),
    "ctrld2": ("ro^D then ot: the name continues", LOGIN + [("C", b"ro\x04"), ("Q", 1), ("C", b"ot\r\n"),
                                                               ("X", b"Password: "), ("C", b"\x04"),
                                                               ("X", b"login: ")]),
    "ctrlc": ("^C at the name prompt kills login", LOGIN + [("C", b"ro\x03"), ("E", 10)]),
    "ctrlc_pw": ("^C at the password prompt is a failure", LOGIN + [("C", b"root\r\n"), ("X", b"Password: "),
                                                                    ("C", b"ab\x03"), ("X", b"login: ")]),
    "ctrlz": ("^Z and ^\\ at the name prompt", LOGIN + [("C", b"a\x1a"), ("Q", 1), ("C", b"b\x1c"), ("E", 10)]),
    "ip": ("IAC IP, BRK, EC, EL, AO at the name prompt: all ignored",
           LOGIN + [("C", b"ab\xff\xf4c\xff\xf3d\xff\xf7e\xff\xf8f\xff\xf5\r\n"), ("X", b"Password: ")]),
    "binary": ("a client that offers BINARY, TTYPE and LINEMODE, and sends 0xff doubled and 8-bit bytes",
               [("Q", 1), ("C", b"\xff\xfb\x00\xff\xfd\x00\xff\xfb\x18\xff\xfb\x22"), ("Q", 1),
                ("C", b"\xc3\xa9\xff\xff\x80x\r\n"), ("X", b"Password: ")]),
}


class Recorder:
    def __init__(self, name, host, port):
        self.name = name
        self.sock = socket.create_connection((host, port))
        self.lines = []
        self.seen = b""  # server bytes since the last send
        self.last = time.monotonic()
        self.closed = False

    def read(self, timeout):
        self.sock.settimeout(timeout)
        try:
            b = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            b = b""
        now = time.monotonic()
        if not b:
            self.closed = True
            self.lines.append("E")
            return True
        if now - self.last > 0.5:
            self.lines.append("# +%.2fs" % (now - self.last))
        self.last = now
        self.lines.append("S " + b.hex())
        self.seen += b
        return True

    def send(self, b):
        self.sock.sendall(b)
        self.lines.append("C " + b.hex())
        self.seen = b""
        self.last = time.monotonic()

    def run(self, steps):
        for st in steps:
            if self.closed:
                break
            kind = st[0]
            if kind == NEG:
                while len(self.seen) < 12:
                    if not self.read(5):
                        raise RuntimeError("%s: no opening" % self.name)
                self.send(mirai_answer(self.seen))
            elif kind == "C":
                self.send(st[1])
            elif kind == "X":
                deadline = time.monotonic() + 15
                while st[1] not in self.seen and not self.closed:
                    if time.monotonic() > deadline:
                        raise RuntimeError("%s: no %r in %r" % (self.name, st[1], self.seen))
                    self.read(1)
                # Whatever follows closely belongs to the same output.
                while not self.closed and self.read(0.3):
                    pass
            elif kind == "Q":
                while not self.closed and self.read(st[1]):
                    pass
            elif kind == "E":
                deadline = time.monotonic() + st[1]
                while not self.closed and time.monotonic() < deadline:
                    self.read(1)
                if not self.closed:
                    raise RuntimeError("%s: the server did not close" % self.name)
        if not self.closed:
            while self.read(0.5):
                pass
        self.sock.close()


def proxy(lport, host, port, out, what):
    """Forwards one connection to the server and records both directions."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", lport))
    ls.listen(1)
    ls.settimeout(30)
    c, _ = ls.accept()
    s = socket.create_connection((host, port))
    lines, lock = [], threading.Lock()
    last = [time.monotonic()]
    client_closed = [False]

    def pump(src, dst, tag):
        while True:
            try:
                b = src.recv(65536)
            except OSError:
                b = b""
            with lock:
                now = time.monotonic()
                if tag == "S" and b and now - last[0] > 0.5:
                    lines.append("# +%.2fs" % (now - last[0]))
                last[0] = now
                if not b:
                    if tag == "C":
                        # The server's close that follows is not its own.
                        client_closed[0] = True
                        lines.append("# the client closed")
                    elif not client_closed[0]:
                        lines.append("E")
                    try:
                        dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    return
                lines.append(tag + " " + b.hex())
            dst.sendall(b)

    ts = [threading.Thread(target=pump, args=(c, s, "C")), threading.Thread(target=pump, args=(s, c, "S"))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with open(out, "w") as f:
        f.write("# Recorded from %s: %s.\n" % (VERSION, what))
        f.write("\n".join(lines) + "\n")


def main():
    if sys.argv[1] == "--proxy":
        a = sys.argv[2:]
        proxy(int(a[0]), a[1], int(a[2]), a[3], a[4])
        return
    host, port, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    names = sys.argv[4:] or list(CONVERSATIONS)
    errors = []

    def one(name):
        what, steps = CONVERSATIONS[name]
        try:
            r = Recorder(name, host, port)
            r.run(steps)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append("%s: %s" % (name, e))
            return
        with open("%s/%s.txt" % (outdir, name), "w") as f:
            f.write("# Recorded from %s: %s.\n" % (VERSION, what))
            f.write("\n".join(r.lines) + "\n")

    threads = [threading.Thread(target=one, args=(n,)) for n in names]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    for e in errors:
        print(e, file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
