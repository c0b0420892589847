/**
 * The demo's AudioWorklet (bundled on its own by server.ts): posts each render quantum of the microphone's first
 * channel (128 samples at the AudioContext's rate) to the page, which feeds the StreamingRecognizer.
 */

// The AudioWorkletGlobalScope names used here (the project compiles without the DOM library).
declare class AudioWorkletProcessor {
  readonly port: { postMessage(message: unknown, transfer?: unknown[]): void };
}
declare function registerProcessor(name: string, processor: new () => AudioWorkletProcessor): void;

class CaptureProcessor extends AudioWorkletProcessor {
  process(inputs: Float32Array[][]): boolean {
    const channel = inputs[0]?.[0];
    if (channel && channel.length > 0) {
      const copy = channel.slice();
      this.port.postMessage(copy, [copy.buffer]);
    }
    return true;
  }
}

registerProcessor('speech-emotion-capture', CaptureProcessor);
