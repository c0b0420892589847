/**
 * Training progress on stderr. On a terminal: one cli-progress bar over all training steps of the run with the
 * ETA to the epoch budget (early stopping may end sooner), the epoch and the latest losses. Elsewhere (a pipe, a
 * log file, CI): one plain line per epoch. stdout is never touched, so `--json` output stays parseable.
 */
import cliProgress from 'cli-progress';
import { formatDuration } from '../eval/html-report.js';
import type { EpochRecord } from './checkpoint.js';

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';

export interface ProgressReporter {
  /** Called once before the first step; `doneSteps` > 0 when resuming. */
  start(totalSteps: number, doneSteps: number): void;
  step(epoch: number, loss: number): void;
  epochEnd(record: EpochRecord, bestEpoch: number): void;
  /** A message that must not be garbled by the bar. */
  log(line: string): void;
  stop(): void;
}

export function formatEpochLine(record: EpochRecord, epochs: number, bestEpoch: number): string {
  const f = (value: number | null) => (value === null ? '-' : value.toFixed(4));
  return (
    `epoch ${record.epoch}/${epochs}  train_loss ${f(record.train_loss)}  train_acc ${f(record.train_accuracy)}  ` +
    (record.train_corpus_loss === undefined ? '' : `corpus_loss ${f(record.train_corpus_loss)}  `) +
    `val_loss ${f(record.val_loss)}  val_acc ${f(record.val_accuracy)}  ${record.seconds.toFixed(1)} s` +
    (bestEpoch === record.epoch ? '  (best)' : `  (best: epoch ${bestEpoch})`)
  );
}

/** @param mode 'auto' picks 'bar' when stderr is a TTY, else 'lines'. */
export function createProgress(mode: ProgressMode, epochs: number, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const resolved = mode === 'auto' ? (stream.isTTY ? 'bar' : 'lines') : mode;
  if (resolved === 'none') return { start() {}, step() {}, epochEnd() {}, log() {}, stop() {} };
  if (resolved === 'lines') {
    return {
      start() {},
      step() {},
      epochEnd: (record, bestEpoch) => void stream.write(formatEpochLine(record, epochs, bestEpoch) + '\n'),
      log: (line) => void stream.write(line + '\n'),
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'epoch {epoch}/{epochs} |{bar}| {percentage}% | ETA {eta_formatted} | loss {loss} | val_loss {val_loss}',
      etaBuffer: 200,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let value = 0;
  let lastVal = '-';
  return {
    start(totalSteps, doneSteps) {
      value = doneSteps;
      bar.start(totalSteps, doneSteps, { epoch: '-', epochs, loss: '-', val_loss: lastVal });
    },
    step(epoch, loss) {
      value++;
      bar.update(value, { epoch, loss: loss.toFixed(4) });
    },
    epochEnd(record, bestEpoch) {
      lastVal = record.val_loss === null ? '-' : record.val_loss.toFixed(4);
      bar.update(value, { val_loss: lastVal });
      this.log(formatEpochLine(record, epochs, bestEpoch));
    },
    log(line) {
      // Clear the bar's line, print, and let the next update redraw the bar below.
      stream.write('\r\x1b[2K' + line + '\n');
      bar.render();
    },
    stop: () => bar.stop(),
  };
}

/** Lines mode of countProgress: at most one line per this many milliseconds (and none for work that ends sooner). */
const COUNT_LINE_INTERVAL_MS = 15_000;

/** Progress of a count of items (e.g. recordings whose features are read or computed); stops itself at the total. */
export interface CountProgress {
  update(done: number, total: number): void;
}

/**
 * Progress over `what` (e.g. 'features') on stderr, by done / total. 'bar' (or 'auto' on a TTY): a cli-progress bar
 * with the ETA; 'lines' (or 'auto' elsewhere): a line "what: done of total (p%), about T left" at most every 15 s,
 * so quick work (e.g. everything from the feature cache) prints nothing; 'none': nothing.
 */
export function createCountProgress(
  mode: ProgressMode,
  what: string,
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = performance.now.bind(performance),
): CountProgress {
  const resolved = mode === 'auto' ? (stream.isTTY ? 'bar' : 'lines') : mode;
  if (resolved === 'none') return { update() {} };
  if (resolved === 'lines') {
    const started = now();
    let last = started;
    return {
      update(done, total) {
        const t = now();
        if (t - last < COUNT_LINE_INTERVAL_MS) return;
        last = t;
        const left = ((t - started) / 1000 / done) * (total - done);
        stream.write(`${what}: ${done} of ${total} (${Math.floor((100 * done) / total)}%), about ${formatDuration(left)} left\n`);
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    { stream, format: `${what} |{bar}| {value}/{total} | ETA {eta_formatted}`, etaBuffer: 100, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  return {
    update(done, total) {
      if (!running) {
        bar.start(total, 0);
        running = true;
      }
      bar.update(done);
      if (done >= total) {
        bar.stop();
        running = false;
      }
    },
  };
}
