package document

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Limits for the ZIP container of .docx and .pptx files. A ZIP bomb
// (a small file that inflates to gigabytes, or holds millions of entries)
// meets one of them and the file is skipped as damaged.
const (
	maxZipEntries   = 20000
	maxPartBytes    = 64 << 20  // one inflated XML part
	maxPackageBytes = 256 << 20 // all parts read from one package
)

// opcPackage is an Office Open XML package (ECMA-376 part 2): a ZIP file
// of XML parts linked by relationship parts.
type opcPackage struct {
	files map[string]*zip.File
	read  int64 // inflated bytes read so far, against maxPackageBytes
}

// cfbSignature starts an OLE compound file: a password-protected .docx
// or .pptx is one (the package is encrypted inside it), and so are the
// legacy binary .doc and .ppt formats.
var cfbSignature = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

func openPackage(data []byte, kind string) (*opcPackage, error) {
	if bytes.HasPrefix(data, cfbSignature) {
		if bytes.Contains(data, utf16le("EncryptedPackage")) {
			return nil, &SkipError{Reason: fmt.Sprintf("the %s is password-protected; save an unprotected copy to ingest it", kind), Err: ErrEncrypted}
		}
		return nil, &SkipError{Reason: fmt.Sprintf("this is a legacy binary Office file, not a %s; save it in the %s format", kind, kind), Err: ErrDamaged}
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, damaged("not a readable ZIP container (%v)", err)
	}
	if len(zr.File) > maxZipEntries {
		return nil, damaged("the package has %d parts, more than the limit of %d", len(zr.File), maxZipEntries)
	}
	p := &opcPackage{files: make(map[string]*zip.File, len(zr.File))}
	for _, f := range zr.File {
		p.files[strings.TrimPrefix(f.Name, "/")] = f
	}
	return p, nil
}

func damaged(format string, a ...any) *SkipError {
	return &SkipError{Reason: "damaged: " + fmt.Sprintf(format, a...), Err: ErrDamaged}
}

func utf16le(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return b
}

// errNoPart distinguishes a missing optional part from a damaged one.
var errNoPart = errors.New("no such part")

// part inflates one part, enforcing the per-part and per-package limits
// on the bytes actually produced (the sizes in the ZIP headers can lie).
func (p *opcPackage) part(name string) ([]byte, error) {
	f := p.files[name]
	if f == nil {
		return nil, errNoPart
	}
	if f.UncompressedSize64 > maxPartBytes {
		return nil, damaged("part %s inflates to %d bytes, more than the limit of %d", name, f.UncompressedSize64, maxPartBytes)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, damaged("cannot open part %s (%v)", name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxPartBytes+1))
	if err != nil {
		return nil, damaged("cannot inflate part %s (%v)", name, err)
	}
	if len(data) > maxPartBytes {
		return nil, damaged("part %s inflates to more than %d bytes", name, maxPartBytes)
	}
	p.read += int64(len(data))
	if p.read > maxPackageBytes {
		return nil, damaged("the package inflates to more than %d bytes", maxPackageBytes)
	}
	return data, nil
}

