/**
 * The demo page (npm run demo:web; server.ts bundles and serves it): everything runs in the page, offline.
 *   - Microphone: getUserMedia + an AudioWorklet (worklet.ts) feed EmotionRecognizer.stream(); each completed
 *     window is drawn on a live chart of the class probabilities over time and listed in the live timeline.
 *   - File drop (or pick): WebAudio decodes it, the same streaming recognizer classifies it window by window; the
 *     segment timeline and the overall label (mean probabilities of the speech windows) are shown.
 * Windows without speech (src/audio/vad.ts) show as silence. The model: the run the server was given (./model/),
 * else the shipped default model, found where EmotionRecognizer's DEFAULT_MODEL_URL points.
 * `window.speechEmotionDemo` exposes the state for the browser tests (test/web/demo.test.ts).
 */
import { EmotionRecognizer, type StreamWindow, type StreamingRecognizer } from '../index.js';

// The browser globals used here (the project compiles without the DOM library).
interface Element {
  textContent: string | null;
  className: string;
  style: Record<string, string>;
  dataset: Record<string, string>;
  title: string;
  append(...nodes: Element[]): void;
  replaceChildren(...nodes: Element[]): void;
  addEventListener(type: string, listener: (event: DragEvent) => void): void;
  setAttribute(name: string, value: string): void;
}
interface FileLike {
  readonly name: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}
interface DragEvent {
  preventDefault(): void;
  dataTransfer?: { files: ArrayLike<FileLike> } | null;
}
interface Canvas extends Element {
  width: number;
  height: number;
  getContext(kind: '2d'): Context2d;
}
interface Context2d {
  fillStyle: string;
  strokeStyle: string;
  lineWidth: number;
  font: string;
  clearRect(x: number, y: number, w: number, h: number): void;
  fillRect(x: number, y: number, w: number, h: number): void;
  fillText(text: string, x: number, y: number): void;
  beginPath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  stroke(): void;
}
interface AudioBufferLike {
  readonly numberOfChannels: number;
  readonly sampleRate: number;
  getChannelData(channel: number): Float32Array;
}
interface MediaStreamLike {
  getTracks(): Array<{ stop(): void }>;
}
interface AudioNodeLike {
  connect(node: AudioNodeLike): void;
}
interface AudioContextLike {
  readonly sampleRate: number;
  readonly destination: AudioNodeLike;
  readonly audioWorklet: { addModule(url: string): Promise<void> };
  createMediaStreamSource(stream: MediaStreamLike): AudioNodeLike;
  createGain(): AudioNodeLike & { gain: { value: number } };
  close(): Promise<void>;
}
declare const document: {
  body: Element;
  getElementById(id: string): Element | null;
  createElement(tag: string): Element;
};
declare const navigator: { mediaDevices: { getUserMedia(constraints: unknown): Promise<MediaStreamLike> } };
declare const AudioContext: new () => AudioContextLike;
declare const OfflineAudioContext: new (
  channels: number,
  length: number,
  sampleRate: number,
) => { decodeAudioData(bytes: ArrayBuffer): Promise<AudioBufferLike> };
declare const AudioWorkletNode: new (
  context: AudioContextLike,
  name: string,
) => AudioNodeLike & { port: { onmessage: ((event: { data: Float32Array }) => void) | null } };
declare const window: { speechEmotionDemo?: DemoState; addEventListener(type: string, listener: (event: DragEvent) => void): void };

/** What the page shows, for tests and curious users (window.speechEmotionDemo). */
interface DemoState {
  status: 'loading' | 'ready' | 'listening' | 'stopped' | 'file-done' | 'error';
  error?: string;
  labels: readonly string[];
  live: StreamWindow[];
  /** Per live window: ms from pushing the chunk with its last sample to its result (features + model in the page). */
  latencyMs: number[];
  /** Every microphone sample the recognizer was given, at captureRateHz (to replay the same audio elsewhere). */
  captured: Float32Array[];
  captureRateHz: number;
  file: { name: string; windows: StreamWindow[]; label: string | null; probabilities: Record<string, number> } | null;
  /** The captured samples as base64 float32 little-endian bytes. */
  capturedBase64(): string;
}

const COLORS = ['#d62728', '#8c564b', '#9467bd', '#ff7f0e', '#7f7f7f', '#1f77b4', '#2ca02c', '#e377c2'];
const element = (id: string) => document.getElementById(id) as Element;

