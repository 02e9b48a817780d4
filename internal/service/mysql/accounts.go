package mysql

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// account is a row of MariaDB's account list, in the server's order.
type account struct {
	user, host string
	// socket says the account may log in through unix_socket, so a
	// refused login is error 1698 (root and mysql on Debian).
	socket bool
	// locked accounts refuse a login without a password with error
	// 4151 (the check comes after a password's).
	locked bool
}

// stockAccounts are a fresh Debian install's accounts (real-products.md
// §6).
var stockAccounts = []account{{user: "mariadb.sys", host: "localhost", locked: true}, {user: "mysql", host: "localhost", socket: true}, {user: "root", host: "localhost", socket: true}}

// accountList is the server's sorted account list: the stock accounts
// and the persona's, each for any host, sorted as MariaDB sorts them (by
// user name, then the exact host before the wildcard).
func accountList(names []string) []account {
	list := slices.Clone(stockAccounts)
	for _, n := range names {
		a := account{user: n, host: "%"}
		if !slices.Contains(list, a) {
			list = append(list, a)
		}
	}
	sortAccounts(list)
	return list
}

// sortAccounts sorts as MariaDB does: by user name, then host, exact
// hosts before the wildcard and "localhost" before loopback addresses.
func sortAccounts(list []account) {
	slices.SortStableFunc(list, func(a, b account) int {
		if c := strings.Compare(a.user, b.user); c != 0 {
			return c
		}
		return strings.Compare(b.host, a.host)
	})
}

// maxUserChars is MariaDB's user name length (USERNAME_CHAR_LENGTH):
// longer names are cut before they are looked up or printed.
const maxUserChars = 128

// serverUserName is the user name as MariaDB keeps it: at most 128
// characters, with bytes that are not UTF-8 replaced by '?'.
func serverUserName(b string) string {
	var sb strings.Builder
	n := 0
	for i := 0; i < len(b) && n < maxUserChars; n++ {
		r, size := utf8.DecodeRuneInString(b[i:])
		if r == utf8.RuneError && size <= 1 {
			sb.WriteByte('?')
			i++
			continue
		}
		sb.WriteString(b[i : i+size])
		i += size
	}
	return sb.String()
}

// mariadbRefusal is MariaDB's error for a refused login of user (as
// serverUserName makes it) from host: 1698 when the account that matched
// (or that MariaDB borrowed for a user that does not exist) may log in
// through unix_socket, 4151 for a locked account without a password,
// 1045 with the "(using password: …)" tail otherwise.
func mariadbRefusal(list []account, user, host string, usedPassword bool) []byte {
	acct, found := account{}, false
	for _, a := range list {
		if a.user == user && (a.host == "%" || a.host == host) {
			acct, found = a, true
			break
		}
	}
	if !found {
		// MariaDB fails a user that does not exist with an account of the
		// list chosen by a hash of the name, so that the answers of real
		// and made-up names look alike (sql_acl.cc, find_mpvio_user).
		acct = list[latin1Hash(user)%uint64(len(list))]
	}
	switch {
	case acct.socket:
		return errPacket(1698, "28000", fmt.Sprintf("Access denied for user '%s'@'%s'", user, host))
	case found && acct.locked && !usedPassword:
		return errPacket(4151, "HY000", "Access denied, this account is locked")
	}
	return accessDenied(user, host, usedPassword)
}

// accessDenied is error 1045.
func accessDenied(user, host string, usedPassword bool) []byte {
	yes := "NO"
	if usedPassword {
		yes = "YES"
	}
	return errPacket(1045, "28000", fmt.Sprintf("Access denied for user '%s'@'%s' (using password: %s)", user, host, yes))
}

// latin1Hash is my_hash_sort_simple over latin1_swedish_ci, which maps
// ASCII letters to upper case (bytes above 0x7f are taken as they are, an
// approximation of the collation's table), with trailing spaces ignored.
func latin1Hash(s string) uint64 {
	s = strings.TrimRight(s, " ")
	nr1, nr2 := uint64(1), uint64(4)
	for i := 0; i < len(s); i++ {
		c := uint64(s[i])
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		nr1 ^= ((nr1&63)+nr2)*c + nr1<<8
		nr2 += 3
	}
	return nr1
}
