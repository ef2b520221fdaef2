/**
 * The PyTorch explanation peer (peers/torch_explain.py) as a long-lived child process: SNN Grad-CAM, saliency, FGSM
 * and PGD written from the definitions in PyTorch, for the cross-check (test/explain-torch.test.ts) and row E1.
 * Like the inference peer it answers one JSON line per request; "time" requests answer the seconds of the
 * computation alone, measured inside Python.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PYTHON } from './train-bench.js';

export { torchAvailable } from './train-bench.js';

const SCRIPT = fileURLToPath(new URL('../peers/torch_explain.py', import.meta.url));

export type TorchTarget = 'pred' | number | number[];

export interface TorchMaps {
  /** [T, B, H, W] for Grad-CAM, [B, H, W] for saliency. */
  readonly shape: number[];
  readonly maps: number[];
  readonly targets: number[];
  readonly predictions: number[];
  readonly scores: number[];
  /** Saliency: dy_c/dpixel, [B, C, H, W]. */
  readonly gradient?: number[];
}

export interface TorchForward {
  readonly scores: number[];
  readonly predictions: number[];
  /** sha256 of each spiking layer's spikes [T, B, ...] as bytes 0/1. */
  readonly spikes: Record<string, string>;
  readonly counts: Record<string, number>;
}

export interface TorchAttackRequest {
  readonly method: 'fgsm' | 'pgd';
  readonly eps: number;
  readonly labels: number[];
  readonly steps?: number;
  readonly stepSize?: number;
  readonly randomStart?: boolean;
  readonly seed?: number;
  readonly keyOffset?: number;
}

export class TorchExplainPeer {
  private buffer = '';
  private waiting: ((line: string) => void)[] = [];
  private stderr = '';
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.waiting.shift()?.(line);
      }
    });
    child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    child.on('exit', () => {
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ error: `the PyTorch peer exited: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}` }));
    });
  }

  static start(threads = 2): TorchExplainPeer {
    return new TorchExplainPeer(spawn(PYTHON, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, SPIKELENS_TORCH_THREADS: String(threads) } }));
  }

  private async request<T>(msg: object): Promise<T> {
    const reply = new Promise<string>((resolve) => this.waiting.push(resolve));
    this.child.stdin.write(`${JSON.stringify(msg)}\n`);
    const parsed = JSON.parse(await reply) as T & { error?: string };
    if (parsed.error) throw new Error(`PyTorch explain peer: ${parsed.error}`);
    return parsed;
  }

  /** Loads a .safetensors model (the peer parses the file itself). */
  load(model: string): Promise<{ torch: string; threads: number; T: number; layers: string[]; classes: number }> {
    return this.request({ cmd: 'load', model });
  }

  forward(pixels: ArrayLike<number>, batch = 1): Promise<TorchForward> {
    return this.request({ cmd: 'forward', pixels: Array.from(pixels), batch });
  }

  gradcam(pixels: ArrayLike<number>, layer: string, target: TorchTarget, alpha: 'summed' | 'per-step', batch = 1): Promise<TorchMaps> {
    return this.request({ cmd: 'gradcam', pixels: Array.from(pixels), batch, layer, target, alpha });
  }

  saliency(pixels: ArrayLike<number>, target: TorchTarget, batch = 1): Promise<TorchMaps> {
    return this.request({ cmd: 'saliency', pixels: Array.from(pixels), batch, target });
  }

  attack(pixels: ArrayLike<number>, o: TorchAttackRequest, batch = 1): Promise<{ adversarial: number[]; gradient: number[] | null }> {
    return this.request({ cmd: 'attack', pixels: Array.from(pixels), batch, ...o });
  }

  /** dL/dpixel of the attacks' loss (cross-entropy against `labels`) at these pixels, the scores and the spikes there. */
  lossGradient(pixels: ArrayLike<number>, labels: number[], batch = 1): Promise<{ gradient: number[]; scores: number[]; spikes: Record<string, string> }> {
    return this.request({ cmd: 'lossgrad', pixels: Array.from(pixels), batch, labels });
  }

  /** The uniform draws of the PGD random start's stream (seed XOR NOISE_SEED, key), from the Python generator. */
  noise(seed: number, key: number, n: number): Promise<{ u: number[] }> {
    return this.request({ cmd: 'noise', seed, key, n });
  }

  /** Seconds of one Grad-CAM (preprocessing, forward, backward to the layer, the maps), timed inside Python. */
  async timeGradcam(pixels: ArrayLike<number>, layer: string, alpha: 'summed' | 'per-step' = 'summed', batch = 1): Promise<number> {
    return (await this.request<{ seconds: number }>({ cmd: 'gradcam', pixels: Array.from(pixels), batch, layer, target: 'pred', alpha, time: true })).seconds;
  }

  quit(): void {
    this.child.stdin.write(`${JSON.stringify({ cmd: 'quit' })}\n`);
    this.child.stdin.end();
  }
}
