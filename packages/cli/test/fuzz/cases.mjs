// Whole cases: the files of a case (built on demand), the state of its output folder, and the command line, drawn by
// fast-check from one seed per case so that any case can be rebuilt from (seed, index) alone.
import fc from 'fast-check';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { INPUTS, MODELS, NIR_BASES, PNGS, repoFile } from './bases.mjs';
import { npy } from './formats.mjs';
import { argvEdits } from './gen-argv.mjs';
import { containerCase, graphCase, synthModel } from './gen-model.mjs';
import { bigNpyFor, npyFor } from './gen-npy.mjs';
import { damagedNir, nirGraph, validNir } from './gen-nir.mjs';
import { anyPng } from './gen-png.mjs';
import { sometimes } from './values.mjs';

const file = (path, build) => ({ path, build });
const digit = (path = 'digit.png', which = PNGS[0]) => file(path, () => repoFile(which));
const pixels = (S, path = 'pixels.npy') => file(path, () => npy('<f4', [1, ...S], (i) => (i * 37) % 256));

/** Inputs for `run` against a model whose input is `S`. */
function runInput(S, extra) {
  const options = [{ argv: 'pixels.npy', files: [pixels(S)] }];
  if (S.length === 3 && (S[0] === 1 || S[0] === 3)) options.push({ argv: 'digit.png', files: [digit()] });
  if (S.length === 3 && S[0] === 1 && S[1] === 28 && S[2] === 28) options.push({ argv: 'input.npy', files: [file('input.npy', () => repoFile(INPUTS.c01Train))] });
  if (extra) options.push(extra);
  return fc.constantFrom(...options);
}

const outState = fc.constantFrom('absent', 'absent', 'empty', 'stale');

/**
 * A command on a model file (`model.safetensors` or `model.nir`) whose layers are `layers`: info, run, explain or
 * convert, with the options that make them do real work, plus argv edits.
 */
function commandOn(modelPath, layers, { nir = false, input, edits = 2, p = 0.6, commands } = {}) {
  const S = layers.input;
  const names = layers.spiking.length ? layers.spiking : ['lif1'];
  const maps = layers.maps.length ? layers.maps : names;
  const image = S.length === 3 && (S[0] === 1 || S[0] === 3);
  const cmd = fc.constantFrom(...(commands ?? ['info', 'run', 'run', 'run', 'explain', 'explain', 'attack', 'convert']).filter((c) => image || !['explain', 'attack'].includes(c)));
  return cmd.chain((c) => {
    if (c === 'info') return fc.record({ json: fc.boolean(), edits: argvEdits('info', names, edits, p, nir) }).map((r) => ({ argv: ['info', modelPath, ...(r.json ? ['--json'] : [])], files: [], edits: r.edits, out: null }));
    if (c === 'convert') {
      return fc.record({ edits: argvEdits('convert', names, edits, p, nir), out: fc.constantFrom('absent', 'absent', 'existing') }).map((r) => ({
        argv: ['convert', modelPath, '-o', nir ? 'out.safetensors' : 'out.nir'],
        files: r.out === 'existing' ? [file(nir ? 'out.safetensors' : 'out.nir', () => new TextEncoder().encode('old output\n'))] : [],
        edits: r.edits,
        out: null,
      }));
    }
    if (c === 'attack') {
      return fc
        .record({ method: fc.constantFrom('fgsm', 'pgd'), eps: fc.constantFrom('0.1', '0.3', '0'), explain: sometimes(fc.constantFrom('sam', 'gradcam', 'saliency'), 0.3), edits: argvEdits('attack', maps, edits, p, nir), out: outState, T: sometimes(fc.constantFrom('1', '3'), 0.5) })
        .map((r) => ({
          argv: ['attack', modelPath, 'digit.png', '--method', r.method, '--eps', r.eps, ...(r.method === 'pgd' ? ['--steps', '2'] : []), '--out', 'out', ...(r.explain ? ['--explain', r.explain, '--layer', maps[0]] : []), ...(r.T ? ['--timesteps', r.T] : [])],
          files: [digit()],
          edits: r.edits,
          out: r.out,
        }));
    }
    if (c === 'explain') {
      return fc
        .record({ images: fc.constantFrom(1, 1, 2), layer: fc.constantFrom(...maps, maps.join(',')), method: sometimes(fc.constantFrom('gradcam', 'saliency', 'random', 'input'), 0.4), edits: argvEdits('explain', maps, edits, p, nir), out: outState, T: sometimes(fc.constantFrom('1', '3'), 0.333) })
        .map((r) => ({
          argv: ['explain', modelPath, 'digit.png', ...(r.images === 2 ? ['digit.png'] : []), ...(r.method ? ['--method', r.method] : []), ...(r.method === 'saliency' || r.method === 'input' ? [] : ['--layer', r.layer]), '--out', 'out', ...(r.T ? ['--timesteps', r.T] : [])],
          files: [digit()],
          edits: r.edits,
          out: r.out,
        }));
    }
    return fc
      .record({
        input: input ?? runInput(S),
        record: sometimes(fc.constantFrom('all', names[0], names.join(',')), 0.5),
        sam: sometimes(fc.constantFrom(...maps), 0.333),
        json: fc.boolean(),
        threads: sometimes(fc.constant('2'), 0.2),
        edits: argvEdits('run', names, edits, p, nir),
        out: outState,
      })
      .map((r) => ({
        argv: ['run', modelPath, '--input', r.input.argv, '--out', 'out', ...(r.record ? ['--record', r.record] : []), ...(r.sam ? ['--sam', r.sam] : []), ...(r.json ? ['--json'] : []), ...(r.threads ? ['--threads', r.threads] : [])],
        files: r.input.files,
        edits: r.edits,
        out: r.out,
      }));
  });
}

