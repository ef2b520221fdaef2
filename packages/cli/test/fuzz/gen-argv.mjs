// Command lines: each command's flags with values valid and not, unknown and bare flags, --opt=value, --no-..., negative
// numbers, duplicates, lists with repeats; and argv edits applied to any valid command line.
import fc from 'fast-check';
import { idx } from './values.mjs';

const INTS = ['0', '1', '2', '3', '-1', '1e6', '100000', '100001', '1.5', '0x10', ' 5', '5 ', 'Infinity', '-Infinity', 'NaN', '', '1e2', '4294967295', '4294967296', '9007199254740993', '-0', '+3', '0b1', '\u0663', '1_000', '20'];
const NUMS = [...INTS, '1e308', '1e-308', '0.5', '-1e309', '1e309', '5e-324', '.5', '-.5'];
const LISTS = (names) => [...names, names.join(','), `${names[0]},${names[0]}`, 'all', 'all,lif1', 'input', ',,,', ' , ', 'lif9', 'conv1', 'fc', 'pool1', 'flat', 'out', '0', 'x'.repeat(300), Array.from({ length: 1000 }, (_, i) => `l${i}`).join(','), 'lif1,,lif2', '*'];
const CHOICE = (xs) => [...xs, 'x', '', xs[0].toUpperCase(), ` ${xs[0]}`];
const EXPLAIN_METHODS = ['sam', 'gradcam', 'saliency', 'random', 'input'];
const TARGETS = ['pred', 'label', '0', '9', '10', '-1', '1.5', 'x', '', '1e309', '4294967296'];
const EPS = ['0', '0.05', '0.1', '1', '1.5', '-0.1', 'NaN', '', '0,0.05,0.1,0.2,0.3', '0.1,,0.2', Array(1000).fill('0.1').join(',')];

const NIR_FLAGS = {
  preset: CHOICE(['snntorch', 'spikingjelly', 'norse', 'sinabs']),
  dt: ['1e-4', '0', '-1', 'NaN', '1e308', '5e-324', '1', '1e-300'],
  integration: CHOICE(['euler', 'exp']),
  reset: CHOICE(['subtract', 'zero', 'none']),
  'reset-delay': null,
  readout: CHOICE(['count', 'final', 'mean']),
  encoding: CHOICE(['direct', 'poisson', 'signed-poisson']),
  gain: ['1', '0', '-1', '1e308', 'NaN'],
  scale: ['0.00392156862745098', '0', '-1', '1e308', '1e-320'],
  mean: ['0', '0,0,0', '1e308', ',', 'x', Array(1000).fill('0').join(',')],
  std: ['1', '0', '1,0', '1e-320', '1e308', '-1'],
  labels: ['a,b,c', 'a,,b', Array.from({ length: 10000 }, (_, i) => `c${i}`).join(','), 'a\nb', '0,1,2,3,4,5,6,7,8,9'],
};

/** Flags per command, with the values to try; null = a boolean flag. */
export const FLAGS = {
  run: { input: null, seed: ['0', '4294967295', '4294967296', ...INTS], threads: ['1', '2', '3', '0', ...INTS], timesteps: INTS, record: 'LIST', sam: 'LIST', gamma: NUMS, ncs: CHOICE(['inclusive', 'strict', 'official']), json: null, quiet: null, ...NIR_FLAGS },
  explain: {
    method: CHOICE(EXPLAIN_METHODS), layer: 'LIST', target: TARGETS, label: TARGETS, surrogate: CHOICE(['triangle', 'atan', 'fast-sigmoid']), alpha: [...CHOICE(['summed', 'per-step']), '0.5'],
    aggregate: CHOICE(['sum', 'last']), gamma: NUMS, ncs: CHOICE(['inclusive', 'strict', 'official']), timesteps: INTS, seed: INTS, colormap: CHOICE(['jet', 'viridis', 'inferno', 'gray']),
    opacity: [...NUMS, '2'], normalize: CHOICE(['frame', 'global', 'official', 'fixed']), limit: NUMS, threads: ['1', '2', '3'], json: null, quiet: null, ...NIR_FLAGS,
  },
  attack: {
    method: CHOICE(['fgsm', 'pgd']), eps: EPS, steps: ['1', '2', '0', '-1', '1.5', '1e6', 'NaN', ''], 'step-size': NUMS, 'no-random-start': null, label: TARGETS, surrogate: CHOICE(['triangle', 'atan', 'fast-sigmoid']),
    seed: INTS, timesteps: ['1', '2', '0', '100001', '1.5', ''], explain: [...EXPLAIN_METHODS, 'sam,gradcam', 'sam,sam', 'x', '', Array(100).fill('sam').join(',')], layer: 'LIST',
    limit: ['1', '0', '-1', '1.5', ''], batch: ['1', '0', '10001', '1.5'], threads: ['1', '2', '3', '0'], json: null, quiet: null, ...NIR_FLAGS,
  },
  info: { json: null, ...NIR_FLAGS },
  convert: { dt: NIR_FLAGS.dt, 'no-hints': null, ...NIR_FLAGS },
  eval: { dataset: CHOICE(['mnist', 'fashion-mnist']), batch: ['1', '7', '100', '10000', '0', '10001', ...INTS], seed: INTS, json: null, quiet: null },
  train: {
    arch: CHOICE(['cnn-s', 'cnn-m', 'mlp']), method: CHOICE(['bptt', 'convert', 'ann']), neuron: CHOICE(['lif', 'if']), timesteps: ['1', '2', '4', '0', '1001', ...INTS],
    batch: ['1', '2', '8', '3', '0', '4097', ...INTS], optimizer: CHOICE(['adam', 'sgd']), lr: [...NUMS, '10', '9.99'], schedule: CHOICE(['cosine', 'step', 'constant']),
    'weight-decay': [...NUMS, '0.99'], surrogate: CHOICE(['atan', 'triangle', 'fast-sigmoid']), 'keep-reset': null, 'train-beta': null, encoding: CHOICE(['direct', 'poisson']),
    percentile: [...NUMS, '100', '99.9', '0'], seed: INTS, workers: ['1', '2', '3', '0', '17', ...INTS], 'checkpoint-seconds': ['0', '1', '86401', ...INTS], resume: null, json: null, quiet: null,
  },
};

