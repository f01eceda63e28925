// Starts a worker thread written in TypeScript, when plotwire runs from its sources (vitest, tsx):
// registers tsx in this thread, then loads the module named by the last argument. The built
// package starts its compiled .js workers directly and never loads this file.
import { register } from 'tsx/esm/api';

register();
await import(process.argv.at(-1));