const applyEdits = (argv, edits) => edits.reduce((a, e) => e.f(a), argv);

function spec(family, model, cmd, extra = {}) {
  return {
    family,
    what: [...(model.what ?? []), ...cmd.edits.map((e) => `argv: ${e.what}`)],
    files: [...(model.path ? [file(model.path, model.build)] : []), ...cmd.files],
    out: cmd.out,
    argv: applyEdits(cmd.argv, cmd.edits),
    mode: 'pool',
    ...extra,
  };
}

// ------------------------------------------------------------------------------------------------------- families

const container = containerCase.chain((m) => commandOn('model.safetensors', m.layers, { edits: 1, p: 0.15 }).map((cmd) => spec('container', { ...m, path: 'model.safetensors' }, cmd)));

const graph = graphCase.chain((m) => commandOn('model.safetensors', m.layers, { edits: 1, p: 0.15 }).map((cmd) => spec('graph', { ...m, path: 'model.safetensors' }, cmd)));

const synth = synthModel.chain((m) =>
  commandOn('model.safetensors', m.layers, { edits: 1, p: 0.15, input: fc.constant({ argv: 'digit.png', files: [digit()] }), commands: ['info', 'run', 'run', 'explain', 'attack', 'convert'] }).map((cmd) =>
    spec('synth', { ...m, path: 'model.safetensors' }, cmd, { heavy: (m.T ?? 20) >= 10000 || (m.T ?? 20) * m.macsPerStep > 2e9, slow: (m.T ?? 20) >= 1000 || (m.T ?? 20) * (m.macsPerStep + m.layers.input[1] * m.layers.input[2]) > 2e7 || m.layers.input[1] * m.layers.input[2] > 1e5 }),
  ),
);

