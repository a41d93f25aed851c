/**
 * goccy/bigquery-emulator on loopback, for the BigQuery tests. `.ci/run` builds it into
 * .tools/bin (BIGQUERY_EMULATOR_BIN overrides the path).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { OAuth2Client } from 'google-auth-library';

export const EMULATOR_BIN = process.env['BIGQUERY_EMULATOR_BIN'] ?? '.tools/bin/bigquery-emulator';

export function emulatorAvailable(): boolean {
  return existsSync(EMULATOR_BIN);
}

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
  const child = spawn(EMULATOR_BIN, [`--project=${project}`, `--dataset=${dataset}`, '--host=127.0.0.1', `--port=${port}`, `--grpc-port=${grpcPort}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
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
      child.kill('SIGTERM');
      await sleep(50);
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
