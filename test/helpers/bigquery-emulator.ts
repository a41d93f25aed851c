/**
 * goccy/bigquery-emulator on loopback, for the BigQuery tests. scripts/setup-tools.sh (run by
 * `npm test`) builds it into .tools/bin (BIGQUERY_EMULATOR_BIN overrides the path).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { OAuth2Client } from 'google-auth-library';
import { freePort } from './ports.js';

export const EMULATOR_BIN = process.env['BIGQUERY_EMULATOR_BIN'] ?? '.tools/bin/bigquery-emulator';

export interface RunningEmulator {
  endpoint: string;
  project: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** `databaseFile`: keep the data in this file (a restart on it serves the same data); else in memory. */
export async function startEmulator(project = 'p1', dataset = 'invoca', databaseFile?: string): Promise<RunningEmulator> {
  const [port, grpcPort] = [await freePort(), await freePort()];
  const child = spawn(
    EMULATOR_BIN,
    [
      `--project=${project}`,
      `--dataset=${dataset}`,
      '--host=127.0.0.1',
      `--port=${port}`,
      `--grpc-port=${grpcPort}`,
      ...(databaseFile ? [`--database=${databaseFile}`] : []),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (data: Buffer) => (stderr = (stderr + data.toString()).slice(-2000)));
  // Ready is the emulator's own line (on stdout) that its REST server listens, or its exit.
  await new Promise<void>((ready, failed) => {
    child.stdout?.on('data', (data: Buffer) => {
      stdout = (stdout + data.toString()).slice(-2000);
      if (stdout.includes(`REST server listening at 127.0.0.1:${port}`)) ready();
    });
    child.once('exit', () => failed(new Error(`the BigQuery emulator exited before it was ready: ${stderr}`)));
  });
  return {
    endpoint,
    project,
    process: child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A static token: the client then sends `Bearer test` and never looks for other credentials. */
export function staticAuth(): OAuth2Client {
  // Belt and braces: google-auth-library must never try the GCE metadata server (off loopback).
  process.env['GCE_METADATA_HOST'] = '127.0.0.1:9';
  const client = new OAuth2Client();
  client.setCredentials({ access_token: 'test', expiry_date: Date.now() + 24 * 3_600_000 });
  return client;
}
