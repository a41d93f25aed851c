import { spawn } from 'node:child_process';
import type { SnowflakeSettings } from '../../src/load/snowflake-warehouse.js';
import { lineWatcher } from './lines.js';

/** fakesnow's Snowflake REST server for the Node driver (test/snowflake/fakesnow_server.py). */
export interface FakesnowServer {
  port: number;
  /** Settles when the process has ended (stopped, or gone by its --stop-on). */
  exited: Promise<void>;
  stop(): Promise<void>;
}

export async function startFakesnowServer(
  dbPath: string,
  options: { stopOn?: string; port?: number; sessionRoles?: string[] } = {},
): Promise<FakesnowServer> {
  const child = spawn(
    '.venv/bin/python',
    [
      'test/snowflake/fakesnow_server.py',
      '--db-path',
      dbPath,
      ...(options.stopOn ? ['--stop-on', options.stopOn] : []),
      ...(options.port ? ['--port', String(options.port)] : []),
      ...(options.sessionRoles ? ['--session-roles', options.sessionRoles.join(',')] : []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = await lineWatcher(child.stdout, exited)
    .until(/^listening on \d+$/)
    .catch((error: unknown) => {
      throw new Error(`fakesnow server did not start: ${String(error)} ${stderr.join('').slice(-500)}`);
    });
  return {
    port: Number(listening.split(' ').at(-1)),
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      await exited;
    },
  };
}

/** Loader settings for a fakesnow server on this machine (ANALYTICS.INVOCA). */
export function fakesnowSettings(port: number, extra: Partial<SnowflakeSettings> = {}): SnowflakeSettings {
  return {
    account: 'acme',
    user: 'LOADER',
    password: 'pw',
    database: 'ANALYTICS',
    schema: 'INVOCA',
    host: '127.0.0.1',
    port,
    protocol: 'http',
    ...extra,
  };
}
