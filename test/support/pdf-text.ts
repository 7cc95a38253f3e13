import { execFile } from 'node:child_process';

// pdf.js loads its worker with a dynamic import(), which Jest's module system refuses; the extraction
// runs in a plain Node process instead, the way a person's PDF reader would see the file.
const SCRIPT = `
const { PDFParse } = require('pdf-parse');
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', async () => {
  const parser = new PDFParse({ data: new Uint8Array(Buffer.concat(chunks)) });
  const result = await parser.getText();
  process.stdout.write(result.text);
  await parser.destroy();
});`;

/** The text a PDF reader extracts from the document, page by page. */
export function pdfText(pdf: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['-e', SCRIPT],
      { cwd: process.cwd(), maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    );
    child.stdin!.end(pdf);
  });
}