const npyInput = fc
  .record({ model: fc.constantFrom('c01', 'mnist', 'nir-linear', 'nir-conv'), big: fc.boolean() })
  .chain(({ model, big }) => {
    const nir = model.startsWith('nir-');
    const S = model === 'nir-linear' ? [40] : model === 'nir-conv' ? [2, 12, 12] : [1, 28, 28];
    const modelFile = nir ? file('model.nir', () => repoFile(NIR_BASES[model.slice(4)].file)) : file('model.safetensors', () => repoFile(MODELS[model].file));
    const gen = big ? fc.oneof({ weight: 1, arbitrary: bigNpyFor(S) }, { weight: 30, arbitrary: npyFor(S) }) : npyFor(S);
    return gen.chain((arr) =>
      fc.record({ edits: argvEdits('run', ['lif1'], 1, 0.15, nir), record: fc.boolean(), T: sometimes(fc.constantFrom('1', '2'), 0.5) }).map((r) => ({
        family: 'npy',
        what: [`model ${model}`, ...arr.what, ...r.edits.map((e) => `argv: ${e.what}`)],
        files: [modelFile, file('input.npy', arr.build)],
        out: 'absent',
        argv: applyEdits(['run', modelFile.path, '--input', 'input.npy', '--out', 'out', '--quiet', ...(r.record ? ['--record', 'all'] : []), ...(arr.what[0].startsWith('valid') && r.T ? ['--timesteps', r.T] : [])], r.edits),
        mode: 'pool',
        heavy: arr.what[0].startsWith('valid') && !r.T,
        slow: arr.what[0].startsWith('valid'),
      })),
    );
  });

const png = fc
  .record({ image: anyPng, model: fc.constantFrom('c01', 'mnist'), use: fc.constantFrom('run', 'run', 'explain', 'explain', 'explain-second', 'attack', 'run', 'explain', 'attack', 'as-model') })
  .chain(({ image, model, use }) =>
    fc.record({ edits: argvEdits(use === 'run' || use === 'attack' ? use : 'explain', ['lif1'], 1, 0.15, false), T: sometimes(fc.constantFrom('1', '2'), 0.5) }).map((r) => {
      const img = file('image.png', image.build);
      const m = file('model.safetensors', () => repoFile(MODELS[model].file));
      const T = r.T ? ['--timesteps', r.T] : [];
      const argv = {
        run: ['run', 'model.safetensors', '--input', 'image.png', '--out', 'out', '--sam', 'lif1', ...T],
        explain: ['explain', 'model.safetensors', 'image.png', '--layer', 'lif1', '--out', 'out', ...T],
        'explain-second': ['explain', 'model.safetensors', 'digit.png', 'image.png', '--layer', 'lif1,lif2', '--out', 'out', ...T],
        attack: ['attack', 'model.safetensors', 'image.png', '--method', 'fgsm', '--eps', '0.1', '--out', 'out', ...T],
        'as-model': ['info', 'image.png'],
      }[use];
      return {
        family: 'png',
        what: [...image.what, `used by ${use}`, ...r.edits.map((e) => `argv: ${e.what}`)],
        files: use === 'as-model' ? [img] : [m, img, digit()],
        out: 'absent',
        argv: applyEdits(argv, r.edits),
        mode: 'pool',
        heavy: !!image.big && !r.T,
        slow: !!image.slow,
      };
    }),
  );

const nirFlags = (edits) => edits.filter((e) => e.what.startsWith('--')).length;

const nir = fc
  .oneof({ weight: 3, arbitrary: nirGraph }, { weight: 1, arbitrary: damagedNir }, { weight: 1, arbitrary: validNir })
  .chain((m) =>
    commandOn('model.nir', m.layers, { nir: true, edits: 2, p: 0.4, input: m.input ? fc.constant({ argv: 'input.npy', files: [file('input.npy', () => repoFile(m.input))] }) : undefined }).map((cmd) =>
      spec('nir', { ...m, path: 'model.nir' }, cmd, { nirFlags: nirFlags(cmd.edits) }),
    ),
  );

/** Valid models and inputs, with command lines edited harder. */
const argvFamily = fc
  .record({ model: fc.constantFrom('c01', 'mnist', 'nir'), edits: fc.integer({ min: 1, max: 4 }) })
  .chain(({ model, edits }) => {
    const m = model === 'nir' ? { path: 'model.nir', build: () => repoFile(NIR_BASES.conv.file), what: ['NIR conformance conv'] } : { path: 'model.safetensors', build: () => repoFile(MODELS[model].file), what: [`model ${model}`] };
    const layers = model === 'nir' ? { spiking: ['lif1', 'lif2', 'lif3'], maps: ['lif1', 'lif2'], input: [2, 12, 12] } : { spiking: MODELS[model].spiking, maps: MODELS[model].maps, input: MODELS[model].input };
    return commandOn(m.path, layers, { nir: model === 'nir', edits, p: 0.9, commands: ['info', 'run', 'run', 'explain', 'convert'] }).map((cmd) => spec('argv', m, cmd));
  });

