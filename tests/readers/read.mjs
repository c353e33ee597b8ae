// Reads a file the reporting service wrote with a reader that is not ours and prints what it
// found as JSON on stdout: `node read.mjs xlsx FILE` (exceljs: every cell's value and type,
// the merged ranges, frozen rows, page setup) or `node read.mjs csv FILE` (csv-parse: whether
// a byte order mark led the file, and the records).
import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';

const [kind, file] = process.argv.slice(2);

if (kind === 'xlsx') {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const ws = wb.worksheets[0];
  const rows = [];
  ws.eachRow({ includeEmpty: true }, (row, r) => {
    const cells = [];
    row.eachCell({ includeEmpty: true }, (cell, c) => {
      cells[c - 1] = { v: cell.value, t: typeof cell.value };
    });
    rows[r - 1] = cells;
  });
  const view = (ws.views || [])[0] || {};
  console.log(JSON.stringify({
    sheet: ws.name,
    rows,
    merges: ws.model.merges || [],
    frozen_rows: view.state === 'frozen' ? view.ySplit : 0,
    paper: ws.pageSetup.paperSize,
    orientation: ws.pageSetup.orientation,
  }));
} else if (kind === 'csv') {
  const raw = readFileSync(file);
  const bom = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf;
  const records = parse(raw, { bom: true, relax_column_count: false });
  console.log(JSON.stringify({ bom, records }));
} else {
  console.error('usage: node read.mjs xlsx|csv FILE');
  process.exit(2);
}
