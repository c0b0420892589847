/** Count progress (src/train/progress.ts createCountProgress): quiet for quick work, a line with the time left, a bar on a terminal. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createCountProgress } from '../../src/train/progress.js';

/** A stderr stand-in that keeps what is written; `tty` makes it look like a terminal. */
function capture(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: tty, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  return { stream, text: () => text };
}

test('lines: nothing for work that ends within 15 s, then at most a line per 15 s with the time left', () => {
  let clock = 0;
  const quick = capture(false);
  const fast = createCountProgress('auto', 'features', quick.stream, () => clock);
  for (let done = 1; done <= 100; done++) {
    clock = done * 100; // 10 s for all 100
    fast.update(done, 100);
  }
  assert.equal(quick.text(), '');

  clock = 0;
  const slow = capture(false);
  const progress = createCountProgress('lines', 'features', slow.stream, () => clock);
  for (let done = 1; done <= 100; done++) {
    clock = done * 1000; // 1 s per recording
    progress.update(done, 100);
  }
  const lines = slow.text().trim().split('\n');
  assert.equal(lines.length, 6, slow.text()); // at 15, 30, ..., 90 s
  assert.equal(lines[0], 'features: 15 of 100 (15%), about 1 min 25 s left');
  assert.equal(lines[5], 'features: 90 of 100 (90%), about 10.0 s left');
});

test("none prints nothing; bar (or auto on a terminal) draws cli-progress's bar to the total", () => {
  const silent = capture(true);
  const none = createCountProgress('none', 'features', silent.stream);
  none.update(1, 2);
  none.update(2, 2);
  assert.equal(silent.text(), '');
  const terminal = capture(true);
  const bar = createCountProgress('auto', 'features', terminal.stream);
  for (let done = 1; done <= 10; done++) bar.update(done, 10);
  assert.match(terminal.text(), /features \|.*\| 10\/10 \| ETA/);
});