const state: DemoState = {
  status: 'loading',
  labels: [],
  live: [],
  latencyMs: [],
  captured: [],
  captureRateHz: 0,
  file: null,
  capturedBase64() {
    const total = state.captured.reduce((n, c) => n + c.length, 0);
    const all = new Float32Array(total);
    let at = 0;
    for (const c of state.captured) {
      all.set(c, at);
      at += c.length;
    }
    let text = '';
    const bytes = new Uint8Array(all.buffer);
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  },
};
window.speechEmotionDemo = state;

function setStatus(status: DemoState['status'], text: string): void {
  state.status = status;
  const el = element('status');
  el.textContent = text;
  el.dataset.status = status;
}

/** One timeline entry per window: a coloured block with its span, label and top probability. */
function windowElement(w: StreamWindow, labels: readonly string[]): Element {
  const el = document.createElement('div');
  el.className = w.speech ? 'window' : 'window silence';
  el.dataset.start = String(w.startS);
  el.dataset.end = String(w.endS);
  el.dataset.label = w.label;
  el.dataset.probabilities = JSON.stringify(w.probabilities);
  const p = w.probabilities[w.label];
  el.textContent = `${w.startS.toFixed(1)}-${w.endS.toFixed(1)} s ${w.label}${p === undefined ? '' : ` ${(100 * p).toFixed(0)}%`}`;
  el.style.background = w.speech ? (COLORS[labels.indexOf(w.label) % COLORS.length] as string) : '#ddd';
  return el;
}

/** The live chart: one line per class, probability (0..1) against the window's end time (last 30 s). */
function drawChart(windows: readonly StreamWindow[], labels: readonly string[]): void {
  const canvas = element('chart') as Canvas;
  const g = canvas.getContext('2d');
  const { width, height } = canvas;
  g.clearRect(0, 0, width, height);
  g.fillStyle = '#fafafa';
  g.fillRect(0, 0, width, height);
  const endS = Math.max(30, windows[windows.length - 1]?.endS ?? 0);
  const x = (t: number) => ((t - (endS - 30)) / 30) * width;
  const y = (p: number) => height - 4 - p * (height - 24);
  labels.forEach((label, c) => {
    const color = COLORS[c % COLORS.length] as string;
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    let drawing = false;
    for (const w of windows) {
      const p = w.probabilities[label];
      if (p === undefined) {
        drawing = false; // silence: a gap in every line
        continue;
      }
      if (drawing) g.lineTo(x(w.endS), y(p));
      else g.moveTo(x(w.endS), y(p));
      drawing = true;
    }
    g.stroke();
    g.fillStyle = color;
    g.font = '12px sans-serif';
    g.fillText(label, 8 + c * 80, 14);
  });
}

async function main(): Promise<void> {
  // The server names a run directory in <body data-model>; without one, the package's default model (DEFAULT_MODEL_URL).
  const run = document.body.dataset.model;
  const options = { threads: 1, wasmPaths: new URL('ort/', location.href).href };
  const recognizer = await EmotionRecognizer.load(run ? new URL(run, location.href).href : undefined, options);
  state.labels = recognizer.labels;
  setStatus('ready', `model ready: ${recognizer.labels.join(', ')}`);
  drawChart([], recognizer.labels);

  // ?stopAfterS=N: stop the microphone by itself after N seconds of audio (the browser tests use it).
  const stopAfterS = Number(new URLSearchParams(location.search).get('stopAfterS') ?? 0);
  let stopMicrophone: (() => Promise<void>) | null = null;
  const mic = element('mic');
  const stop = () => {
    if (!stopMicrophone) return;
    const stopNow = stopMicrophone;
    stopMicrophone = null;
    mic.textContent = 'Start microphone';
    void stopNow().catch(fail);
  };
  mic.addEventListener('click', () => {
    if (stopMicrophone) return stop();
    mic.textContent = 'Stop microphone';
    void startMicrophone(recognizer, stopAfterS, stop)
      .then((stopNow) => {
        stopMicrophone = stopNow;
      })
      .catch(fail);
  });

  const onFile = (file: FileLike | undefined) => {
    if (file) void classifyFile(recognizer, file).catch(fail);
  };
  const input = element('file') as Element & { files: ArrayLike<FileLike> | null };
  input.addEventListener('change', () => onFile(input.files?.[0]));
  const drop = element('drop');
  drop.addEventListener('dragover', (event) => event.preventDefault());
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    onFile(event.dataTransfer?.files[0]);
  });
}

