import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvField, parseCsv, parseCsvRecords } from '../../src/data/index.js';

test('parseCsv: quoted fields with commas, quotes and newlines; CRLF; BOM; blank lines', () => {
  const text = '\ufeffpath,label\r\n"a, b.wav",happy\r\n\r\n"say ""hi"".wav","multi\nline"\nplain.wav,sad';
  assert.deepEqual(parseCsv(text), [
    ['path', 'label'],
    ['a, b.wav', 'happy'],
    ['say "hi".wav', 'multi\nline'],
    ['plain.wav', 'sad'],
  ]);
});

test('parseCsv: empty fields and a trailing newline', () => {
  assert.deepEqual(parseCsv('a,,c\n,,\n'), [
    ['a', '', 'c'],
    ['', '', ''],
  ]);
});

test('parseCsv: malformed quoting is an EFORMAT error naming the file and line', () => {
  assert.throws(() => parseCsv('path,label\nab"c,happy\n', 'm.csv'), {
    code: 'EFORMAT',
    message: /m\.csv:2: a quote inside an unquoted field/,
  });
  assert.throws(() => parseCsv('path,label\n"abc,happy\n', 'm.csv'), { code: 'EFORMAT', message: /never closed/ });
});

test('parseCsvRecords: records keyed by trimmed header; ragged rows rejected', () => {
  const { header, records } = parseCsvRecords(' path , label\nx.wav,angry\n');
  assert.deepEqual(header, ['path', 'label']);
  assert.deepEqual(records, [{ path: 'x.wav', label: 'angry' }]);
  assert.throws(() => parseCsvRecords('path,label\nx.wav\n', 'm.csv'), {
    code: 'EFORMAT',
    message: /data row 1 has 1 fields but the header has 2/,
  });
});

test('tab-separated: the delimiter is a tab, commas are ordinary characters', () => {
  const { records } = parseCsvRecords(
    'file_id\tnormalized_text\tspeaker_id\nEB0_anger_1.wav\tlubię, czytać\t        EB0\n',
    'data.tsv',
    '\t',
  );
  assert.deepEqual(records, [{ file_id: 'EB0_anger_1.wav', normalized_text: 'lubię, czytać', speaker_id: '        EB0' }]);
  assert.deepEqual(parseCsv('a\t"b\tc"\n', 'x.tsv', '\t'), [['a', 'b\tc']]);
});

test('csvField quotes only when needed and round-trips through parseCsv', () => {
  const values = ['plain', 'a,b', 'say "x"', 'two\nlines'];
  assert.equal(csvField('plain'), 'plain');
  assert.deepEqual(parseCsv(values.map(csvField).join(',')), [values]);
});
