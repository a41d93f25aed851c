/**
 * goccy/bigquery-emulator on loopback, for the BigQuery tests. scripts/setup-tools.sh (run by
 * `npm test`) builds it into .tools/bin (BIGQUERY_EMULATOR_BIN overrides the path).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { OAuth2Client } from 'google-auth-library';

export const EMULATOR_BIN = process.env['BIGQUERY_EMULATOR_BIN'] ?? '.tools/bin/bigquery-emulator';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface RunningEmulator {
  endpoint: string;
  project: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startEmulator(project = 'p1', dataset = 'invoca'): Promise<RunningEmulator> {
  const [port, grpcPort] = [await freePort(), await freePort()];
  const child = spawn(
    EMULATOR_BIN,
    [`--project=${project}`, `--dataset=${dataset}`, '--host=127.0.0.1', `--port=${port}`, `--grpc-port=${grpcPort}`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  let stderr = '';
  child.stderr?.on('data', (data: Buffer) => (stderr = (stderr + data.toString()).slice(-2000)));
  // Ready is an answer to a request: poll for it until the emulator answers or exits.
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the BigQuery emulator exited before it was ready: ${stderr}`);
    try {
      const response = await fetch(`${endpoint}/bigquery/v2/projects/${project}/datasets`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
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
