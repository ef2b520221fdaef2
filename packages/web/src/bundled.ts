/**
 * The models and sample images shipped with the page. Vite copies each file into the build and gives its URL; the
 * worker fetches one when it is chosen.
 */
import mnistLif from '../../../models/mnist-lif-bptt.safetensors?url';
import mnistIf from '../../../models/mnist-if-bptt.safetensors?url';
import mnistConvert from '../../../models/mnist-if-convert.safetensors?url';
import fashionLif from '../../../models/fashion-lif-bptt.safetensors?url';
import c01 from '../../../models/c01-untrained.safetensors?url';
import mnistLifCard from '../../../models/mnist-lif-bptt.json';
import mnistIfCard from '../../../models/mnist-if-bptt.json';
import mnistConvertCard from '../../../models/mnist-if-convert.json';
import fashionLifCard from '../../../models/fashion-lif-bptt.json';

export interface BundledModel {
  readonly id: string;
  readonly file: string;
  readonly url: string;
  readonly title: string;
  /** Which sample set suits it. */
  readonly dataset: 'mnist' | 'fashion-mnist';
}

function pct(acc: number | null | undefined): string {
  return typeof acc === 'number' ? `${(acc * 100).toFixed(2)} %` : 'untrained';
}

export const MODELS: readonly BundledModel[] = [
  { id: 'mnist-lif-bptt', file: 'mnist-lif-bptt.safetensors', url: mnistLif, dataset: 'mnist', title: `MNIST, LIF, BPTT, T=${mnistLifCard.timesteps} (${pct(mnistLifCard.testAccuracy)})` },
  { id: 'mnist-if-bptt', file: 'mnist-if-bptt.safetensors', url: mnistIf, dataset: 'mnist', title: `MNIST, IF, BPTT, T=${mnistIfCard.timesteps} (${pct(mnistIfCard.testAccuracy)})` },
  { id: 'mnist-if-convert', file: 'mnist-if-convert.safetensors', url: mnistConvert, dataset: 'mnist', title: `MNIST, IF, converted from ReLU, T=${mnistConvertCard.timesteps} (${pct(mnistConvertCard.testAccuracy)})` },
  { id: 'fashion-lif-bptt', file: 'fashion-lif-bptt.safetensors', url: fashionLif, dataset: 'fashion-mnist', title: `Fashion-MNIST, LIF, BPTT, T=${fashionLifCard.timesteps} (${pct(fashionLifCard.testAccuracy)})` },
  { id: 'c01-untrained', file: 'c01-untrained.safetensors', url: c01, dataset: 'mnist', title: 'Untrained reference net, Poisson input, T=20' },
];

const sampleUrls = import.meta.glob('../../../samples/*/*.png', { query: '?url', import: 'default', eager: true }) as Record<string, string>;

export interface BundledSample {
  readonly id: string;
  readonly file: string;
  readonly url: string;
  readonly dataset: 'mnist' | 'fashion-mnist';
  readonly title: string;
}

/** `samples/<dataset>/<name>-<index>.png`: the first test image of each class, `index` its place in the test set. */
export const SAMPLES: readonly BundledSample[] = Object.entries(sampleUrls)
  .map(([path, url]) => {
    const [, dataset, file] = /samples\/([^/]+)\/([^/]+)$/.exec(path)!;
    const m = /^(.*)-(\d+)\.png$/.exec(file)!;
    const name = m[1].replace(/^digit-/, 'digit ').replace(/-/g, ' ');
    return { id: `${dataset}/${file}`, file, url, dataset: dataset as BundledSample['dataset'], title: `${name} (test #${m[2]})` };
  })
  .sort((a, b) => a.dataset.localeCompare(b.dataset) || a.file.localeCompare(b.file, 'en', { numeric: true }));

export const DEFAULT_MODEL = 'mnist-lif-bptt';
export const DEFAULT_SAMPLE = 'mnist/digit-7-0.png';
