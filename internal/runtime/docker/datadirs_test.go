package docker

import (
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"decnet/internal/fleet"
	"decnet/internal/service"
	_ "decnet/internal/service/http"
	_ "decnet/internal/service/ssh"
	_ "decnet/internal/service/telnet"
	"decnet/internal/testutil"
)

// TestPrepareDataDirs: a decky with ssh and telnet gets one shared
// directory, owned by the containers' user, holding what ssh kept on its
// own before; a decky without either gets none.
func TestPrepareDataDirs(t *testing.T) {
	testutil.RequireRoot(t, "to give the directories to the containers' user")
	dataDir := t.TempDir()
	deckies := filepath.Join(deckiesDir(dataDir), "box")
	legacy := filepath.Join(deckies, "ssh", "shell", "fs.json")
	if err := os.MkdirAll(filepath.Dir(legacy), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(legacy, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	fl := fleet.Fleet{Deckies: []fleet.Decky{
		{Name: "box", IP: netip.MustParseAddr("10.0.0.5"), Services: []string{"telnet", "ssh", "http"}},
		{Name: "web", IP: netip.MustParseAddr("10.0.0.6"), Services: []string{"http"}},
	}}
	if err := prepareDataDirs(dataDir, fl); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(deckies, service.SharedDirName)
	for _, p := range []string{shared, filepath.Join(shared, "shell"), filepath.Join(shared, "shell", "fs.json"),
		filepath.Join(deckies, "ssh"), filepath.Join(deckies, "telnet")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != serviceUID || st.Gid != serviceGID {
			t.Errorf("%s owned by %d:%d, want %d:%d", p, st.Uid, st.Gid, serviceUID, serviceGID)
		}
	}
	if _, err := os.Stat(filepath.Join(deckiesDir(dataDir), "web", service.SharedDirName)); !os.IsNotExist(err) {
		t.Errorf("a decky without login services got a shared directory (%v)", err)
	}
}
