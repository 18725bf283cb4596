package crawl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// stateVersion changes when the file's meaning does; an unknown version
// is ignored (the next crawl is a full one), never misread.
const stateVersion = 1

// State is what a crawl remembers for the next one: every page's
// validators (ETag, Last-Modified) with the text and links extracted from
// it, so a page answered 304 Not Modified still contributes its text and
// its links are still followed; and the documents it produced, so a later
// crawl can tell which of them are gone.
type State struct {
	Version int              `json:"version"`
	Pages   map[string]*page `json:"pages"`
	// Documents maps each document's source to the URL of its first page.
	Documents map[string]string `json:"documents"`
}

func newState() *State {
	return &State{Version: stateVersion, Pages: map[string]*page{}, Documents: map[string]string{}}
}

// LoadState reads the state file at path; a missing file is an empty state.
func LoadState(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return newState(), nil
	}
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("crawl state %s is damaged (%v); delete it to start a full crawl", path, err)
	}
	if s.Version != stateVersion {
		return newState(), nil
	}
	if s.Pages == nil {
		s.Pages = map[string]*page{}
	}
	if s.Documents == nil {
		s.Documents = map[string]string{}
	}
	return &s, nil
}

// Save writes the state atomically: a crash leaves the old file or the
// new one, never half of either.
func (s *State) Save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".crawl-state-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
