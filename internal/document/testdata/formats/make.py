#!/usr/bin/env python3
"""Builds the Japanese test documents from source.json.

The generated files are committed; run this only to change them.

Run from this directory with Debian's chromium, libreoffice-writer,
libreoffice-impress, fonts-noto-cjk, fonts-ipafont and qpdf installed:

    python3 make.py

It writes, next to itself:
  report-chromium.pdf   the report printed by headless Chromium (Type 3 fonts)
  report-writer.docx    the report as a Word document (LibreOffice Writer)
  report-writer.pdf     that document exported to PDF by LibreOffice (CID TrueType fonts)
  report-pptxgenjs.pptx one slide per chapter with speaker notes (make-pptx.js;
                        set NODE_PATH to a node_modules with pptxgenjs@3)
  scanned.pdf           a page with an image and no text layer, then a text page
  encrypted.pdf         scanned.pdf encrypted with a user password
  permissions.pdf       scanned.pdf encrypted with an owner password only
  damaged.pdf           the first 3,000 bytes of report-chromium.pdf
  expected.txt          the text every format should yield, for recall measurement
"""
import base64, html, json, os, shutil, subprocess, tempfile, zlib, struct

here = os.path.dirname(os.path.abspath(__file__))
src = json.load(open(os.path.join(here, "source.json"), encoding="utf-8"))
tmp = tempfile.mkdtemp()


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def soffice(path, fmt):
    run("soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{tmp}/lo",
        "--convert-to", fmt, "--outdir", tmp, path)


def report_html(page_breaks):
    css = "body{font-family:'Noto Sans CJK JP',sans-serif;font-size:11pt} td,th{border:1px solid #444;padding:2px 8px}"
    if page_breaks:
        css += " section{page-break-after:always} section:last-child{page-break-after:auto}"
    out = [f"<!doctype html><html lang='ja'><head><meta charset='utf-8'><title>{html.escape(src['title'])}</title><style>{css}</style></head><body>"]
    for i, s in enumerate(src["sections"]):
        out.append("<section>")
        if i == 0:
            out.append(f"<h1>{html.escape(src['title'])}</h1>")
        out.append(f"<h2>{html.escape(s['heading'])}</h2>")
        out += [f"<p>{html.escape(p)}</p>" for p in s["paragraphs"]]
        if "table" in s:
            out.append("<table>")
            for r, row in enumerate(s["table"]):
                tag = "th" if r == 0 else "td"
                out.append("<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in row) + "</tr>")
            out.append("</table>")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)


def expected():
    lines = [src["title"]]
    for s in src["sections"]:
        lines.append(s["heading"])
        lines += s["paragraphs"]
        for row in s.get("table", []):
            lines.append(" ".join(row))
    return "\n".join(lines) + "\n"


def chromium_pdf(html_text, out):
    p = os.path.join(tmp, "page.html")
    open(p, "w", encoding="utf-8").write(html_text)
    run("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
        f"--print-to-pdf={out}", p)


def png(width, height):
    raw = b"".join(b"\x00" + bytes([(x * 7 + y * 3) % 256 for x in range(width)]) for y in range(height))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# report-chromium.pdf
chromium_pdf(report_html(True), os.path.join(here, "report-chromium.pdf"))
# report-writer.docx and report-writer.pdf
h = os.path.join(tmp, "report-writer.html")
open(h, "w", encoding="utf-8").write(report_html(False))
run("soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{tmp}/lo",
    "--infilter=HTML (StarWriter)", "--convert-to", "docx:MS Word 2007 XML", "--outdir", tmp, h)
shutil.copy(os.path.join(tmp, "report-writer.docx"), here)
soffice(os.path.join(tmp, "report-writer.docx"), "pdf")
shutil.copy(os.path.join(tmp, "report-writer.pdf"), here)
# report-pptxgenjs.pptx (LibreOffice Impress cannot be driven from flat XML
# here, so the deck comes from pptxgenjs, a common generator)
run("node", os.path.join(here, "make-pptx.js"))
# scanned.pdf: an image-only page, then a page with text
img = base64.b64encode(png(320, 200)).decode()
chromium_pdf("<!doctype html><html><head><meta charset='utf-8'><style>div{page-break-after:always}</style></head><body>"
             f"<div><img src='data:image/png;base64,{img}' width='320' height='200'></div>"
             "<p>二ページ目には文字があります。</p></body></html>", os.path.join(here, "scanned.pdf"))
# encrypted.pdf and damaged.pdf
run("qpdf", "--encrypt", "secret", "owner", "256", "--", os.path.join(here, "scanned.pdf"), os.path.join(here, "encrypted.pdf"))
run("qpdf", "--encrypt", "", "owner", "256", "--", os.path.join(here, "scanned.pdf"), os.path.join(here, "permissions.pdf"))
data = open(os.path.join(here, "report-chromium.pdf"), "rb").read()
open(os.path.join(here, "damaged.pdf"), "wb").write(data[:3000])
open(os.path.join(here, "expected.txt"), "w", encoding="utf-8").write(expected())
open(os.path.join(here, "expected-notes.txt"), "w", encoding="utf-8").write("\n".join(src["notes"]) + "\n")
shutil.rmtree(tmp)
