package elasticsearch

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"time"
)

// baitIndex is an index seeded for a persona: count documents made on
// demand from the decky's seed, so a large index costs no memory.
type baitIndex struct {
	name  string
	count int
	avg   int // bytes per document on disk
	make  func(rng *rand.Rand, i int, now time.Time) obj
}

// baitSets are the persona's choices of indices.
var baitSets = map[string]func(now time.Time) []baitIndex{
	"customers": func(time.Time) []baitIndex {
		return []baitIndex{
			{"customers", 48213, 610, customerDoc},
			{"orders", 131872, 420, orderDoc},
			{"users", 3120, 380, userDoc},
		}
	},
	"logs": func(now time.Time) []baitIndex {
		var out []baitIndex
		for d := 2; d >= 0; d-- {
			day := now.AddDate(0, 0, -d).Format("2006.01.02")
			out = append(out, baitIndex{"logs-app-" + day, 210000 + d*7391, 350, appLogDoc})
		}
		return append(out, baitIndex{"nginx-access", 912334, 290, accessLogDoc})
	},
}

var (
	firstNames = []string{"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Daniel", "Karen", "Lukas", "Emma", "Noah", "Sofia"}
	lastNames  = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Schmidt", "Muller"}
	cities     = [][2]string{{"Chicago", "US"}, {"Houston", "US"}, {"Phoenix", "US"}, {"Denver", "US"}, {"Toronto", "CA"}, {"Manchester", "GB"}, {"Hamburg", "DE"}, {"Lyon", "FR"}, {"Madrid", "ES"}, {"Rotterdam", "NL"}}
	mailHosts  = []string{"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "aol.com", "gmx.de"}
	products   = []string{"Wireless Earbuds", "USB-C Charger 65W", "Running Shoes", "Coffee Grinder", "4K Monitor 27in", "Backpack 30L", "Smart Watch", "Desk Lamp", "Yoga Mat", "Mechanical Keyboard"}
)

func pick[T any](rng *rand.Rand, l []T) T { return l[rng.IntN(len(l))] }

func stamp(now time.Time, rng *rand.Rand, days int) string {
	return now.Add(-time.Duration(rng.Int64N(int64(days)*86400)) * time.Second).UTC().Format("2006-01-02T15:04:05.000Z")
}

func customerDoc(rng *rand.Rand, i int, now time.Time) obj {
	first, last := pick(rng, firstNames), pick(rng, lastNames)
	city := pick(rng, cities)
	return obj{
		{"customer_id", 100000 + i},
		{"first_name", first},
		{"last_name", last},
		{"email", fmt.Sprintf("%s.%s%d@%s", lower(first), lower(last), rng.IntN(99), pick(rng, mailHosts))},
		{"phone", fmt.Sprintf("+1-%03d-%03d-%04d", 200+rng.IntN(700), rng.IntN(1000), rng.IntN(10000))},
		{"address", obj{{"street", fmt.Sprintf("%d %s St", 1+rng.IntN(9800), pick(rng, lastNames))}, {"city", city[0]}, {"country", city[1]}}},
		{"card_last4", fmt.Sprintf("%04d", rng.IntN(10000))},
		{"card_expiry", fmt.Sprintf("%02d/%02d", 1+rng.IntN(12), 26+rng.IntN(5))},
		{"loyalty_points", rng.IntN(12000)},
		{"created_at", stamp(now, rng, 1400)},
	}
}

func orderDoc(rng *rand.Rand, i int, now time.Time) obj {
	qty := 1 + rng.IntN(3)
	price := float64(500+rng.IntN(30000)) / 100
	return obj{
		{"order_id", fmt.Sprintf("ORD-%07d", 2400000+i)},
		{"customer_id", 100000 + rng.IntN(48213)},
		{"items", []any{obj{{"sku", fmt.Sprintf("SKU-%05d", rng.IntN(90000))}, {"name", pick(rng, products)}, {"qty", qty}, {"price", fnum(price)}}}},
		{"total", fnum(float64(int(price*float64(qty)*100)) / 100)},
		{"currency", "USD"},
		{"status", pick(rng, []string{"paid", "shipped", "delivered", "refunded", "pending"})},
		{"payment", obj{{"method", "card"}, {"card_last4", fmt.Sprintf("%04d", rng.IntN(10000))}}},
		{"created_at", stamp(now, rng, 365)},
	}
}

func userDoc(rng *rand.Rand, i int, now time.Time) obj {
	first, last := pick(rng, firstNames), pick(rng, lastNames)
	salt := make([]byte, 16)
	for j := range salt {
		salt[j] = byte(rng.IntN(256))
	}
	role := "customer"
	if i < 4 {
		role = "admin"
	}
	return obj{
		{"username", lower(first[:1] + last)},
		{"email", lower(first+"."+last) + "@" + pick(rng, mailHosts)},
		{"password_hash", "$2y$10$" + base64.RawStdEncoding.EncodeToString(salt)[:22] + base64.RawStdEncoding.EncodeToString(append(salt, salt...))[:31]},
		{"role", role},
		{"last_login", stamp(now, rng, 30)},
		{"active", true},
	}
}

// logMessages are application log lines, some leaking secrets.
var logMessages = []func(n int) string{
	func(n int) string { return fmt.Sprintf("User login succeeded for user_id=%d", n) },
	func(int) string { return "Payment gateway timeout after 30000ms, retrying (attempt 2)" },
	func(int) string { return "Connected to database postgres://app_rw:Qw7!vR2pLx@10.0.3.12:5432/shop_prod" },
	func(n int) string {
		return fmt.Sprintf("Outgoing request to https://api.stripe.com/v1/charges with key sk_live_51Hx%07dAbCdEfGhIjKlMnOp", n)
	},
	func(n int) string { return fmt.Sprintf("Cache miss for key session:%d", n) },
	func(int) string { return "JWT validation failed: token expired" },
	func(n int) string {
		return fmt.Sprintf("S3 upload ok bucket=prod-backups key=db/shop_prod-%d.sql.gz (AWS_ACCESS_KEY_ID=AKIA4Q7R2XK5M3HB%04d)", n, n%10000)
	},
}

func appLogDoc(rng *rand.Rand, i int, now time.Time) obj {
	msg := pick(rng, logMessages)(rng.IntN(9000000))
	return obj{
		{"@timestamp", stamp(now, rng, 1)},
		{"level", pick(rng, []string{"INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"})},
		{"service", pick(rng, []string{"checkout", "auth", "catalog", "billing"})},
		{"host", fmt.Sprintf("app-%02d", 1+rng.IntN(6))},
		{"message", msg},
	}
}

func accessLogDoc(rng *rand.Rand, i int, now time.Time) obj {
	paths := []string{"/", "/login", "/api/v1/cart", "/api/v1/orders", "/admin/", "/static/app.js", "/wp-login.php", "/.env"}
	return obj{
		{"@timestamp", stamp(now, rng, 3)},
		{"remote_addr", fmt.Sprintf("%d.%d.%d.%d", 23+rng.IntN(180), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))},
		{"request", "GET " + pick(rng, paths) + " HTTP/1.1"},
		{"status", pick(rng, []int{200, 200, 200, 301, 404, 403, 500})},
		{"body_bytes_sent", rng.IntN(60000)},
		{"user_agent", pick(rng, []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", "curl/7.88.1", "python-requests/2.31.0"})},
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// seeded returns a generator fixed by the decky and what it makes.
func seeded(parts ...string) *rand.Rand {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	s := h.Sum64()
	return rand.New(rand.NewPCG(s, s>>7|1))
}

// esUUID is a 22-character URL-safe base64 id like UUIDs.randomBase64UUID.
func esUUID(parts ...string) string {
	rng := seeded(parts...)
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// docID is an auto-generated document id (20 characters, as ES makes).
func docID(parts ...string) string { return esUUID(parts...)[:20] }

// byteSize renders a size as ByteSizeValue does: the largest unit with
// at most one decimal, a trailing ".0" dropped.
func byteSize(n int64) string {
	units := []string{"b", "kb", "mb", "gb", "tb"}
	f := float64(n)
	u := 0
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	s := strconv.FormatFloat(float64(int64(f*10+0.5))/10, 'f', -1, 64)
	return s + units[u]
}
