#!/usr/bin/env node
import { hideBin } from 'yargs/helpers';
import { run } from '../cli/source.js';
import { stderrSink } from '../log.js';
import { traceErrorMessage } from '../protocol/airbyte.js';
import { runWithSignals } from './signals.js';

runWithSignals({
  bin: 'source-invoca',
  main: (signal, useRedactor) => run(hideBin(process.argv), { stdout: process.stdout, stderr: stderrSink, signal, useRedactor }),
  // An Airbyte platform reads why a source failed from a TRACE on stdout, never from stderr.
  crashLine: (message) => traceErrorMessage(`source-invoca: unexpected error: ${message}`, 'system_error', Date.now()),
});
