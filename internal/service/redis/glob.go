package redis

// globMatch is Redis 7.0's stringmatchlen (KEYS, SCAN MATCH, CONFIG GET):
// *, ?, [abc], [^a-z], \x escapes, with its guards against abusive
// patterns (a nesting limit and the skip-longer-matches cut), so a hostile
// pattern costs what it costs real Redis and no more.
func globMatch(pattern, s string, nocase bool) bool {
	skip := false
	return globImpl(pattern, s, nocase, &skip, 0)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func globImpl(pat, str string, nocase bool, skipLonger *bool, nesting int) bool {
	if nesting > 1000 {
		return false
	}
	// at reads like C does from NUL-terminated strings.
	pc := func(i int) byte {
		if i < len(pat) {
			return pat[i]
		}
		return 0
	}
	eq := func(a, b byte) bool {
		if nocase {
			return lower(a) == lower(b)
		}
		return a == b
	}
	p, s := 0, 0
	for p < len(pat) && s < len(str) {
		switch pat[p] {
		case '*':
			for p < len(pat) && pc(p+1) == '*' {
				p++
			}
			if len(pat)-p == 1 {
				return true
			}
			for s < len(str) {
				if globImpl(pat[p+1:], str[s:], nocase, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				s++
			}
			*skipLonger = true
			return false
		case '?':
			s++
		case '[':
			p++
			not := pc(p) == '^'
			if not {
				p++
			}
			match := false
			for {
				if pc(p) == '\\' && len(pat)-p >= 2 {
					p++
					if pat[p] == str[s] {
						match = true
					}
				} else if pc(p) == ']' {
					break
				} else if p >= len(pat) {
					p--
					break
				} else if len(pat)-p >= 3 && pat[p+1] == '-' {
					start, end, c := pat[p], pat[p+2], str[s]
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = lower(start), lower(end), lower(c)
					}
					p += 2
					if c >= start && c <= end {
						match = true
					}
				} else if eq(pat[p], str[s]) {
					match = true
				}
				p++
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s++
		case '\\':
			if len(pat)-p >= 2 {
				p++
			}
			fallthrough
		default:
			if !eq(pat[p], str[s]) {
				return false
			}
			s++
		}
		p++
		if s == len(str) {
			for pc(p) == '*' {
				p++
			}
			break
		}
	}
	return p >= len(pat) && s == len(str)
}
