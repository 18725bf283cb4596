// Builds report-pptxgenjs.pptx from source.json with pptxgenjs
// (npm install pptxgenjs@3): one slide per chapter with a title, the
// chapter's paragraphs, its table if any, and speaker notes. Run by make.py.
const fs = require("fs");
const path = require("path");
const PptxGenJS = require("pptxgenjs");

const src = JSON.parse(fs.readFileSync(path.join(__dirname, "source.json"), "utf8"));
const pptx = new PptxGenJS();
pptx.title = src.title;
src.sections.forEach((s, i) => {
  const slide = pptx.addSlide();
  slide.addText(s.heading, { x: 0.5, y: 0.3, w: 9, h: 0.8, fontSize: 28, fontFace: "Noto Sans CJK JP" });
  slide.addText(s.paragraphs.map((p) => ({ text: p, options: { breakLine: true } })),
    { x: 0.5, y: 1.2, w: 9, h: 2.6, fontSize: 14, fontFace: "Noto Sans CJK JP" });
  if (s.table) {
    slide.addTable(s.table.map((row) => row.map((c) => ({ text: c }))), { x: 0.5, y: 3.9, w: 9, fontSize: 12 });
  }
  slide.addNotes(src.notes[i]);
});
pptx.writeFile({ fileName: path.join(__dirname, "report-pptxgenjs.pptx") }).then(() => {});