/** Starts the microphone into a fresh stream; resolves to the function that stops it and flushes the last windows. */
async function startMicrophone(recognizer: EmotionRecognizer, stopAfterS: number, stop: () => void): Promise<() => Promise<void>> {
  const media = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
  });
  const context = new AudioContext();
  await context.audioWorklet.addModule(new URL('worklet.js', location.href).href);
  const source = context.createMediaStreamSource(media);
  const capture = new AudioWorkletNode(context, 'speech-emotion-capture');
  const mute = context.createGain();
  mute.gain.value = 0;
  source.connect(capture);
  capture.connect(mute);
  mute.connect(context.destination);

  const stream: StreamingRecognizer = recognizer.stream({ inputRateHz: context.sampleRate });
  state.live = [];
  state.latencyMs = [];
  state.captured = [];
  state.captureRateHz = context.sampleRate;
  const timeline = element('live');
  timeline.replaceChildren();
  const show = (windows: StreamWindow[]) => {
    for (const w of windows) {
      state.live.push(w);
      timeline.append(windowElement(w, recognizer.labels));
    }
    if (windows.length > 0) drawChart(state.live, recognizer.labels);
  };
  let pending: Promise<unknown> = Promise.resolve();
  let capturedSamples = 0;
  capture.port.onmessage = (event) => {
    state.captured.push(event.data);
    capturedSamples += event.data.length;
    const pushed = performance.now();
    pending = stream
      .push(event.data)
      .then((windows) => {
        for (const _ of windows) state.latencyMs.push(performance.now() - pushed);
        show(windows);
      })
      .catch(fail);
    if (stopAfterS > 0 && capturedSamples >= stopAfterS * context.sampleRate) stop();
  };
  setStatus('listening', `listening at ${context.sampleRate} Hz`);
  return async () => {
    capture.port.onmessage = null;
    for (const track of media.getTracks()) track.stop();
    await context.close();
    await pending;
    show(await stream.end());
    setStatus('stopped', `stopped after ${(state.captured.reduce((n, c) => n + c.length, 0) / state.captureRateHz).toFixed(1)} s`);
  };
}

/** Decodes a dropped file at the model's rate and classifies it with the streaming recognizer in one push. */
async function classifyFile(recognizer: EmotionRecognizer, file: FileLike): Promise<void> {
  setStatus('ready', `classifying ${file.name}`);
  const rate = recognizer.config.frontEnd.sampleRateHz;
  const audio = await new OfflineAudioContext(1, 1, rate).decodeAudioData(await file.arrayBuffer());
  const channels = Array.from({ length: audio.numberOfChannels }, (_, c) => audio.getChannelData(c));
  const stream = recognizer.stream({ inputRateHz: audio.sampleRate });
  const windows = [...(await stream.push(channels)), ...(await stream.end())];
  const speech = windows.filter((w) => w.speech);
  const mean: Record<string, number> = {};
  for (const label of recognizer.labels)
    mean[label] = speech.reduce((sum, w) => sum + (w.probabilities[label] as number), 0) / Math.max(1, speech.length);
  const label =
    speech.length === 0 ? null : recognizer.labels.reduce((best, l) => ((mean[l] as number) > (mean[best] as number) ? l : best));
  state.file = { name: file.name, windows, label, probabilities: mean };
  element('file-timeline').replaceChildren(...windows.map((w) => windowElement(w, recognizer.labels)));
  const overall = element('overall');
  overall.dataset.label = label ?? 'silence';
  overall.textContent =
    label === null
      ? `${file.name}: no speech found`
      : `${file.name}: ${label} (${(100 * (mean[label] as number)).toFixed(0)}%, ${speech.length} speech window(s) of ${windows.length})`;
  setStatus('file-done', `classified ${file.name}`);
}

function fail(error: unknown): void {
  state.error = String((error as Error)?.stack ?? error);
  setStatus('error', `error: ${(error as Error)?.message ?? error}`);
}

declare const location: { href: string; search: string };
declare function btoa(text: string): string;

main().catch(fail);
