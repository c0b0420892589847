/**
 * The training loop on real clips (12 CREMA-D samples, 1 s, small CNN-TM): it learns (the training loss falls),
 * it is deterministic, and a run interrupted after epoch 1 and resumed ends exactly where an uninterrupted run ends.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, test } from 'node:test';
import { readSafetensors } from '../../src/io/safetensors.js';
import {
  type EpochRecord,
  type TrainerState,
  BEST_FILE,
  CHECKPOINT_FILE,
  HISTORY_FILE,
  loadCheckpoint,
} from '../../src/train/checkpoint.js';
import { type TrainOptions, type TrainingSource, fixedClips, train } from '../../src/train/loop.js';
import { CORPUS_HEAD_PREFIX } from '../../src/model/corpus-head.js';
import { AVERAGE_PREFIX, withoutAverage } from '../../src/train/weight-average.js';
import { tinyData } from './tiny-corpus.js';

const scratch = mkdtempSync(join(tmpdir(), 'ser-loop-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** History without wall times (the only field allowed to differ between identical runs). */
const withoutTimes = (history: readonly EpochRecord[]) => history.map(({ seconds: _, ...rest }) => rest);

function assertSameState(actual: TrainerState, expected: TrainerState, what: string): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${what}: state names`);
  for (const [name, tensor] of expected) {
    const other = actual.get(name)!;
    assert.deepEqual(other.shape, tensor.shape, `${what}: ${name} shape`);
    // Bit-identical: the same float32 bytes.
    assert.ok(
      Buffer.from(other.data.buffer, other.data.byteOffset, other.data.byteLength).equals(
        Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength),
      ),
      `${what}: ${name} differs`,
    );
  }
}

async function options(overrides: Partial<TrainOptions> = {}): Promise<TrainOptions> {
  const data = await tinyData();
  return {
    model: { ...data.model, dropout: 0.1 },
    train: data.all,
    val: data.all,
    seed: 3,
    hyper: { epochs: 3, patience: 10, batchSize: 4, lr: 1e-3 },
    threads: 1,
    progress: 'none',
    ...overrides,
  };
}

test('train: it learns a tiny set (12 clips memorised in 15 epochs)', async () => {
  const data = await tinyData();
  const result = await train(
    await options({ model: { ...data.model, dropout: 0 }, hyper: { epochs: 15, patience: 15, batchSize: 4, lr: 1e-3 } }),
  );
  await result.trainer.release();
  const first = result.history[0]!;
  const last = result.history.at(-1)!;
  assert.equal(result.history.length, 15);
  const trace = result.history.map((r) => `${r.train_loss.toFixed(3)}/${r.val_loss?.toFixed(3)}/${r.train_accuracy.toFixed(2)}`).join(' ');
  // Chance level for 6 balanced classes: ln 6 = 1.79 nats, accuracy 1/6. Measured: train loss 2.67 -> 1.01,
  // eval-mode loss 2.04 -> 0.89, accuracy 0.83 (10 of 12) at epoch 15.
  assert.ok(last.train_loss < 0.5 * first.train_loss, trace);
  assert.ok(last.val_loss !== null && last.val_loss < 0.7 * Math.log(6), trace);
  assert.ok(last.train_accuracy >= 0.75, trace);
  for (const record of result.history) assert.equal(record.lr, 1e-3);
});

test('train: the same seed and data give the same history and weights; another seed does not', async () => {
  const a = await train(await options({ hyper: { epochs: 2, patience: 10, batchSize: 4, lr: 1e-3 } }));
  const b = await train(await options({ hyper: { epochs: 2, patience: 10, batchSize: 4, lr: 1e-3 } }));
  const c = await train(await options({ hyper: { epochs: 2, patience: 10, batchSize: 4, lr: 1e-3 }, seed: 4 }));
  try {
    assert.deepEqual(withoutTimes(a.history), withoutTimes(b.history));
    assertSameState(a.trainer.state(), b.trainer.state(), 'seed 3 twice');
    assert.notDeepEqual(withoutTimes(c.history), withoutTimes(a.history));
  } finally {
    await Promise.all([a, b, c].map((r) => r.trainer.release()));
  }
});

test('train: interrupted after epoch 1 and resumed = uninterrupted (history, weights, checkpoint)', async () => {
  const whole = join(scratch, 'whole');
  const broken = join(scratch, 'broken');
  const reference = await train(await options({ runDir: whole }));
  await reference.trainer.release();

  const abort = new AbortController();
  const first = await train(
    await options({
      runDir: broken,
      signal: abort.signal,
      onEpoch: (record) => {
        if (record.epoch === 1) abort.abort();
      },
    }),
  );
  await first.trainer.release();
  assert.equal(first.finished, 'interrupted');
  assert.equal(loadCheckpoint(broken).loop.epoch, 1);
  assert.equal(readFileSync(join(broken, HISTORY_FILE), 'utf8').trim().split('\n').length, 1);

  const resumed = await train(await options({ runDir: broken, resume: true }));
  try {
    assert.equal(resumed.finished, 'max-epochs');
    assert.deepEqual(withoutTimes(resumed.history), withoutTimes(reference.history));
    assert.equal(resumed.bestEpoch, reference.bestEpoch);
    for (const file of [CHECKPOINT_FILE, BEST_FILE]) {
      assertSameState(readSafetensors(join(broken, file)).tensors, readSafetensors(join(whole, file)).tensors, file);
    }
    // The trainer ends with the best epoch's weights restored.
    assertSameState(resumed.trainer.state(), readSafetensors(join(whole, BEST_FILE)).tensors, 'restored best');
    const lines = readFileSync(join(broken, HISTORY_FILE), 'utf8').trim().split('\n');
    assert.deepEqual(withoutTimes(lines.map((line) => JSON.parse(line) as EpochRecord)), withoutTimes(reference.history));
  } finally {
    await resumed.trainer.release();
  }
});

test('train: a finished run resumed with a larger epoch budget continues from its last epoch', async () => {
  const dir = join(scratch, 'whole');
  const before = loadCheckpoint(dir).loop;
  assert.equal(before.finished, 'max-epochs');
  const more = await train(await options({ runDir: dir, resume: true, hyper: { epochs: 4, patience: 10, batchSize: 4, lr: 1e-3 } }));
  await more.trainer.release();
  assert.equal(more.history.length, 4);
  assert.deepEqual(withoutTimes(more.history.slice(0, 3)), withoutTimes(before.history));
  assert.equal(loadCheckpoint(dir).loop.epoch, 4);
});

test('train: monitor val_uar picks and stops on the validation UAR, val_loss (the default) on the loss', async () => {
  const hyper = { epochs: 8, patience: 3, batchSize: 4, lr: 3e-3 };
  const byLoss = await train(await options({ hyper }));
  const byUar = await train(await options({ hyper: { ...hyper, monitor: 'val_uar' } }));
  await byLoss.trainer.release();
  await byUar.trainer.release();
  const first = (history: readonly EpochRecord[], key: (r: EpochRecord) => number, better: (a: number, b: number) => boolean) =>
    history.reduce((best, r) => (better(key(r), key(best)) ? r : best)).epoch;
  const trace = byUar.history.map((r) => `${r.epoch}: ${r.val_loss?.toFixed(3)}/${r.val_uar?.toFixed(3)}`).join(' ');
  assert.equal(
    byLoss.bestEpoch,
    first(
      byLoss.history,
      (r) => r.val_loss as number,
      (a, b) => a < b,
    ),
    trace,
  );
  assert.equal(
    byUar.bestEpoch,
    first(
      byUar.history,
      (r) => r.val_uar as number,
      (a, b) => a > b,
    ),
    trace,
  );
  // Measured with these settings: the loss and the UAR pick different epochs, so the test tells them apart.
  assert.notEqual(byUar.bestEpoch, byLoss.bestEpoch, trace);
  assert.equal(byUar.bestValLoss, byUar.history[byUar.bestEpoch - 1]?.val_loss, 'bestValLoss is the loss of the kept epoch');
  if (byUar.finished === 'stopped') assert.equal(byUar.history.length, byUar.bestEpoch + hyper.patience, trace);
  await assert.rejects(
    train(await options({ hyper: { ...hyper, monitor: 'val_acc' as never } })),
    /monitored metric must be val_loss or val_uar/,
  );
});

test('train: emaDecay evaluates and keeps the weight average; training goes on from the trained weights', async () => {
  const hyper = { epochs: 1, patience: 10, batchSize: 4, lr: 3e-3 };
  const plainDir = join(scratch, 'ema-plain');
  const averagedDir = join(scratch, 'ema-averaged');
  const plain = await train(await options({ runDir: plainDir, hyper }));
  const averaged = await train(await options({ runDir: averagedDir, hyper: { ...hyper, emaDecay: 0.9 } }));
  await plain.trainer.release();
  await averaged.trainer.release();
  const plainCheckpoint = loadCheckpoint(plainDir).state;
  const averagedCheckpoint = loadCheckpoint(averagedDir).state;
  const best = readSafetensors(join(averagedDir, BEST_FILE)).tensors;
  // The same steps: the same training loss and trained weights (the checkpoint's), besides the average and the BN
  // running statistics (re-estimated for the trained weights only without an average).
  const withoutRunningStats = (state: TrainerState) => new Map([...state].filter(([key]) => !/running_|num_batches/.test(key)));
  assert.equal(averaged.history[0]?.train_loss, plain.history[0]?.train_loss);
  assertSameState(withoutRunningStats(withoutAverage(averagedCheckpoint)), withoutRunningStats(plainCheckpoint), 'trained weights');
  // Kept and evaluated: the average (BN statistics re-estimated for it, so only the other tensors are compared).
  const parameters = [...best.keys()].filter((key) => !key.startsWith('optimizer/') && !/running_|num_batches/.test(key));
  assert.ok(parameters.length > 10);
  for (const key of parameters) {
    const kept = best.get(key)!.data as Float32Array;
    assert.deepEqual(kept, averagedCheckpoint.get(`${AVERAGE_PREFIX}${key}`)?.data, key);
  }
  assert.notDeepEqual(best.get(parameters[0]!)?.data, plainCheckpoint.get(parameters[0]!)?.data);
  assert.notEqual(averaged.history[0]?.val_loss, plain.history[0]?.val_loss);
});

test('train: without a validation part every epoch of the budget is trained and the last one is kept', async () => {
  const hyper = { epochs: 4, patience: 1, batchSize: 4, lr: 3e-3 };
  const dir = join(scratch, 'no-validation');
  const none = { x: new Float32Array(0), y: new Int32Array(0) };
  const fit = await train(await options({ runDir: dir, val: none, hyper }));
  const validated = await train(await options({ hyper: { ...hyper, patience: 10 } }));
  await fit.trainer.release();
  await validated.trainer.release();
  // Patience 1 does not apply: with nothing to validate on, training never stops early.
  assert.equal(fit.finished, 'max-epochs');
  assert.equal(fit.history.length, 4);
  assert.equal(fit.bestEpoch, 4);
  assert.ok(Number.isNaN(fit.bestValLoss));
  for (const record of fit.history) {
    assert.equal(record.val_loss, null);
    assert.equal(record.val_accuracy, null);
    assert.equal(record.val_uar, undefined);
  }
  // The same steps as with a validation part (scoring it draws no random numbers).
  assert.deepEqual(
    fit.history.map((r) => r.train_loss),
    validated.history.map((r) => r.train_loss),
  );
  assert.equal(readSafetensors(join(dir, BEST_FILE)).metadata.epoch, '4');
  assert.equal(loadCheckpoint(dir).loop.earlyStopping.bestEpoch, 4);
});

/**
 * Runs `overrides` twice in scratch/NAME-whole (uninterrupted) and scratch/NAME-broken (stopped after epoch 1, then
 * resumed); both trainers released.
 */
async function interruptedAndResumed(name: string, overrides: Partial<TrainOptions>) {
  const whole = join(scratch, `${name}-whole`);
  const broken = join(scratch, `${name}-broken`);
  const reference = await train(await options({ ...overrides, runDir: whole }));
  await reference.trainer.release();
  const abort = new AbortController();
  const stop = (record: EpochRecord) => {
    if (record.epoch === 1) abort.abort();
  };
  const first = await train(await options({ ...overrides, runDir: broken, signal: abort.signal, onEpoch: stop }));
  await first.trainer.release();
  assert.equal(first.finished, 'interrupted');
  const resumed = await train(await options({ ...overrides, runDir: broken, resume: true }));
  await resumed.trainer.release();
  return { whole, broken, reference, resumed };
}

test('train: with emaDecay, interrupted after epoch 1 and resumed = uninterrupted (the average too)', async () => {
  const hyper = { epochs: 3, patience: 10, batchSize: 4, lr: 1e-3, emaDecay: 0.9 };
  const { whole, broken, reference, resumed } = await interruptedAndResumed('ema', { hyper });
  assert.deepEqual(withoutTimes(resumed.history), withoutTimes(reference.history));
  for (const file of [CHECKPOINT_FILE, BEST_FILE]) {
    assertSameState(readSafetensors(join(broken, file)).tensors, readSafetensors(join(whole, file)).tensors, file);
  }
  assert.ok([...loadCheckpoint(whole).state.keys()].some((key) => key.startsWith(AVERAGE_PREFIX)));
  // Three epochs of the same steps as the run without an average ('whole', the same seed and hyper-parameters):
  // the trained weights' BN statistics, re-estimated there and not here, do not change the training.
  const plain = loadCheckpoint(join(scratch, 'whole'));
  assert.deepEqual(
    reference.history.map((r) => r.train_loss),
    plain.loop.history.slice(0, 3).map((r) => r.train_loss),
  );
  // Resumed without the average it was started with: refused (the CLI takes it from config.json).
  await assert.rejects(
    train(await options({ runDir: whole, resume: true, hyper: { ...hyper, epochs: 4, emaDecay: undefined } })),
    /ema-whole\/checkpoint\.safetensors holds a weight average: resume the run with the emaDecay it was started with/,
  );
  await assert.rejects(train(await options({ hyper: { ...hyper, emaDecay: 1 } })), /weight-average decay must be in \(0, 1\) \(1 given\)/);
});

test('train: without a validation part, interrupted after epoch 1 and resumed = uninterrupted (the last epoch kept)', async () => {
  const none = { x: new Float32Array(0), y: new Int32Array(0) };
  const hyper = { epochs: 3, patience: 1, batchSize: 4, lr: 1e-3, emaDecay: 0.9 };
  const { whole, broken, reference, resumed } = await interruptedAndResumed('final-fit', { val: none, hyper });
  assert.deepEqual(withoutTimes(resumed.history), withoutTimes(reference.history));
  assert.deepEqual([resumed.bestEpoch, resumed.finished], [3, 'max-epochs']);
  for (const file of [CHECKPOINT_FILE, BEST_FILE]) {
    assertSameState(readSafetensors(join(broken, file)).tensors, readSafetensors(join(whole, file)).tensors, file);
  }
});

/**
 * The tiny clips as a training source with corpus targets for corpus-adversarial training: each clip's actor (the
 * two CREMA-D actors of the sample set) stands in for its corpus, appended one-hot after the class.
 */
async function actorsAsCorpora(): Promise<TrainingSource> {
  const data = await tinyData();
  const nClasses = data.model.nClasses;
  const actors = [...new Set(data.paths.map((path) => basename(path).split('_')[0]!))].sort();
  assert.equal(actors.length, 2, 'the sample clips are of two actors');
  const corpusOf = data.paths.map((path) => actors.indexOf(basename(path).split('_')[0]!));
  const plain = fixedClips(data.all, nClasses);
  const width = nClasses + actors.length;
  return {
    count: plain.count,
    corpora: actors.length,
    clean: plain.clean,
    fill(indices, epoch, batch, x, targets) {
      const classTargets = new Float32Array(indices.length * nClasses);
      plain.fill(indices, epoch, batch, x, classTargets);
      targets.fill(0);
      for (let i = 0; i < indices.length; i++) {
        targets.set(classTargets.subarray(i * nClasses, (i + 1) * nClasses), i * width);
        targets[i * width + nClasses + corpusOf[indices[i] as number]!] = 1;
      }
    },
  };
}

test('train: corpus-adversarial with a weight average, interrupted after epoch 1 and resumed = uninterrupted (head, moments, average)', async () => {
  const hyper = { epochs: 3, patience: 10, batchSize: 4, lr: 1e-3, emaDecay: 0.9, corpusAdversarial: 1 };
  const source = await actorsAsCorpora();
  const { whole, broken, reference, resumed } = await interruptedAndResumed('dann', { train: source, hyper });
  assert.equal(resumed.finished, 'max-epochs');
  assert.deepEqual(withoutTimes(resumed.history), withoutTimes(reference.history));
  for (const record of reference.history)
    assert.ok(Number.isFinite(record.train_corpus_loss), `epoch ${record.epoch}: corpus loss recorded`);
  for (const file of [CHECKPOINT_FILE, BEST_FILE]) {
    assertSameState(readSafetensors(join(broken, file)).tensors, readSafetensors(join(whole, file)).tensors, file);
  }
  // The checkpoint holds the head, its AdamW moments and its average: all of it came back on resume.
  const keys = [...loadCheckpoint(whole).state.keys()];
  const head = keys.filter((key) => key.startsWith(CORPUS_HEAD_PREFIX));
  assert.ok(head.length > 0, 'the corpus head is in the checkpoint');
  for (const name of head) assert.ok(keys.includes(`${AVERAGE_PREFIX}${name}`), `${name} is averaged`);
  for (const name of head.filter((key) => key.endsWith('weight'))) {
    for (const moment of ['exp_avg', 'exp_avg_sq']) assert.ok(keys.includes(`optimizer/${moment}/${name}`), `${moment} of ${name}`);
  }
});

test('train: refuses to overwrite a run directory, and resume needs a checkpoint', async () => {
  const dir = join(scratch, 'whole');
  await assert.rejects(train(await options({ runDir: dir })), /already holds a checkpoint/);
  await assert.rejects(
    train(await options({ runDir: join(scratch, 'nothing'), resume: true })),
    /no checkpoint\.safetensors to resume from/,
  );
  // A checkpoint without its best model: resuming would end with the wrong weights, so it is refused.
  const orphan = join(scratch, 'orphan');
  mkdirSync(orphan);
  copyFileSync(join(dir, CHECKPOINT_FILE), join(orphan, CHECKPOINT_FILE));
  await assert.rejects(
    train(await options({ runDir: orphan, resume: true, hyper: { epochs: 5, patience: 10, batchSize: 4, lr: 1e-3 } })),
    /orphan: the checkpoint's best epoch is \d but best\.safetensors is missing; the run directory mixes files of different runs/,
  );
});
