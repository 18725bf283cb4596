package split

import (
	"errors"
	"reflect"
	"testing"
)

func TestNewValidates(t *testing.T) {
	f := func(o Options, wantErr string) {
		t.Helper()
		s, err := New(o)
		if wantErr == "" {
			if err != nil || s == nil {
				t.Fatalf("New(%+v) = %v, %v; want a splitter", o, s, err)
			}
			return
		}
		if err == nil {
			t.Fatalf("New(%+v) succeeded; want error %q", o, wantErr)
		}
		if err.Error() != wantErr {
			t.Fatalf("New(%+v) error %q; want %q", o, err, wantErr)
		}
		if !errors.Is(err, ErrOptions) {
			t.Fatalf("New(%+v) error %v does not wrap ErrOptions", o, err)
		}
	}
	f(DefaultOptions(), "")
	f(Options{ChunkSize: 10}, "") // empty kind means ja
	f(Options{Kind: "character", ChunkSize: 1}, "")
	f(Options{Kind: "recursive", ChunkSize: 5, ChunkOverlap: 4}, "")
	f(Options{Kind: "markdown", ChunkSize: 200}, `splitter "markdown" is unknown; valid splitters are ja, character, recursive`)
	f(Options{Kind: "ja", ChunkSize: 0}, "chunk_size 0 must be greater than 0")
	f(Options{Kind: "ja", ChunkSize: -3}, "chunk_size -3 must be greater than 0")
	f(Options{Kind: "ja", ChunkSize: 200, ChunkOverlap: -1}, "chunk_overlap -1 must not be negative")
	f(Options{Kind: "ja", ChunkSize: 200, ChunkOverlap: 250}, "chunk_overlap 250 must be smaller than chunk_size 200")
	f(Options{Kind: "character", ChunkSize: 200, ChunkOverlap: 200}, "chunk_overlap 200 must be smaller than chunk_size 200")
}

func TestDefaultOptions(t *testing.T) {
	want := Options{Kind: "ja", ChunkSize: 200, ChunkOverlap: 20, Separator: "\n"}
	if got := DefaultOptions(); !reflect.DeepEqual(got, want) {
		t.Fatalf("DefaultOptions() = %+v; want %+v", got, want)
	}
}

func TestNewCopiesSeparators(t *testing.T) {
	seps := []string{"。", ""}
	s, err := New(Options{Kind: "recursive", ChunkSize: 8, Separators: seps})
	if err != nil {
		t.Fatal(err)
	}
	seps[0] = "X"
	got := s.Split("一文目。二文目。三文目。")
	want := []string{"一文目。二文目", "。三文目。"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q; want %q", got, want)
	}
}

// splitWith is the f-test helper shared by the splitter tests.
func splitWith(t *testing.T, o Options, in string, want ...string) {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Split(in)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s size %d overlap %d on %q:\n got %q\nwant %q", o.Kind, o.ChunkSize, o.ChunkOverlap, in, got, want)
	}
}
