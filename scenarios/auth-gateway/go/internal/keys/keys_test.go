package keys

import "testing"

func TestParseListKeepsEntriesAndRefusesEmptyOrIncompleteLists(t *testing.T) {
	list, err := ParseList([]byte(`[{"kid":"k1","secret":"s1"},{"kid":"k2","secret":"s2","not_after":99}]`))
	if err != nil || len(list) != 2 || list[1].NotAfter != 99 || list[0].Secret != "s1" {
		t.Fatalf("list %+v, err %v", list, err)
	}
	for _, body := range []string{`[]`, `{"kid":"k1"}`, `[{"kid":"","secret":"s"}]`, `[{"kid":"k1"}]`, `not json`} {
		if _, err := ParseList([]byte(body)); err == nil {
			t.Errorf("%s accepted", body)
		}
	}
}