const topLevel = fc
  .constantFrom([], ['--help'], ['-h'], ['help'], ['help', 'run'], ['frobnicate'], [''], ['RUN'], ['run'], ['explain'], ['attack'], ['attack', '--help'], ['info'], ['train'], ['eval'], ['convert'], ['--json'], ['-q', 'run'], ['run', '--help', '--frob'], ['info', '--help=1'], ['--version'], ['\u00e9'], ['x'.repeat(100000)])
  .map((argv) => ({ family: 'argv', what: ['top level'], files: [], out: null, argv, mode: 'pool' }));

// Paths that fail without writing anywhere (never a path whose success would write outside the case folder).
const BAD_OUT_DIRS = ['/proc/nope', '/dev/null', '/dev/null/x', '/proc/self/status/x', '/sys/nope/x', 'model.safetensors', 'model.safetensors/sub', 'x'.repeat(300), `${'d/'.repeat(2100)}x`, 'link-to-null', 'out\nnewline', ''];
const BAD_READS = ['/dev/zero', '/dev/null', '/dev/urandom', '/proc/self/status', '/proc/self/mem', '.', '/', 'missing.safetensors', 'dir.safetensors', 'loop.safetensors', 'fifo.safetensors', 'nl\nname.safetensors', `${'x'.repeat(300)}.safetensors`, 'digit.png', 'input.npy', 'model.nir.safetensors', 'MODEL.SAFETENSORS', 'noext', 'model.safetensors/'];

/** Files and folders special paths point at, made in the case folder, for each extension. */
function specialFiles(used) {
  const out = [{ path: 'link-to-null', symlink: '/dev/null' }];
  const content = { safetensors: () => repoFile(MODELS.c01.file), npy: () => repoFile(INPUTS.c01Train), png: () => repoFile(PNGS[0]) };
  for (const ext of ['safetensors', 'npy', 'png']) {
    out.push({ path: `dir.${ext}`, dir: true }, { path: `loop.${ext}`, symlink: `loop.${ext}` }, { path: `nl\nname.${ext}`, build: content[ext] });
    if (used.includes(`fifo.${ext}`)) out.push({ path: `fifo.${ext}`, fifo: true });
  }
  out.push({ path: 'model.nir.safetensors', build: () => repoFile(NIR_BASES.conv.file) }, { path: 'MODEL.SAFETENSORS', build: () => repoFile(MODELS.c01.file) }, { path: 'noext', build: () => repoFile(MODELS.c01.file) });
  return out;
}

const paths = fc
  .record({
    where: fc.constantFrom('model', 'model', 'input', 'image', 'out', 'convert-in', 'convert-out'),
    bad: fc.constantFrom(...BAD_READS),
    badOut: fc.constantFrom(...BAD_OUT_DIRS),
    cmd: fc.constantFrom('info', 'run', 'explain'),
  })
  .map(({ where, bad, badOut, cmd }) => {
    const model = 'model.safetensors';
    const as = (ext) => bad.replace(/\.safetensors$/, `.${ext}`);
    let argv;
    if (where === 'model') argv = cmd === 'info' ? ['info', bad] : cmd === 'run' ? ['run', bad, '--input', 'input.npy', '--out', 'out'] : ['explain', bad, 'digit.png', '--layer', 'lif1', '--out', 'out'];
    else if (where === 'input') argv = ['run', model, '--input', as('npy'), '--out', 'out'];
    else if (where === 'image') argv = ['explain', model, 'digit.png', as('png'), '--layer', 'lif1', '--out', 'out'];
    else if (where === 'out') argv = cmd === 'explain' ? ['explain', model, 'digit.png', '--layer', 'lif1', '--out', badOut] : ['run', model, '--input', 'input.npy', '--out', badOut];
    else if (where === 'convert-in') argv = ['convert', bad, '-o', 'out.nir'];
    else argv = ['convert', model, '-o', { '/dev/null': 'out.nir', '/proc/nope': '/proc/nope/x.nir', '/dev/null/x': '/dev/null/x.nir', '': '' }[badOut] ?? `${badOut.startsWith('/') ? 'out' : badOut}.nir`];
    const used = argv.join('\u0000');
    return {
      family: 'paths',
      what: [`${where}: ${JSON.stringify(where === 'out' || where === 'convert-out' ? badOut : bad).slice(0, 80)}`],
      files: [file(model, () => repoFile(MODELS.c01.file)), file('input.npy', () => repoFile(INPUTS.c01Train)), digit(), ...specialFiles(used)],
      out: null,
      argv,
      mode: 'pool',
      hangProne: /fifo|\/dev\/zero|\/dev\/urandom/.test(used),
      slow: /fifo|\/dev\/zero|\/dev\/urandom/.test(used),
    };
  });

