/**
 * Engine benchmark (issue 3): the paper-size CNN-TM (128 mels x 188 frames, d_model 128, 6 layers), batch 32,
 * 2 ORT threads. Measures in one run, side by side:
 *   - training samples/s: our one-session-per-step training graph vs PyTorch (bench/peers/torch_engine.py running
 *     ../shared/reference/cnn_tm.py on Debian's python3-torch, same threads, AdamW, dropout 0.4);
 *   - inference samples/s: our exported eval model vs PyTorch's own torch.onnx.export of the same model, both
 *     run here by onnxruntime-node with the same session options (python onnxruntime is not installable);
 *   - peak RSS of this process (the Python peer is a separate process).
 *
 *   npm run bench:engine                  human-readable
 *   npm run bench:engine -- --json        one JSON line
 *   options: --rounds N (default 3; rounds alternate the peers, the best round of each is reported, and
 *            train_vs_torch_median_rounds: the ratio of the two sides' median rounds)
 *            --steps N (timed steps per round, default 6) --warmup N (2) --batch N (32) --threads N (2)
 *            --profile (ORT profile of the training session: time per op type) --no-torch
 *            --torch-spin (PyTorch with its default OpenMP spin-waiting; default OMP_WAIT_POLICY=PASSIVE, as our
 *            runtime does not spin either) --spin (our ORT threads spin-wait too: pair it with --torch-spin)
 *            --random-input (uniform [-80, 0] dB noise instead of real log-mels)
 * Input: by default both peers train on the same batch of 32 real log-mel spectrograms (the first 32 embedded
 * RAVDESS clips of assets/corpus, our front end), written to a file for the peer; labels i mod 6. Data changes
 * the cost (max pooling and ReLU branch on it): white noise made our step ~10% slower than real spectrograms.
 * Environment: TORCH_PYTHON (default /usr/bin/python3), SHARED_DIR (default ../shared beside the checkout).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractFeatures, loadCorpus } from '../src/data/index.js';
import { packageRoot } from '../src/io/paths.js';
import { PAPER_CNN_TM, parameterCount } from '../src/model/config.js';
import { CnnTmTrainer } from '../src/model/trainer.js';
import { Rng } from '../src/nn/random.js';
import { type Session, createSession } from '../src/runtime/index.js';

interface Args {
  json: boolean;
  rounds: number;
  steps: number;
  warmup: number;
  batch: number;
  threads: number;
  profile: boolean;
  torch: boolean;
  torchSpin: boolean;
  spin: boolean;
  randomInput: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    json: false,
    rounds: 3,
    steps: 6,
    warmup: 2,
    batch: 32,
    threads: 2,
    profile: false,
    torch: true,
    torchSpin: false,
    spin: false,
    randomInput: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const number = (): number => {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1) throw new Error(`bench:engine: ${flag} needs a positive integer (${argv[i]} given)`);
      return value;
    };
    if (flag === '--json') args.json = true;
    else if (flag === '--profile') args.profile = true;
    else if (flag === '--no-torch') args.torch = false;
    else if (flag === '--torch-spin') args.torchSpin = true;
    else if (flag === '--spin') args.spin = true;
    else if (flag === '--random-input') args.randomInput = true;
    else if (flag === '--steps') args.steps = number();
    else if (flag === '--rounds') args.rounds = number();
    else if (flag === '--warmup') args.warmup = number();
    else if (flag === '--batch') args.batch = number();
    else if (flag === '--threads') args.threads = number();
    else throw new Error(`bench:engine: unknown option ${flag} (see the comment at the top of bench/engine.ts)`);
  }
  return args;
}

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

/** The first `batch` embedded RAVDESS clips as log-mels [batch, 128, 188] (default front end, 3 s). */
async function realBatch(batch: number): Promise<Float32Array> {
  const corpus = loadCorpus({ dataset: 'csv', path: join(packageRoot(), 'assets', 'corpus', 'manifest.csv') });
  const clips = corpus.utterances.filter((u) => u.id.startsWith('ravdess/')).slice(0, batch);
  const { features, kept } = await extractFeatures(clips, { cacheDir: null });
  if (kept.length !== batch) throw new Error(`bench:engine: only ${kept.length} of ${batch} embedded clips decoded`);
  return features;
}

function randomBatch(batch: number, clipSize: number): Float32Array {
  const rng = new Rng(1);
  return Float32Array.from({ length: batch * clipSize }, () => rng.uniform(-80, 0));
}

/** Mean wall time and process CPU time (ms) of `runs` calls after `warmup` calls. CPU time is less sensitive to
 * other processes on a shared machine than wall time (both are reported). */
async function timeIt(warmup: number, runs: number, call: () => Promise<unknown>): Promise<{ wallMs: number; cpuMs: number }> {
  for (let i = 0; i < warmup; i++) await call();
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < runs; i++) await call();
  const cpu = process.cpuUsage(cpuStart);
  return { wallMs: (performance.now() - start) / runs, cpuMs: (cpu.user + cpu.system) / 1000 / runs };
}

