// Package parse turns untrusted request bodies into log lines: NDJSON
// objects or the plain line protocol, each line checked on its own.
package parse

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Line is one accepted log line, before it is stamped and stored.
type Line struct {
	Level string `json:"level"`
	Msg   string `json:"msg"`
}

// Result is what a body held: the good lines and how many were refused.
type Result struct {
	Lines    []Line
	Rejected int
}

var levels = map[string]bool{"debug": true, "info": true, "warn": true, "error": true}

// NDJSON parses one JSON object per line: `msg` a non-empty string, `level`
// one of debug, info, warn, error (default info). Blank lines are skipped;
// a line over maxLine bytes, not an object, or with bad fields is refused.
func NDJSON(body []byte, maxLine int) Result {
	var res Result
	for _, raw := range splitLines(body) {
		if len(raw) > maxLine {
			res.Rejected++
			continue
		}
		var obj struct {
			Level *string `json:"level"`
			Msg   *string `json:"msg"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil || obj.Msg == nil {
			res.Rejected++
			continue
		}
		level := "info"
		if obj.Level != nil {
			level = *obj.Level
		}
		if l, ok := checked(level, *obj.Msg); ok {
			res.Lines = append(res.Lines, l)
		} else {
			res.Rejected++
		}
	}
	return res
}

// Plain parses the line protocol: `<level> <message>` per line, the level
// one of debug, info, warn, error, the message the rest of the line.
func Plain(body []byte, maxLine int) Result {
	var res Result
	for _, raw := range splitLines(body) {
		if len(raw) > maxLine {
			res.Rejected++
			continue
		}
		level, msg, _ := strings.Cut(string(raw), " ")
		if l, ok := checked(level, strings.TrimSpace(msg)); ok {
			res.Lines = append(res.Lines, l)
		} else {
			res.Rejected++
		}
	}
	return res
}

// checked validates one line's fields.
func checked(level, msg string) (Line, bool) {
	if !levels[level] || msg == "" || strings.ContainsRune(msg, 0) {
		return Line{}, false
	}
	return Line{Level: level, Msg: msg}, true
}

// splitLines splits on "\n" (a trailing "\r" dropped) and skips blank lines.
func splitLines(body []byte) [][]byte {
	var out [][]byte
	for _, raw := range bytes.Split(body, []byte("\n")) {
		raw = bytes.TrimSuffix(raw, []byte("\r"))
		if len(bytes.TrimSpace(raw)) > 0 {
			out = append(out, raw)
		}
	}
	return out
}

// ValidTenant reports whether t is 1..64 characters of [A-Za-z0-9_.-].
func ValidTenant(t string) bool {
	if len(t) == 0 || len(t) > 64 {
		return false
	}
	for _, c := range t {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '.' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}
