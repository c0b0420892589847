/**
 * A small RFC 4180 CSV reader: comma-separated fields, optional double quotes, `""` for a quote inside a
 * quoted field, quoted fields may hold commas and newlines; CRLF or LF line ends; a UTF-8 BOM is skipped.
 * Another delimiter (a tab for TSV) can be given. Enough for dataset manifests and the corpora's metadata files
 * (CREMA-D's CSVs, nEMO's data.tsv); no type inference, every field is a string.
 */
import { SerError } from '../errors.js';

/** Parses CSV text into rows of fields. Blank lines are skipped. `source` names the file in errors; `delimiter` is one character. */
export function parseCsv(text: string, source = '<csv>', delimiter = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false; // inside a quoted field
  let line = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRow = (): void => {
    row.push(field);
    field = '';
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
  };
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"') {
      if (field !== '') {
        throw new SerError(
          'EFORMAT',
          'csv',
          `${source}:${line}: a quote inside an unquoted field (quote the whole field and write "" for a quote)`,
        );
      }
      quoted = true;
    } else if (ch === delimiter) {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
    } else {
      field += ch;
    }
  }
  if (quoted) throw new SerError('EFORMAT', 'csv', `${source}: a quoted field opened before line ${line} is never closed`);
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

/**
 * Parses CSV with a header row into one record per data row, keyed by the (trimmed) header names.
 * Rows with a different number of fields than the header are an EFORMAT error naming the line.
 */
export function parseCsvRecords(text: string, source = '<csv>', delimiter = ','): { header: string[]; records: Record<string, string>[] } {
  const rows = parseCsv(text, source, delimiter);
  const headerRow = rows[0];
  if (!headerRow) throw new SerError('EFORMAT', 'csv', `${source}: empty file (expected a header row)`);
  const header = headerRow.map((name) => name.trim());
  const records = rows.slice(1).map((fields, index) => {
    if (fields.length !== header.length) {
      throw new SerError(
        'EFORMAT',
        'csv',
        `${source}: data row ${index + 1} has ${fields.length} fields but the header has ${header.length} (${header.join(',')})`,
      );
    }
    const record: Record<string, string> = {};
    header.forEach((name, column) => {
      record[name] = fields[column] as string;
    });
    return record;
  });
  return { header, records };
}

/** Quotes a field for CSV output when it holds a comma, quote or newline. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
