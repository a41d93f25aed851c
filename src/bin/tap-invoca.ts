#!/usr/bin/env node
import { hideBin } from 'yargs/helpers';
import { run } from '../cli/tap.js';
import { stderrSink } from '../log.js';
import { runWithSignals } from './signals.js';

runWithSignals({
  bin: 'tap-invoca',
  main: (signal, useRedactor) => run(hideBin(process.argv), { stdout: process.stdout, stderr: stderrSink, signal, useRedactor }),
});
