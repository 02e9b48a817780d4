package api

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"decnet/internal/store"
)

func TestJWTSecretFromEnv(t *testing.T) {
	tests := []struct {
		name, value string
		wantErr     string
	}{
		{"random", "Zx8Qm2Lr7Tv4Np1Ks6Jh3Wd9Fb5Gc0Ye", ""},
		{"hex", "3f1c9a0b7e2d4c6f8a1b3c5d7e9f0a2b", ""},
		{"short", "Zx8Qm2Lr7Tv4Np1Ks6Jh3Wd9", "shorter than 32 bytes"},
		{"placeholder", "admin", "shorter than 32 bytes"},
		{"repeated placeholder", strings.Repeat("ChangeMe", 4), `placeholder "changeme"`},
		{"repeated secret", strings.Repeat("secret", 6), `placeholder "secret"`},
		{"one character", strings.Repeat("a", 40), "distinct characters"},
		{"few characters", strings.Repeat("abcdefg", 5), "distinct characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv(EnvJWTSecret, tt.value)
			got, err := LoadOrCreateJWTSecret(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.value {
				t.Fatalf("got %q, %v", got, err)
			}
			if _, err := os.Stat(filepath.Join(dir, SecretFile)); !os.IsNotExist(err) {
				t.Fatal("an env secret must not be written to disk")
			}
		})
	}
}

func TestJWTSecretFile(t *testing.T) {
	unsetEnv(t, EnvJWTSecret)
	dir := filepath.Join(t.TempDir(), "data", "nested")
	first, err := LoadOrCreateJWTSecret(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) < minSecretBytes {
		t.Fatalf("secret %q too short", first)
	}
	path := filepath.Join(dir, SecretFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %04o, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(dir); di.Mode().Perm()&0o077 != 0 {
		t.Fatalf("created data dir mode %04o", di.Mode().Perm())
	}
	again, err := LoadOrCreateJWTSecret(dir)
	if err != nil || !bytes.Equal(first, again) {
		t.Fatalf("second load %q, %v; want the same secret", again, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	other, err := LoadOrCreateJWTSecret(t.TempDir())
	if err != nil || bytes.Equal(first, other) {
		t.Fatal("two data dirs got the same secret")
	}
}

func TestJWTSecretFileRefused(t *testing.T) {
	unsetEnv(t, EnvJWTSecret)
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		wantErr string
	}{
		{"world readable", strings.Repeat("0123456789abcdef", 4), 0o644, "chmod 600"},
		{"group readable", strings.Repeat("0123456789abcdef", 4), 0o640, "chmod 600"},
		{"weak", "changeme", 0o600, "shorter than 32 bytes"},
		{"huge", strings.Repeat("0123456789abcdef", 300), 0o600, "larger than"},
		{"own secret, trimmed", "  " + strings.Repeat("0123456789abcdef", 2) + "\n", 0o600, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, SecretFile)
			if err := os.WriteFile(path, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(path, tt.mode) // WriteFile's mode is reduced by the umask
			got, err := LoadOrCreateJWTSecret(dir)
			if tt.wantErr == "" {
				if err != nil || string(got) != strings.TrimSpace(tt.content) {
					t.Fatalf("got %q, %v", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestSeedAdmin(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string // absent keys are unset
		existing    bool
		created     bool
		username    string
		mustChange  bool
		returnsPass bool
		loginWith   string // a password that must verify; "" = the returned one
		wantErr     string
	}{
		{name: "random password", created: true, username: "admin", mustChange: true, returnsPass: true},
		{name: "custom user", env: map[string]string{EnvAdminUser: "root-ops"}, created: true, username: "root-ops", mustChange: true, returnsPass: true},
		{name: "password from env", env: map[string]string{EnvAdminPassword: "s3cret-enough"}, created: true, username: "admin", loginWith: "s3cret-enough"},
		{name: "env password too short", env: map[string]string{EnvAdminPassword: "admin"}, wantErr: "must be 8 to 72 bytes"},
		{name: "env password too long", env: map[string]string{EnvAdminPassword: strings.Repeat("x", 73)}, wantErr: "must be 8 to 72 bytes"},
		{name: "username too long", env: map[string]string{EnvAdminUser: strings.Repeat("u", 65)}, wantErr: "longer than 64 bytes"},
		{name: "users exist", env: map[string]string{EnvAdminPassword: "s3cret-enough"}, existing: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{EnvAdminUser, EnvAdminPassword} {
				if v, ok := tt.env[k]; ok {
					t.Setenv(k, v)
				} else {
					unsetEnv(t, k)
				}
			}
			repo := newFakeRepo()
			if tt.existing {
				repo.CreateUser(t.Context(), store.User{UUID: "u1", Username: "someone", Role: store.RoleViewer})
			}
			var logs bytes.Buffer
			created, pw, err := SeedAdmin(t.Context(), repo, slog.New(slog.NewTextHandler(&logs, nil)))
			for _, secret := range []string{pw, tt.env[EnvAdminPassword]} {
				if secret != "" && strings.Contains(logs.String(), secret) {
					t.Fatalf("password logged: %s", logs.String())
				}
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if n, _ := repo.CountUsers(t.Context()); n != 0 {
					t.Fatal("a user was created despite the error")
				}
				return
			}
			if err != nil || created != tt.created || (pw != "") != tt.returnsPass {
				t.Fatalf("created %v pw %q err %v", created, pw, err)
			}
			if !tt.created {
				if n, _ := repo.CountUsers(t.Context()); n != 1 {
					t.Fatalf("%d users", n)
				}
				return
			}
			u, err := repo.UserByName(t.Context(), tt.username)
			if err != nil {
				t.Fatal(err)
			}
			if u.Role != store.RoleAdmin || u.MustChangePassword != tt.mustChange || u.UUID == "" {
				t.Fatalf("user %+v", u)
			}
			login := tt.loginWith
			if login == "" {
				login = pw
				if len(pw) < 16 {
					t.Fatalf("random password %q shorter than 16", pw)
				}
			}
			if err := bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(login)); err != nil {
				t.Fatalf("stored hash does not match: %v", err)
			}
		})
	}
}

func TestSeedAdminRandomPasswordsDiffer(t *testing.T) {
	unsetEnv(t, EnvAdminPassword)
	unsetEnv(t, EnvAdminUser)
	_, a, _ := SeedAdmin(t.Context(), newFakeRepo(), nil)
	_, b, _ := SeedAdmin(t.Context(), newFakeRepo(), nil)
	if a == "" || a == b {
		t.Fatalf("passwords %q %q", a, b)
	}
}
