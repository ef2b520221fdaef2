import { InputError, LIMITS, UsageError } from '@spikelens/sam';
import { explainCommand, EXPLAIN_HELP } from './commands/explain.js';
import { infoCommand, INFO_HELP } from './commands/info.js';
import { runCommand, RUN_HELP } from './commands/run.js';
import { trainCommand, TRAIN_HELP } from './commands/train.js';
import { evalCommand, EVAL_HELP } from './commands/eval.js';
import { convertCommand, CONVERT_HELP } from './commands/convert.js';
import { attackCommand, ATTACK_HELP } from './commands/attack.js';
import { evaluateCommand, EVALUATE_HELP } from './commands/evaluate.js';
import { reportCommand, REPORT_HELP } from './commands/report.js';
import { datasetCommand, DATASET_HELP } from './commands/dataset.js';
import { benchCommand, BENCH_HELP } from './commands/bench.js';
import { compileCommand, COMPILE_HELP } from './commands/compile.js';
import { processIo, type Io } from './io.js';

export const HELP = `Usage: spikelens COMMAND [options]

Spiking neural networks and their Spike Activation Maps (Kim & Panda, 2021), on a WebAssembly core.

Commands:
  run       run a model on an input; write spikes, membranes, maps and scores as .npy
  explain   explain images: maps of SAM, Grad-CAM, saliency, ... as PNG overlays, a grid and .npy
  attack    craft adversarial images (FGSM, PGD) and measure accuracy under attack
  evaluate  measure explanations: deletion, insertion, pointing, energy, sensitivity, randomisation
  report    test the SAM paper's claims on the bundled models: one HTML/Markdown report with figures
  info      list a model's layers, shapes, parameters and dense MACs per step
  train     train a spiking network on MNIST or Fashion-MNIST (BPTT or ANN-to-SNN conversion)
  eval      measure a model's test accuracy, firing rates and synaptic operations
  bench     measure how fast this machine runs a model: images/s, G SOP/s, a profile of its layers
  compile   compile a model into a plan file (.slplan) that the WebAssembly core runs alone
  convert   convert a NIR graph (.nir) to a spikelens model, or a spikelens model to NIR
  dataset   write a generated data set with known boxes (cluttered MNIST, two digits) as PNGs and boxes.json

Run 'spikelens COMMAND --help' for a command's options.`;

const COMMANDS: Record<string, { run: (argv: readonly string[], io: Io) => Promise<number>; help: string }> = {
  run: { run: runCommand, help: RUN_HELP },
  explain: { run: explainCommand, help: EXPLAIN_HELP },
  info: { run: infoCommand, help: INFO_HELP },
  train: { run: trainCommand, help: TRAIN_HELP },
  eval: { run: evalCommand, help: EVAL_HELP },
  convert: { run: convertCommand, help: CONVERT_HELP },
  attack: { run: attackCommand, help: ATTACK_HELP },
  evaluate: { run: evaluateCommand, help: EVALUATE_HELP },
  report: { run: reportCommand, help: REPORT_HELP },
  dataset: { run: datasetCommand, help: DATASET_HELP },
  bench: { run: benchCommand, help: BENCH_HELP },
  compile: { run: compileCommand, help: COMPILE_HELP },
};

/** A message as the one line the CLI prints: whitespace folded, at most `max` characters. */
export function oneLineMessage(text: string, max: number = LIMITS.messageChars): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 3)}...`;
}

/** The whole CLI as a function: tests call it in-process; the bin is one line. Returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(`spikelens: missing COMMAND: run, explain, attack, evaluate, report, dataset, info, train, eval, bench or convert (see 'spikelens --help')`);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.out(HELP);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  const where = command ? `spikelens ${name}` : 'spikelens';
  const warnings: string[] = [];
  const held: Io = { out: (l) => io.out(l), err: (l) => io.err(l), warn: (l) => void warnings.push(l), stderr: io.stderr };
  try {
    if (!command) throw new UsageError(`unknown command "${name.slice(0, 40)}"`);
    const code = await command.run(rest, held);
    for (const w of warnings) io.err(oneLineMessage(w, 1000));
    return code;
  } catch (err) {
    if (err instanceof UsageError) {
      const help = ` (see '${where} --help')`;
      io.err(`${where}: ${oneLineMessage(err.message, LIMITS.messageChars - where.length - help.length - 2)}${help}`);
      return 2;
    }
    if (err instanceof InputError) {
      io.err(oneLineMessage(`${where}: ${err.message}`));
      return 3;
    }
    const e = err as Error;
    const debug = argv.includes('--debug');
    io.err(oneLineMessage(`${where}: internal error: ${e?.message ?? String(err)}${debug ? '' : ' (--debug shows the stack)'}`));
    if (debug && e?.stack) io.err(e.stack);
    return 1;
  }
}
