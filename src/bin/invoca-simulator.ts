#!/usr/bin/env node
import { hideBin } from 'yargs/helpers';
import { run } from '../cli/simulator.js';
import { stderrSink } from '../log.js';

run(hideBin(process.argv), { stdout: process.stdout, stderr: stderrSink }).then(({ code, simulator }) => {
  if (!simulator) {
    process.exitCode = code;
    return;
  }
  const stop = (): void => {
    void simulator.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
});