const UNKNOWN = ['--reset-delay=true', '--no-reset-delay', '--no-random-start=1', '--frobnicate', '--Record', '--record-all', '--no-json', '--no-quiet', '--no-hints', '--version', '-x', '-qq', '-', '--', '---', '--=', '--json=true', '--quiet=1', '-t', '-o', '-i', '-l', '-h=1', '--help=x', '--debug=1', '--\u00e9', '--' + 'x'.repeat(1000), '--constructor', '--__proto__', '--toString', '--hasOwnProperty'];

/** One edit of a command line (a list of strings); `cmd` chooses the flag table. */
export const argvEdit = (cmd, names, nir = true) => {
  const flags = FLAGS[cmd] ?? {};
  const keys = Object.keys(flags).filter((k) => nir || !(k in NIR_FLAGS) || k === 'timesteps' || k === 'encoding');
  const valueOf = (k) => (flags[k] === 'LIST' ? fc.constantFrom(...LISTS(names)) : flags[k] ? fc.constantFrom(...flags[k]) : fc.constant(null));
  const flagValue = keys.length ? fc.constantFrom(...keys).chain((k) => valueOf(k).map((v) => [k, v])) : fc.constant(['json', null]);
  return fc.oneof(
    { weight: 5, arbitrary: flagValue.map(([k, v]) => ({ what: `--${k} ${v === null ? '' : JSON.stringify(v)}`, f: (a) => [...a, `--${k}`, ...(v === null ? [] : [v])] })) },
    { weight: 2, arbitrary: flagValue.map(([k, v]) => ({ what: `--${k}=${v ?? ''}`, f: (a) => [...a, `--${k}=${v ?? ''}`] })) },
    { weight: 1, arbitrary: flagValue.map(([k, v]) => ({ what: `--${k} ${JSON.stringify(v)} first`, f: (a) => [a[0], `--${k}`, ...(v === null ? [] : [v]), ...a.slice(1)] })) },
    { weight: 2, arbitrary: fc.constantFrom(...keys.length ? keys : ['json']).map((k) => ({ what: `bare --${k}`, f: (a) => [...a, `--${k}`] })) },
    { weight: 1, arbitrary: fc.constantFrom(...keys.length ? keys : ['json']).map((k) => ({ what: `--no-${k}`, f: (a) => [...a, `--no-${k}`] })) },
    { weight: 2, arbitrary: fc.constantFrom(...UNKNOWN).map((u) => ({ what: `extra ${JSON.stringify(u)}`, f: (a) => [...a, u] })) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', 'extra', '-1', '-1e309', '-Infinity', 'x'.repeat(100000), 'a\nb', '\u00e9').map((p) => ({ what: `positional ${JSON.stringify(p.length > 20 ? p.slice(0, 10) + '...' : p)}`, f: (a) => [...a, p] })) },
    { weight: 1, arbitrary: idx.map((i) => ({ what: `drop argv[${i}]`, f: (a) => (a.length > 1 ? a.filter((_, j) => j !== 1 + (i % (a.length - 1))) : a) })) },
    { weight: 1, arbitrary: idx.map((i) => ({ what: `duplicate argv[${i}]`, f: (a) => { const j = i % a.length; return [...a.slice(0, j + 1), a[j], ...a.slice(j + 1)]; } })) },
    { weight: 1, arbitrary: fc.constantFrom(0, 0, 0, 1).map((which) => (which ? { what: 'command last', f: (a) => [...a.slice(1), a[0]] } : { what: 'a flag before the command', f: (a) => ['--quiet', ...a] })) },
  );
};

/**
 * Up to `max` argv edits with probability `p` (else none), each with its description. `nir` false draws the
 * NIR-only flags rarely (on a .safetensors model they are a usage error before any file is read).
 */
export const argvEdits = (cmd, names, max = 3, p = 0.6, nir = true) => {
  const edit = argvEdit(cmd, names, nir);
  return fc.oneof({ weight: Math.round((1 - p) * 100), arbitrary: fc.constant([]) }, { weight: Math.round(p * 100), arbitrary: fc.array(edit, { minLength: 1, maxLength: Math.max(1, max) }) });
};
