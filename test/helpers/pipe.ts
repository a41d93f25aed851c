import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseLines } from './tap.js';

export interface PipeResult {
  /** The tap's messages, as the target received them. */
  messages: Record<string, unknown>[];
  /** The target's stdout lines (Singer targets echo states there). */
  targetStdout: string[];
  tapStderr: string;
  targetStderr: string;
}

/** `tap-invoca <tapArgs> | <target> <targetArgs>`, both real processes; fails on a non-zero exit. */
export async function pipeTap(
  tapArgs: string[],
  target: string,
  targetArgs: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<PipeResult> {
  const tap = spawn(process.execPath, ['dist/src/bin/tap-invoca.js', ...tapArgs]);
  const sink = spawn(target, targetArgs, { env });
  const exits = Promise.all([once(tap, 'exit'), once(sink, 'exit')]);
  // A target that fails stops reading: end the tap too, or it waits on a full pipe for ever.
  sink.on('exit', (code) => {
    if (code !== 0) tap.kill('SIGTERM');
  });
  sink.stdin.on('error', () => undefined);
  let tapStdout = '';
  let tapStderr = '';
  let targetStdout = '';
  let targetStderr = '';
  tap.stdout.on('data', (data: Buffer) => (tapStdout += data.toString()));
  tap.stdout.pipe(sink.stdin);
  tap.stderr.on('data', (data: Buffer) => (tapStderr += data.toString()));
  sink.stdout.on('data', (data: Buffer) => (targetStdout += data.toString()));
  sink.stderr.on('data', (data: Buffer) => (targetStderr += data.toString()));
  const [[tapCode], [targetCode]] = (await exits) as [[number | null], [number | null]];
  if (tapCode !== 0 || targetCode !== 0) {
    throw new Error(`tap exited ${tapCode}, ${target} exited ${targetCode}:\n${tapStderr.slice(-800)}\n${targetStderr.slice(-1500)}`);
  }
  return { messages: parseLines(tapStdout), targetStdout: targetStdout.split('\n').filter(Boolean), tapStderr, targetStderr };
}
