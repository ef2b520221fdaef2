/**
 * The PyTorch inference peer (peers/torch_infer.py) as a long-lived child process: spikelens and PyTorch are timed
 * alternately, run by run, in one process tree. Skipped with one clear line when `/usr/bin/python3 -c "import torch"`
 * fails.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNpy } from '@spikelens/sam';
import type { SuiteWorkload } from './suite-workloads.js';
import { PYTHON } from './train-bench.js';

export { torchAvailable } from './train-bench.js';

const SCRIPT = fileURLToPath(new URL('../peers/torch_infer.py', import.meta.url));

export interface TorchLoad {
  readonly torch: string;
  readonly threads: number;
  readonly layerwise: Record<string, string>;
  /** Null when the stepwise mode, probed on its first tenth of the steps, projected over twice the layerwise time. */
  readonly stepwise: Record<string, string> | null;
  readonly rates: Record<string, number>;
  readonly scores: number[];
  readonly scoresStepwise: number[] | null;
  /** The check run's layerwise time and the stepwise mode's projection from its first `probeSteps` steps. */
  readonly seconds: { readonly layerwise: number; readonly stepwiseProjected: number; readonly probeSteps: number };
}

export class TorchPeer {
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

  static start(): TorchPeer {
    return new TorchPeer(spawn(PYTHON, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  private async request<T>(msg: object): Promise<T> {
    const reply = new Promise<string>((resolve) => this.waiting.push(resolve));
    this.child.stdin.write(`${JSON.stringify(msg)}\n`);
    const parsed = JSON.parse(await reply) as T & { error?: string };
    if (parsed.error) throw new Error(`PyTorch peer: ${parsed.error}`);
    return parsed;
  }

  /** Writes the workload (graph, tensors as .npy, the encoder's input spikes) to `dir` and loads it. */
  async load(w: SuiteWorkload, dir: string): Promise<TorchLoad> {
    mkdirSync(dir, { recursive: true });
    for (const t of w.tensors) writeFileSync(join(dir, `${t.name}.npy`), writeNpy(t.data, t.shape));
    writeFileSync(join(dir, 'input.npy'), writeNpy(w.inputTrain, [w.timesteps, w.batch, ...w.model.input.shape]));
    const spec = { graph: w.graph, tensors: w.tensors.map((t) => t.name), timesteps: w.timesteps, sam: w.sam, gamma: w.gamma };
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
    return this.request<TorchLoad>({ cmd: 'load', dir });
  }

  async time(mode: string): Promise<number> {
    return (await this.request<{ seconds: number }>({ cmd: 'time', mode })).seconds;
  }

  /** Saves the paper-style maps as `<dir>/<layer>.sam.npy`. */
  async sam(out: string): Promise<void> {
    await this.request({ cmd: 'sam', out });
  }

  quit(): void {
    this.child.stdin.write(`${JSON.stringify({ cmd: 'quit' })}\n`);
    this.child.stdin.end();
  }
}