/** Kernel time per op type (ms per step) from an ORT chrome-trace profile. */
function profileByOp(path: string, steps: number): [string, number][] {
  const events = JSON.parse(readFileSync(path, 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  const byOp = new Map<string, number>();
  for (const event of events) {
    if (event.cat !== 'Node' || !event.name.endsWith('_kernel_time')) continue;
    const op = event.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + event.dur / 1000 / steps);
  }
  return [...byOp].sort((a, b) => b[1] - a[1]).map(([op, ms]) => [op, round(ms)]);
}

interface TorchPeer {
  torch_version: string;
  train_samples_per_s: number;
  train_step_ms: number;
  train_cpu_ms_per_step: number;
  eager_infer_samples_per_s: number;
  onnx: string;
}

function runTorchPeer(args: Args, onnxPath: string, inputPath: string): TorchPeer {
  const shared = process.env.SHARED_DIR ?? join(packageRoot(), '..', 'shared');
  const reference = join(shared, 'reference');
  if (!existsSync(join(reference, 'cnn_tm.py'))) throw new Error(`no ${join(reference, 'cnn_tm.py')} (set SHARED_DIR)`);
  const python = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
  const script = join(packageRoot(), 'bench', 'peers', 'torch_engine.py');
  const peerArgs = [script, '--reference', reference, '--onnx', onnxPath, '--threads', `${args.threads}`, '--batch', `${args.batch}`];
  peerArgs.push('--steps', `${args.steps}`, '--warmup', `${args.warmup}`, '--input', inputPath);
  // Like our runtime (no ORT spin-waiting), the peer's OpenMP threads sleep instead of spin-waiting unless
  // --torch-spin: on a shared machine spinning threads steal the cores the work needs (measured under load ~8:
  // 3.9-4.4 samples/s spinning, 10.9-15.5 passive, CPU per step 3.5-4.2 s vs 1.4 s).
  const env = args.torchSpin ? process.env : { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' };
  const result = spawnSync(python, peerArgs, { encoding: 'utf8', maxBuffer: 1 << 20, env });
  if (result.status !== 0)
    throw new Error(`${python} ${script} failed (${result.status}): ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as TorchPeer;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (text: string) => {
    if (!args.json) console.log(text);
  };
  const config = PAPER_CNN_TM;
  const { batch, threads } = args;
  const loadBefore = loadavg().map((v) => round(v, 2));
  const work = mkdtempSync(join(tmpdir(), 'bench-engine-'));
  const result: Record<string, unknown> = {};
  const sessions: Session[] = [];
  let trainer: CnnTmTrainer | null = null;
  try {
    const x = args.randomInput ? randomBatch(batch, config.nMels * config.frames) : await realBatch(batch);
    const inputPath = join(work, 'mel.f32');
    writeFileSync(inputPath, x);
    const y = Int32Array.from({ length: batch }, (_, i) => i % config.nClasses);
    const melFeed = { mel: { data: x, shape: [batch, 1, config.nMels, config.frames] } };
    const torchOnnx = join(work, 'cnn_tm_torch.onnx');

    // Setup: our training session (first step builds, serialises and opens it), our exported model, and
    // PyTorch's export (written by the peer's first run).
    const buildStart = performance.now();
    trainer = await CnnTmTrainer.create(config, {
      batchSize: batch,
      lr: 1e-4,
      seed: 0,
      threads,
      spinning: args.spin,
      ...(args.profile ? { profilePrefix: join(work, 'train_profile') } : {}),
    });
    trainer.newEpoch(1);
    await trainer.trainStep(x, y);
    const firstStepMs = performance.now() - buildStart;
    const createStart = performance.now();
    const ourSession = await createSession(trainer.exportOnnx(batch), { threads });
    const ourCreateMs = performance.now() - createStart;
    sessions.push(ourSession);

    // Rounds alternate the peers so that both see the same (shared, fluctuating) machine; best round reported.
    const rounds: Record<string, number | null>[] = [];
    let torchSession: Session | null = null;
    let torchVersion: string | null = null;
    let torchError: string | null = null;
    for (let round_ = 1; round_ <= args.rounds; round_++) {
      const record: Record<string, number | null> = { load: round(loadavg()[0] ?? 0, 2) };
      if (args.torch && torchError === null) {
        log(`round ${round_}: PyTorch training ...`);
        try {
          const peer = runTorchPeer(args, torchOnnx, inputPath);
          torchVersion = peer.torch_version;
          record.torch_train = peer.train_samples_per_s;
          record.torch_train_cpu_ms = peer.train_cpu_ms_per_step;
          if (!torchSession) {
            torchSession = await createSession(readFileSync(torchOnnx), { threads });
            sessions.push(torchSession);
          }
        } catch (error) {
          torchError = (error as Error).message;
        }
      }
      log(`round ${round_}: our training ...`);
      const train = await timeIt(Math.max(0, args.warmup - 1), args.steps, () => (trainer as CnnTmTrainer).trainStep(x, y));
      record.train = (batch * 1000) / train.wallMs;
      record.train_cpu_ms = train.cpuMs;
      log(`round ${round_}: inference, ours and PyTorch's export ...`);
      record.infer = (batch * 1000) / (await timeIt(args.warmup, args.steps, () => ourSession.run(melFeed))).wallMs;
      const peerSession = torchSession;
      record.torch_onnx_infer = peerSession
        ? (batch * 1000) / (await timeIt(args.warmup, args.steps, () => peerSession.run(melFeed))).wallMs
        : null;
      rounds.push(record);
    }
    let profile: [string, number][] | null = null;
    if (args.profile) profile = profileByOp(trainer.endProfiling(), 1 + args.rounds * (Math.max(0, args.warmup - 1) + args.steps));

    const best = (key: string): number | null => {
      const values = rounds.map((r) => r[key]).filter((v): v is number => typeof v === 'number');
      return values.length > 0 ? Math.max(...values) : null;
    };
    const median = (key: string): number | null => {
      const values = rounds
        .map((r) => r[key])
        .filter((v): v is number => typeof v === 'number')
        .sort((a, b) => a - b);
      if (values.length === 0) return null;
      const mid = Math.floor(values.length / 2);
      return values.length % 2 === 1 ? (values[mid] as number) : ((values[mid - 1] as number) + (values[mid] as number)) / 2;
    };
    const ratioOf = (a: number | null, b: number | null) => (a !== null && b !== null ? round(a / b, 2) : null);
    const require = createRequire(import.meta.url);
    const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
    const train = best('train');
    const infer = best('infer');
    const torchTrain = best('torch_train');
    const torchInfer = best('torch_onnx_infer');
    Object.assign(result, {
      train_samples_per_s: train === null ? null : round(train),
      infer_samples_per_s: infer === null ? null : round(infer),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      torch_train_samples_per_s: torchTrain === null ? null : round(torchTrain),
      torch_onnx_infer_samples_per_s: torchInfer === null ? null : round(torchInfer),
      train_vs_torch: ratioOf(train, torchTrain),
      // The same ratio from each side's median round: less sensitive to one lucky or unlucky round.
      train_vs_torch_median_rounds: ratioOf(median('train'), median('torch_train')),
      infer_vs_torch_onnx: ratioOf(infer, torchInfer),
      rounds: rounds.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : round(v)]))),
      first_step_ms: Math.round(firstStepMs),
      infer_session_create_ms: Math.round(ourCreateMs),
      torch_version: torchVersion,
      torch_omp_wait_policy: args.torchSpin ? 'default' : 'PASSIVE',
      ort_spinning: args.spin,
      input: args.randomInput ? 'uniform [-80, 0] dB noise' : 'log-mels of the first 32 embedded RAVDESS clips',
      torch_error: torchError,
      batch,
      threads,
      steps: args.steps,
      warmup: args.warmup,
      parameters: parameterCount(config),
      onnxruntime_node: ortVersion,
      node: process.version,
      cpu: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
      load_before: loadBefore,
      load_after: loadavg().map((v) => round(v, 2)),
      date: new Date().toISOString(),
      ...(profile ? { train_profile_ms_per_step: Object.fromEntries(profile.slice(0, 15)) } : {}),
    });
  } finally {
    await trainer?.release();
    for (const session of sessions) await session.release();
    rmSync(work, { recursive: true, force: true });
  }
  if (args.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const ratio = (value: unknown) => (value === null ? 'n/a' : `${value}x`);
  console.log(`
best of ${args.rounds} rounds (each round: PyTorch training, our training, our inference, PyTorch's ONNX inference)
training   ours ${result.train_samples_per_s} samples/s   PyTorch ${result.torch_train_samples_per_s ?? 'n/a'} samples/s   ratio ${ratio(result.train_vs_torch)} (target >= 2x; median rounds ${ratio(result.train_vs_torch_median_rounds)})
inference  ours ${result.infer_samples_per_s} samples/s   torch.onnx.export on ORT ${result.torch_onnx_infer_samples_per_s ?? 'n/a'} samples/s   ratio ${ratio(result.infer_vs_torch_onnx)} (target >= 0.9x)
peak RSS   ${result.peak_rss_mb} MB (target < 3072)
load       ${JSON.stringify(result.load_before)} -> ${JSON.stringify(result.load_after)} on ${result.cpu}${result.torch_error ? `\ntorch peer failed: ${result.torch_error}` : ''}
rounds     ${JSON.stringify(result.rounds)}`);
  if (result.train_profile_ms_per_step) console.log('training step, ORT kernel ms per op type:', result.train_profile_ms_per_step);
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
