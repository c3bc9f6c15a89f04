package parse

import (
	"reflect"
	"strings"
	"testing"
)

func TestNDJSONKeepsGoodLinesAndCountsBadOnes(t *testing.T) {
	body := "{\"level\":\"warn\",\"msg\":\"disk 91%\"}\n" +
		"\n" +
		"not json\n" +
		"{\"msg\":\"no level\"}\r\n" +
		"{\"level\":\"loud\",\"msg\":\"x\"}\n" +
		"{\"level\":\"info\"}\n" +
		"[1,2]\n"
	res := NDJSON([]byte(body), 1024)
	want := []Line{{"warn", "disk 91%"}, {"info", "no level"}}
	if !reflect.DeepEqual(res.Lines, want) || res.Rejected != 4 {
		t.Fatalf("got %+v rejected %d", res.Lines, res.Rejected)
	}
}

func TestPlainAndLineSizeLimit(t *testing.T) {
	body := "error payment declined\n" +
		"info " + strings.Repeat("a", 40) + "\n" +
		"warn\n" +
		"trace hello\n"
	res := Plain([]byte(body), 30)
	want := []Line{{"error", "payment declined"}}
	if !reflect.DeepEqual(res.Lines, want) || res.Rejected != 3 {
		t.Fatalf("got %+v rejected %d", res.Lines, res.Rejected)
	}
}

func TestValidTenant(t *testing.T) {
	for _, ok := range []string{"acme", "team-1.prod", "A_b"} {
		if !ValidTenant(ok) {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"", "a b", "x/y", strings.Repeat("t", 65)} {
		if ValidTenant(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