// rels reads the relationships of a part: id -> target part name.
func (p *opcPackage) rels(partName string) (map[string]string, map[string]string, error) {
	dir, file := path.Split(partName)
	data, err := p.part(dir + "_rels/" + file + ".rels")
	if errors.Is(err, errNoPart) {
		return map[string]string{}, map[string]string{}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var doc struct {
		Rels []struct {
			ID         string `xml:"Id,attr"`
			Type       string `xml:"Type,attr"`
			Target     string `xml:"Target,attr"`
			TargetMode string `xml:"TargetMode,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		return nil, nil, damaged("relationships of %s: %v", partName, err)
	}
	byID, byType := map[string]string{}, map[string]string{}
	for _, r := range doc.Rels {
		if r.TargetMode == "External" {
			continue
		}
		target := r.Target
		if strings.HasPrefix(target, "/") {
			target = strings.TrimPrefix(target, "/")
		} else {
			target = path.Clean(path.Join(dir, target))
		}
		byID[r.ID] = target
		typ := r.Type[strings.LastIndex(r.Type, "/")+1:]
		if _, ok := byType[typ]; !ok {
			byType[typ] = target
		}
	}
	return byID, byType, nil
}

// mainPart is the package's main part with its relationships by id and
// by type.
type mainPart struct {
	name       string
	data       []byte
	relsByID   map[string]string
	relsByType map[string]string
}

// mainPart reads the part the package's officeDocument relationship names
// (fallback where the package has none) and that part's relationships;
// what names the part in the error for a package without it.
func (p *opcPackage) mainPart(fallback, what string) (*mainPart, error) {
	_, rootRels, err := p.rels("")
	if err != nil {
		return nil, err
	}
	name := rootRels["officeDocument"]
	if name == "" {
		name = fallback
	}
	byID, byType, err := p.rels(name)
	if err != nil {
		return nil, err
	}
	data, err := p.part(name)
	if errors.Is(err, errNoPart) {
		return nil, damaged("the package has no %s part (%s)", what, name)
	}
	if err != nil {
		return nil, err
	}
	return &mainPart{name: name, data: data, relsByID: byID, relsByType: byType}, nil
}

// optionalPart reads a part that a document may lack (styles, speaker
// notes): nil and no error when name is "" or names no part.
func (p *opcPackage) optionalPart(name string) ([]byte, error) {
	if name == "" {
		return nil, nil
	}
	data, err := p.part(name)
	if errors.Is(err, errNoPart) {
		return nil, nil
	}
	return data, err
}

// coreTitle is dc:title from docProps/core.xml, or "".
func (p *opcPackage) coreTitle() string {
	data, err := p.part("docProps/core.xml")
	if err != nil {
		return ""
	}
	var core struct {
		Title string `xml:"title"`
	}
	if xml.Unmarshal(data, &core) != nil {
		return ""
	}
	return collapse(core.Title)
}

// attrVal finds an attribute by local name, whatever its prefix.
func attrVal(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// eachChild reads the element just started up to its end, handing each
// child element to child, which consumes it (d.Skip to pass over it).
func eachChild(d *xml.Decoder, child func(xml.StartElement) error) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if err := child(t); err != nil {
				return err
			}
		}
	}
}

// readRuns writes the text of the element just started, up to its end:
// the character data of its t elements (w:t in WordprocessingML, a:t in
// DrawingML). Every other child element goes to child, which consumes it;
// WordprocessingML and DrawingML differ there (breaks, tabs, tables,
// properties to skip).
func readRuns(d *xml.Decoder, b *strings.Builder, child func(xml.StartElement) error) error {
	inText := false
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if inText {
				b.Write(t)
			}
		case xml.EndElement:
			if t.Name.Local == "t" && inText {
				inText = false
				continue
			}
			return nil
		case xml.StartElement:
			if t.Name.Local == "t" {
				inText = true
				continue
			}
			if err := child(t); err != nil {
				return err
			}
		}
	}
}

// readTableRow reads the table row (w:tr or a:tr) just started and writes
// it to b as one line, its cells (tc) joined by " | " with their white
// space folded; cell reads one cell's text. A row of blank cells writes
// nothing.
func readTableRow(d *xml.Decoder, b *strings.Builder, cell func(*strings.Builder) error) error {
	var cells []string
	err := eachChild(d, func(se xml.StartElement) error {
		if se.Name.Local != "tc" {
			return d.Skip()
		}
		var cb strings.Builder
		if err := cell(&cb); err != nil {
			return err
		}
		cells = append(cells, strings.Join(strings.Fields(cb.String()), " "))
		return nil
	})
	if err != nil {
		return err
	}
	if strings.TrimSpace(strings.Join(cells, "")) != "" {
		b.WriteString(strings.Join(cells, " | "))
		b.WriteByte('\n')
	}
	return nil
}
