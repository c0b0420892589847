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
 *   options: --steps N (timed steps, default 8) --warmup N (2) --batch N (32) --threads N (2)
 *            --profile (ORT profile of the training session: time per op type) --no-torch
 * Environment: TORCH_PYTHON (default /usr/bin/python3), SHARED_DIR (default ../shared beside the checkout).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/io/paths.js';
import { PAPER_CNN_TM, parameterCount } from '../src/model/config.js';
import { CnnTmTrainer } from '../src/model/trainer.js';
import { Rng } from '../src/nn/random.js';
import { type Session, createSession } from '../src/runtime/index.js';

interface Args {
  json: boolean;
  steps: number;
  warmup: number;
  batch: number;
  threads: number;
  profile: boolean;
  torch: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, steps: 8, warmup: 2, batch: 32, threads: 2, profile: false, torch: true };
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
    else if (flag === '--steps') args.steps = number();
    else if (flag === '--warmup') args.warmup = number();
    else if (flag === '--batch') args.batch = number();
    else if (flag === '--threads') args.threads = number();
    else throw new Error(`bench:engine: unknown option ${flag} (see the comment at the top of bench/engine.ts)`);
  }
  return args;
}

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

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

function runTorchPeer(args: Args, onnxPath: string): TorchPeer {
  const shared = process.env.SHARED_DIR ?? join(packageRoot(), '..', 'shared');
  const reference = join(shared, 'reference');
  if (!existsSync(join(reference, 'cnn_tm.py'))) throw new Error(`no ${join(reference, 'cnn_tm.py')} (set SHARED_DIR)`);
  const python = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
  const script = join(packageRoot(), 'bench', 'peers', 'torch_engine.py');
  const peerArgs = [script, '--reference', reference, '--onnx', onnxPath, '--threads', `${args.threads}`, '--batch', `${args.batch}`];
  peerArgs.push('--steps', `${args.steps}`, '--warmup', `${args.warmup}`);
  const result = spawnSync(python, peerArgs, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (result.status !== 0) throw new Error(`${python} ${script} failed (${result.status}): ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
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
  try {
    let torch: TorchPeer | null = null;
    let torchError: string | null = null;
    const torchOnnx = join(work, 'cnn_tm_torch.onnx');
    if (args.torch) {
      log('PyTorch peer: training and torch.onnx.export ...');
      try {
        torch = runTorchPeer(args, torchOnnx);
      } catch (error) {
        torchError = (error as Error).message;
      }
    }

    const rng = new Rng(1);
    const x = Float32Array.from({ length: batch * config.nMels * config.frames }, () => rng.uniform(-80, 0));
    const y = Int32Array.from({ length: batch }, (_, i) => i % config.nClasses);

    log(`ours: training graph, batch ${batch}, ${threads} threads ...`);
    const buildStart = performance.now();
    const trainer = await CnnTmTrainer.create(config, {
      batchSize: batch,
      lr: 1e-4,
      seed: 0,
      threads,
      ...(args.profile ? { profilePrefix: join(work, 'train_profile') } : {}),
    });
    trainer.newEpoch(1);
    await trainer.trainStep(x, y); // builds the graph, serialises it and opens the session
    const firstStepMs = performance.now() - buildStart;
    const trainTiming = await timeIt(Math.max(0, args.warmup - 1), args.steps, () => trainer.trainStep(x, y));
    const trainStepMs = trainTiming.wallMs;
    let profile: [string, number][] | null = null;
    if (args.profile) profile = profileByOp(trainer.endProfiling(), args.steps + args.warmup);

    log('ours: exported eval model ...');
    const timeSession = async (bytes: Uint8Array): Promise<{ createMs: number; batchMs: number }> => {
      const createStart = performance.now();
      const session: Session = await createSession(bytes, { threads });
      const createMs = performance.now() - createStart;
      try {
        const timing = await timeIt(args.warmup, args.steps, () => session.run({ mel: { data: x, shape: [batch, 1, config.nMels, config.frames] } }));
        return { createMs, batchMs: timing.wallMs };
      } finally {
        await session.release();
      }
    };
    const ours = await timeSession(trainer.exportOnnx(batch));
    await trainer.release();

    let torchOnnxTiming: { createMs: number; batchMs: number } | null = null;
    if (torch) {
      log('PyTorch-exported ONNX under onnxruntime-node ...');
      torchOnnxTiming = await timeSession(readFileSync(torchOnnx));
    }

    const trainSamples = (batch * 1000) / trainStepMs;
    const inferSamples = (batch * 1000) / ours.batchMs;
    const torchInfer = torchOnnxTiming ? (batch * 1000) / torchOnnxTiming.batchMs : null;
    const require = createRequire(import.meta.url);
    const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
    Object.assign(result, {
      train_samples_per_s: round(trainSamples),
      infer_samples_per_s: round(inferSamples),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      torch_train_samples_per_s: torch ? round(torch.train_samples_per_s) : null,
      torch_onnx_infer_samples_per_s: torchInfer ? round(torchInfer) : null,
      train_vs_torch: torch ? round(trainSamples / torch.train_samples_per_s, 2) : null,
      infer_vs_torch_onnx: torchInfer ? round(inferSamples / torchInfer, 2) : null,
      train_step_ms: round(trainStepMs),
      train_cpu_ms_per_step: round(trainTiming.cpuMs),
      first_step_ms: Math.round(firstStepMs),
      infer_batch_ms: round(ours.batchMs),
      infer_session_create_ms: Math.round(ours.createMs),
      torch_train_step_ms: torch ? round(torch.train_step_ms) : null,
      torch_train_cpu_ms_per_step: torch ? round(torch.train_cpu_ms_per_step) : null,
      torch_eager_infer_samples_per_s: torch ? round(torch.eager_infer_samples_per_s) : null,
      torch_onnx_batch_ms: torchOnnxTiming ? round(torchOnnxTiming.batchMs) : null,
      torch_version: torch?.torch_version ?? null,
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
    rmSync(work, { recursive: true, force: true });
  }
  if (args.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const ratio = (value: unknown) => (value === null ? 'n/a' : `${value}x`);
  console.log(`
training   ours ${result.train_samples_per_s} samples/s (${result.train_step_ms} ms/step, CPU ${result.train_cpu_ms_per_step} ms)   PyTorch ${result.torch_train_samples_per_s ?? 'n/a'} samples/s (CPU ${result.torch_train_cpu_ms_per_step ?? 'n/a'} ms/step)   ratio ${ratio(result.train_vs_torch)} (target >= 2x)
inference  ours ${result.infer_samples_per_s} samples/s   torch.onnx.export on ORT ${result.torch_onnx_infer_samples_per_s ?? 'n/a'} samples/s   ratio ${ratio(result.infer_vs_torch_onnx)} (target >= 0.9x)
peak RSS   ${result.peak_rss_mb} MB (target < 3072)
load       ${JSON.stringify(result.load_before)} -> ${JSON.stringify(result.load_after)} on ${result.cpu}${result.torch_error ? `\ntorch peer failed: ${result.torch_error}` : ''}`);
  if (result.train_profile_ms_per_step) console.log('training step, ORT kernel ms per op type:', result.train_profile_ms_per_step);
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
