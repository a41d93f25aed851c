#!/usr/bin/env node
import { hideBin } from 'yargs/helpers';
import { run } from '../cli/simulator.js';

run(hideBin(process.argv)).then(
  (simulator) => {
    if (!simulator) return;
    const stop = (): void => {
      void simulator.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  },
  (error: unknown) => {
    process.stderr.write(`invoca-simulator: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
