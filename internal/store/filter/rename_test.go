package filter

import "testing"

func TestRenameFields(t *testing.T) {
	rename := func(f string) string {
		if f == "id" {
			return "chunk_id"
		}
		return f
	}
	f := func(in, want string) {
		t.Helper()
		got, err := RenameFields(in, rename)
		if err != nil || got != want {
			t.Errorf("RenameFields(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	f(`id in [2, 5, 77]`, `chunk_id in [2, 5, 77]`)
	f(`id > 4`, `chunk_id > 4`)
	f(`4 < id`, `4 < chunk_id`)
	f(`subject == "technology" and year > 2020`, `subject == "technology" and year > 2020`)
	f(`(id==1)||source=="id"`, `(chunk_id==1)||source=="id"`)
	f(`$meta["id"] == 1 and idx == 2`, `$meta["id"] == 1 and idx == 2`)
	f(`meta["id"] == 1 or ID == 3`, `meta["id"] == 1 or ID == 3`)
	f(`not (id in [1])`, `not (chunk_id in [1])`)
	f(`text like "id%" and id is not null`, `text like "id%" and chunk_id is not null`)

	if _, err := RenameFields(`id = 1`, rename); err == nil {
		t.Error("a malformed filter was renamed without an error")
	}
}
