/** Runs a build's `ser` CLI as a child under /usr/bin/time -v, for the benchmarks that report its peak memory. */
import { spawn } from 'node:child_process';

export interface TimedRun {
  wallS: number;
  /** The child's peak RSS ("Maximum resident set size" of /usr/bin/time -v). */
  peakRssMb: number;
  stdout: string;
}

/** `node CLI ...args` under /usr/bin/time -v; rejects with the end of its stderr when it fails. */
export function timeCli(cli: string, args: readonly string[]): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-v', process.execPath, cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallS = (performance.now() - started) / 1000;
      const stderr = Buffer.concat(err).toString();
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      if (code !== 0 || !rss) return reject(new Error(`ser ${args[0]} exited ${code}: ${stderr.slice(-2000)}`));
      resolve({ wallS, peakRssMb: Number(rss[1]) / 1024, stdout: Buffer.concat(out).toString() });
    });
  });
}
