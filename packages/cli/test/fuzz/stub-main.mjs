// A stand-in for the CLI's main() that breaks the contract on request (the first argument says how), so the harness
// can show that it notices each kind of failure. Any other argv exits 0 at once (to time the harness alone).
import { mkdirSync, writeFileSync } from 'node:fs';

const hold = [];

export async function main(argv, io) {
  switch (argv[0]) {
    case 'exit1':
      io.err('spikelens run: internal error: boom (--debug shows the stack)');
      return 1;
    case 'stack':
      io.err('spikelens run: x.npy: bad');
      io.err('    at readNpy (file:///x/npy.js:10:5)');
      return 3;
    case 'two-lines':
      io.err('warning: x.nir: something');
      io.err('spikelens info: x.nir: bad');
      return 3;
    case 'long-line':
      io.err(`spikelens info: ${'x'.repeat(400)}`);
      return 3;
    case 'partial':
      mkdirSync('out', { recursive: true });
      writeFileSync('out/output.npy', 'half');
      io.err('spikelens run: x.npy: bad');
      return 3;
    case 'tmp':
      mkdirSync('out', { recursive: true });
      writeFileSync('out/.output.npy.123.tmp', 'left');
      return 0;
    case 'hang':
      await new Promise(() => setInterval(() => {}, 1000));
      return 0;
    case 'memory': {
      // 1.3 GiB of touched memory outside the V8 heap.
      for (let i = 0; i < 13; i++) hold.push(Buffer.alloc(100 << 20, 1));
      hold.length = 0;
      io.err('spikelens run: x: too big');
      return 3;
    }
    case 'crash':
      process.exit(7);
      return 0;
    case 'throw-late':
      setTimeout(() => {
        throw new Error('late');
      }, 1);
      return 0;
    case 'stray':
      console.error('HDF5-DIAG: something');
      io.err('spikelens info: x.nir: bad');
      return 3;
    case 'exit5':
      return 5;
    default:
      return 0;
  }
}
