package ssh

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"decnet/internal/archetype"
	"decnet/internal/shell"
)

// TestBannerMatchesShell: an attacker who logs in and runs `ssh -V` must
// see the same OpenSSH release the server announced, on every distro.
func TestBannerMatchesShell(t *testing.T) {
	release := regexp.MustCompile(`^OpenSSH_(\d+\.\d+)`)
	for _, d := range archetype.AllDistros() {
		t.Run(d.Slug, func(t *testing.T) {
			banner := release.FindStringSubmatch(profileFor(d.Slug).version)
			fs, err := shell.Open(t.TempDir(), shell.System{Hostname: "h", Distro: d.Slug, IP: "10.0.0.5"})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			fs.NewSession(shell.Options{User: "root"}).Exec(context.Background(), "ssh -V", &out, &out)
			shown := release.FindStringSubmatch(strings.TrimSpace(out.String()))
			if banner == nil || shown == nil || banner[1] != shown[1] {
				t.Fatalf("banner %q but ssh -V prints %q", profileFor(d.Slug).version, out.String())
			}
		})
	}
}
