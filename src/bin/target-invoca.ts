#!/usr/bin/env node
import { hideBin } from 'yargs/helpers';
import { run } from '../cli/target.js';
import { stderrSink } from '../log.js';
import { runWithSignals } from './signals.js';

runWithSignals({
  bin: 'target-invoca',
  main: (signal, useRedactor) =>
    run(hideBin(process.argv), { stdin: process.stdin, stdout: process.stdout, stderr: stderrSink, signal, useRedactor }),
});
