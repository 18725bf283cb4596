package document

import "testing"

func TestMarkdownTitleIsOneLine(t *testing.T) {
	docs, _, err := LoadBytes("t.md", []byte("---\ntitle: \"a\\r\\nb\\tc\"\n---\nbody"), LoadOptions{})
	if err != nil || docs[0].Title != "a b c" {
		t.Fatalf("got %q, %v", docs[0].Title, err)
	}
}
