package redis

import (
	"math"
	"strconv"
	"strings"
)

// luaGlobals are the globals Redis 7.0's script sandbox exposes (probed on
// the real server); reading any other global fails.
var luaGlobals = map[string]bool{}

var luaKeywords = map[string]bool{}

func init() {
	for _, g := range strings.Fields(`redis KEYS ARGV string table math bit cjson cmsgpack struct coroutine
		assert error ipairs next pairs pcall rawequal rawget rawset select tonumber tostring type unpack
		xpcall getmetatable setmetatable loadstring load collectgarbage gcinfo _G _VERSION`) {
		luaGlobals[g] = true
	}
	for _, k := range strings.Fields(`and break do else elseif end false for function if in local nil not or repeat return then true until while`) {
		luaKeywords[k] = true
	}
}

// evalScript stands in for Redis's Lua interpreter, which we do not embed.
// It gives the sandbox's own error for the first read of a forbidden
// global (os, io, package... what exploit scripts use) and for writes to
// new globals, answers scripts that return a literal, KEYS[i] or ARGV[i]
// as Redis would, and returns nil for the rest, as a script without a
// return statement does.
func evalScript(body string, keys, argv []string) value {
	sha := scriptSHA(body)
	fail := func(line int, msg string) value {
		l := strconv.Itoa(line)
		return errReply(sanitize("ERR user_script:" + l + ": " + msg + " script: " + sha + ", on @user_script:" + l + "."))
	}
	locals := map[string]bool{}
	line, prevSig := 1, byte(0)
	declaring := false // after "local" or "for" or inside a function's parameter list
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c == '\n':
			line++
			i++
			declaring = false
			continue
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		case strings.HasPrefix(body[i:], "--"):
			end := strings.IndexByte(body[i:], '\n')
			if strings.HasPrefix(body[i:], "--[[") {
				end = strings.Index(body[i:], "]]")
			}
			if end < 0 {
				return null
			}
			line += strings.Count(body[i:i+end], "\n")
			i += end
			continue
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(body) && body[j] != c {
				if body[j] == '\\' {
					j++
				}
				j++
			}
			line += strings.Count(body[i:min(j, len(body))], "\n")
			i, prevSig = j+1, c
			continue
		case strings.HasPrefix(body[i:], "[["):
			end := strings.Index(body[i:], "]]")
			if end < 0 {
				return null
			}
			line += strings.Count(body[i:i+end], "\n")
			i, prevSig = i+end+2, ']'
			continue
		case c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z'):
			j := i
			for j < len(body) && (body[j] == '_' || (body[j]|0x20 >= 'a' && body[j]|0x20 <= 'z') || (body[j] >= '0' && body[j] <= '9')) {
				j++
			}
			id := body[i:j]
			field := prevSig == '.' || prevSig == ':'
			i, prevSig = j, 'a'
			switch {
			case id == "local" || id == "for" || id == "function":
				declaring = true
			case id == "in" || id == "do":
				declaring = false
			case luaKeywords[id] || field:
			case declaring:
				locals[id] = true
			case locals[id] || luaGlobals[id]:
			default:
				rest := strings.TrimLeft(body[i:], " \t")
				if strings.HasPrefix(rest, "=") && !strings.HasPrefix(rest, "==") {
					return fail(line, "Attempt to modify a readonly table")
				}
				return fail(line, "Script attempted to access nonexistent global variable '"+id+"'")
			}
			continue
		case c == '=' || c == ')' || c == ';':
			declaring = false
		}
		prevSig = c
		i++
	}
	return scriptResult(body, keys, argv)
}

// scriptResult evaluates a lone "return <literal>" statement.
func scriptResult(body string, keys, argv []string) value {
	expr, found := strings.CutPrefix(strings.TrimSpace(body), "return")
	if !found {
		return null
	}
	expr = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(expr), ";"))
	switch {
	case expr == "true":
		return integer(1)
	case len(expr) >= 2 && (expr[0] == '\'' || expr[0] == '"') && expr[len(expr)-1] == expr[0]:
		return bulk(expr[1 : len(expr)-1])
	}
	if f, err := strconv.ParseFloat(expr, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return integer(int64(f))
	}
	for name, list := range map[string][]string{"KEYS": keys, "ARGV": argv} {
		if idx, ok := strings.CutPrefix(expr, name+"["); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			if err == nil && n >= 1 && n <= len(list) {
				return bulk(list[n-1])
			}
		}
	}
	return null
}
