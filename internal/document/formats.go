package document

// containerFormats are the formats read from a container (PDF objects, a
// ZIP package of XML parts) rather than decoded as text; see pdf.go,
// docx.go and pptx.go. They join the list [Supported] checks.
var containerFormats = []string{".pdf", ".docx", ".pptx"}

// The list of extensions lives with Collect (collect.go), which another
// change owns; adding to it here keeps that file untouched.
func init() { extensions = append(extensions, containerFormats...) }