const EPIPE_ARGV = [
  ['info', 'model.safetensors'],
  ['--help'],
  ['run', 'model.safetensors', '--input', 'input.npy', '--out', 'out', '--json'],
  ['info', 'model.safetensors', '--json'],
  ['run', '--help'],
  ['run', 'model.safetensors', '--input', 'input.npy', '--out', 'out'],
  ['explain', 'model.safetensors', 'digit.png', 'digit.png', '--layer', 'lif1', '--out', 'out'],
  ['convert', 'model.safetensors', '-o', 'out.nir'],
];

const epipeCase = ({ argv, how }) => ({
    family: 'epipe',
    what: [`stdout ${how === 'closed' ? 'closed before the first write' : 'closed after the first line'}`],
    files: [file('model.safetensors', () => repoFile(MODELS.c01.file)), file('input.npy', () => repoFile(INPUTS.c01Train)), digit()],
    out: null,
    argv,
    mode: how === 'closed' ? 'epipe-closed' : 'epipe-head',
});

/** Stdout closed early (`spikelens info MODEL | head -1`), in a real process. */
const epipe = fc.record({ argv: fc.constantFrom(...EPIPE_ARGV), how: fc.constantFrom('closed', 'head-1') }).map(epipeCase);

/** The first `n` command lines with stdout closed before the first write and after the first line. */
export const epipeCases = (n = EPIPE_ARGV.length) => EPIPE_ARGV.slice(0, n).flatMap((argv) => ['closed', 'head-1'].map((how) => epipeCase({ argv, how })));

/** train and eval, kept small: every case ends with limits that bound the work. */
const trainEval = fc
  .record({
    cmd: fc.constantFrom('train', 'train', 'eval', 'attack'),
    dataset: fc.constantFrom('mnist', 'fashion-mnist', 'cifar', ''),
    edits: fc.integer({ min: 0, max: 3 }),
    model: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: graphCase }, { weight: 1, arbitrary: containerCase }),
    resume: sometimes(containerCase, 0.25),
  })
  .chain((r) =>
    argvEdits(r.cmd, ['lif1'], r.edits, r.edits ? 0.8 : 0).map((edits) => {
      const bound = r.cmd === 'train' ? ['--limit', '16', '--eval-limit', '16', '--epochs', '1', '--workers', '2', '--batch', '8', '--quiet'] : r.cmd === 'attack' ? ['--limit', '8', '--batch', '4', '--quiet'] : ['--limit', '20', '--quiet'];
      const safeEdits = edits.filter((e) => !/^(positional|drop|duplicate|flags before)|"--"|\bextra "-"/.test(e.what) && !e.what.includes('"--"'));
      const files = [];
      let argv;
      if (r.cmd === 'eval' || r.cmd === 'attack') {
        files.push(r.model ? file('model.safetensors', r.model.build) : file('model.safetensors', () => repoFile(MODELS.mnist.file)));
        argv = r.cmd === 'eval' ? ['eval', 'model.safetensors', '--dataset', r.dataset] : ['attack', 'model.safetensors', '--dataset', r.dataset, '--method', 'pgd', '--steps', '2', '--eps', '0.1,0.2'];
      } else {
        argv = ['train', '--dataset', r.dataset, '--out', 'm.safetensors'];
        if (r.resume) {
          files.push(file('m.safetensors.ckpt', r.resume.build));
          argv.push('--resume');
        }
      }
      return {
        family: 'train-eval',
        what: [`${r.cmd} ${r.dataset}`, ...(r.cmd !== 'train' && r.model ? r.model.what : []), ...(r.resume && r.cmd === 'train' ? ['resume from', ...r.resume.what] : []), ...safeEdits.map((e) => `argv: ${e.what}`)],
        files,
        out: null,
        argv: [...applyEdits(argv, safeEdits), ...bound],
        mode: 'pool',
        // Loading a dataset takes seconds; a valid small training run is work, not a hang on bad input.
        heavy: safeEdits.length === 0 && !(r.resume && r.cmd === 'train') && !r.model && ['mnist', 'fashion-mnist'].includes(r.dataset),
        slow: ['mnist', 'fashion-mnist'].includes(r.dataset),
      };
    }),
  );

