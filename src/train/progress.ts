/**
 * Training progress on stderr. On a terminal: one cli-progress bar over all training steps of the run with the
 * ETA to the epoch budget (early stopping may end sooner), the epoch and the latest losses. Elsewhere (a pipe, a
 * log file, CI): one plain line per epoch. stdout is never touched, so `--json` output stays parseable.
 */
import cliProgress from 'cli-progress';
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
