package document

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoadFormats loads each fixture of testdata/formats in memory
// (parse, decode, extract); SetBytes makes the MB/s the file size read.
func BenchmarkLoadFormats(b *testing.B) {
	for _, name := range []string{"report-chromium.pdf", "report-writer.pdf", "report-writer.docx", "report-pptxgenjs.pptx"} {
		data, err := os.ReadFile(filepath.Join("testdata/formats", name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				if _, _, err := LoadBytes(name, data, LoadOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
