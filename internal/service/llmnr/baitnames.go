package llmnr

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// baitBases are the kinds of server a Windows LAN looks for by a short
// name, which the detector's made-up names imitate.
var baitBases = []string{
	"FILESRV", "FILESERVER", "FS", "NAS", "PRINTSRV", "PRNSRV", "BACKUP", "SHARE", "SHARES",
	"DATA", "SCANS", "DOCS", "ARCHIVE", "SQLSRV", "APPSRV", "INTRANET", "DEPLOY", "WSUS", "SCCM",
}

// baitName makes up a name that looks like a server a user mistyped: a
// common server name and number with one typo (a letter dropped,
// doubled, or two swapped), so that it is plausible to a poisoner and
// most unlikely to exist.
func baitName(rng *rand.Rand) string {
	base := baitBases[rng.IntN(len(baitBases))]
	switch rng.IntN(3) {
	case 0:
		base = fmt.Sprintf("%s%02d", base, 1+rng.IntN(29))
	case 1:
		base = fmt.Sprintf("%s-%02d", base, 1+rng.IntN(29))
	}
	letters := []byte(base)
	i := rng.IntN(len(letters))
	switch rng.IntN(3) {
	case 0:
		if len(letters) > 3 {
			letters = append(letters[:i], letters[i+1:]...)
			break
		}
		fallthrough
	case 1:
		letters = append(letters[:i+1], letters[i:]...)
	default:
		if i+1 < len(letters) && letters[i] != letters[i+1] {
			letters[i], letters[i+1] = letters[i+1], letters[i]
		} else {
			letters = append(letters[:i+1], letters[i:]...)
		}
	}
	name := strings.Trim(string(letters), "-")
	return name[:min(len(name), 15)]
}