/** Family weights: where a campaign spends its cases. */
export const FAMILIES = {
  container: { arb: container, weight: 14, quickWeight: 16 },
  graph: { arb: graph, weight: 18, quickWeight: 20 },
  synth: { arb: synth, weight: 6, quickWeight: 5 },
  npy: { arb: npyInput, weight: 12 },
  png: { arb: png, weight: 12, quickWeight: 9 },
  nir: { arb: nir, weight: 14 },
  argv: { arb: fc.oneof({ weight: 6, arbitrary: argvFamily }, { weight: 1, arbitrary: topLevel }), weight: 12 },
  paths: { arb: paths, weight: 5 },
  // Real processes, slow to start: CI runs a fixed few (epipeCases) instead.
  epipe: { arb: epipe, weight: 1, quickWeight: 0 },
  'train-eval': { arb: trainEval, weight: 1 },
};

/** The seed fast-check uses for case `index` of a campaign seeded `seed`. */
export const caseSeed = (seed, index) => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) | 0;

const arbitraries = new Map();

/**
 * Case `index` of a campaign: the family is drawn by weight, then the case within it. `quick` leaves out the slow
 * cases (big valid inputs and images, long valid runs, datasets, devices that never end), for CI.
 */
export function caseAt(seed, index, families = FAMILIES, { quick = false } = {}) {
  const key = `${Object.keys(families).join(',')}/${quick}`;
  if (!arbitraries.has(key)) {
    const entries = Object.entries(families);
    const one = (name, f) => f.arb.map((c) => ({ ...c, family: c.family ?? name }));
    const weighted = entries
      .map(([name, f]) => ({ weight: quick ? f.quickWeight ?? f.weight : f.weight, arbitrary: quick ? one(name, f).filter((c) => !c.slow) : one(name, f) }))
      .filter((e) => e.weight > 0);
    arbitraries.set(key, fc.oneof(...weighted));
  }
  const arb = arbitraries.get(key);
  const [c] = fc.sample(arb, { seed: caseSeed(seed, index), numRuns: 1 });
  return { ...c, seed, index };
}

/** Writes a case's files (and its output folder's prior state) into `dir`. */
export async function materialize(c, dir) {
  mkdirSync(dir, { recursive: true });
  for (const f of c.files) {
    const p = join(dir, f.path);
    mkdirSync(dirname(p), { recursive: true });
    if (f.dir) mkdirSync(p, { recursive: true });
    else if (f.symlink) symlinkSync(f.symlink, p);
    else if (f.fifo) {
      execFileSync('mkfifo', [p]);
    } else writeFileSync(p, await f.build());
  }
  if (c.out === 'empty' || c.out === 'stale') {
    mkdirSync(join(dir, 'out'), { recursive: true });
    if (c.out === 'stale') {
      writeFileSync(join(dir, 'out', 'keep.txt'), 'from an earlier run\n');
      writeFileSync(join(dir, 'out', 'output.npy'), 'stale');
      mkdirSync(join(dir, 'out', 'digit'), { recursive: true });
      writeFileSync(join(dir, 'out', 'digit', 'lif1.sam.npy'), 'stale');
    }
  }
}
