package http

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"decnet/internal/event"
)

// previewSize is how much of a body a request event carries.
const previewSize = 1024

// requestFields are the fields of a request event, to be merged with the
// connection's.
func requestFields(req *request, status int) map[string]string {
	f := map[string]string{"status": strconv.Itoa(status)}
	if req == nil {
		return f
	}
	f[event.FieldMethod] = req.method
	f[event.FieldPath] = req.target
	f["version"] = req.proto
	if req.proto == "" && req.method != "" {
		f["version"] = "HTTP/0.9"
	}
	hs := map[string]string{}
	for _, h := range req.headers {
		if v, ok := hs[h.name]; ok {
			hs[h.name] = v + ", " + h.value
		} else {
			hs[h.name] = h.value
		}
	}
	b, _ := json.Marshal(hs) // a map of strings always encodes
	f[event.FieldHeaders] = string(b)
	f[event.FieldUserAgent] = req.get("User-Agent")
	f["host"] = req.get("Host")
	f["body_size"] = strconv.FormatInt(req.bodySize, 10)
	if len(req.body) > 0 {
		preview := req.body[:min(len(req.body), previewSize)]
		if printable(preview) {
			f["body"] = string(preview)
		} else {
			f["body"] = hex.EncodeToString(preview)
			f["body_encoding"] = "hex"
		}
	}
	return f
}

// printable reports whether b is UTF-8 text without control characters
// other than line breaks and tabs. A cut multi-byte character at the end
// of a preview does not count against it.
func printable(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			return !utf8.FullRune(b) && len(b) < utf8.UTFMax
		}
		if !unicode.IsPrint(r) && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
		b = b[n:]
	}
	return true
}

// basicCredentials decodes an Authorization: Basic header.
func basicCredentials(req *request) (user, pass string, ok bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(req.get("Authorization")), " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	return user, pass, ok
}

// The form fields that login forms name their user and password with,
// in order of preference.
var (
	userFields = []string{"username", "user", "login", "email", "log", "uname", "pma_username", "user_login", "usr", "userid", "account"}
	passFields = []string{"password", "pass", "passwd", "pwd", "pma_password", "user_pass", "passw", "secret"}
)

// maxFormField bounds a multipart value we look at.
const maxFormField = 4096

// formCredentials finds a user and password in a urlencoded, multipart
// or JSON request body. user is empty when the body holds none.
func formCredentials(req *request) (user, pass string) {
	if len(req.body) == 0 {
		return "", ""
	}
	ctype, params, _ := mime.ParseMediaType(req.get("Content-Type"))
	fields := map[string]string{}
	switch ctype {
	case "application/x-www-form-urlencoded", "":
		vals, err := url.ParseQuery(string(req.body))
		if err != nil && len(vals) == 0 {
			return "", ""
		}
		for k, v := range vals {
			fields[strings.ToLower(k)] = v[0]
		}
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(req.body), params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				break
			}
			if part.FileName() == "" {
				v, _ := io.ReadAll(io.LimitReader(part, maxFormField))
				fields[strings.ToLower(part.FormName())] = string(v)
			}
			part.Close()
		}
	case "application/json":
		var obj map[string]any
		if json.Unmarshal(req.body, &obj) != nil {
			return "", ""
		}
		for k, v := range obj {
			if s, ok := v.(string); ok {
				fields[strings.ToLower(k)] = s
			}
		}
	default:
		return "", ""
	}
	user, pass = pick(fields, userFields), pick(fields, passFields)
	if user == "" || pass == "" && !hasAny(fields, passFields) {
		return "", ""
	}
	return user, pass
}

func pick(fields map[string]string, names []string) string {
	for _, n := range names {
		if v := fields[n]; v != "" {
			return v
		}
	}
	return ""
}

func hasAny(fields map[string]string, names []string) bool {
	for _, n := range names {
		if _, ok := fields[n]; ok {
			return true
		}
	}
	return false
}
