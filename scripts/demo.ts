/**
 * The quick start's main job, on the embedded default: start invoca-simulator, run tap-invoca
 * against it, and print a summary of what came through. Everything is the real bins over
 * loopback. Usage: npm run demo [-- --rows N]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const rowsFlag = process.argv.indexOf('--rows');
const rows = rowsFlag > 0 ? Number(process.argv[rowsFlag + 1]) : 100_000;
const token = `demo-${Math.random().toString(36).slice(2)}`;

async function main(): Promise<void> {
  const simulator = spawn(process.execPath, ['dist/src/bin/invoca-simulator.js', '--port', '0', '--rows', String(rows), '--seed', '1', '--token', token, '--account-id', '1234'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await once(createInterface({ input: simulator.stdout }), 'line')) as [string];
    const url = line.replace('listening on ', '');
    const dir = await mkdtemp(join(tmpdir(), 'tap-invoca-demo-'));
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ api_token: token, account_id: '1234', base_url: url }));
    process.stderr.write(`simulator: ${rows} rows at ${url}\n`);

    const started = Date.now();
    const tap = spawn(process.execPath, ['dist/src/bin/tap-invoca.js', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
    const counts = { records: 0, schemas: 0, states: 0, corrections: 0 };
    const types = new Map<string, number>();
    const calls = new Set<string>();
    let lastState = '';
    for await (const message of createInterface({ input: tap.stdout })) {
      const parsed = JSON.parse(message) as { type: string; record?: Record<string, unknown>; value?: unknown };
      if (parsed.type === 'RECORD' && parsed.record) {
        counts.records++;
        const record = parsed.record;
        types.set(String(record['transaction_type']), (types.get(String(record['transaction_type'])) ?? 0) + 1);
        if (record['corrects_transaction_id']) counts.corrections++;
        calls.add(String(record['complete_call_id']));
      } else if (parsed.type === 'SCHEMA') counts.schemas++;
      else if (parsed.type === 'STATE') {
        counts.states++;
        lastState = JSON.stringify(parsed.value);
      }
    }
    const [code] = (await once(tap, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`tap-invoca exited with ${code}`);
    const seconds = (Date.now() - started) / 1000;
    const summary = [
      '',
      'tap-invoca demo summary',
      `  records          ${counts.records} in ${seconds.toFixed(1)}s (${Math.round(counts.records / seconds)} rows/s)`,
      `  by type          ${[...types].map(([type, count]) => `${type}: ${count}`).join(', ')}`,
      `  corrections      ${counts.corrections}`,
      `  calls            ${calls.size}`,
      `  SCHEMA / STATE   ${counts.schemas} / ${counts.states}`,
      `  final state      ${lastState}`,
      '',
    ];
    process.stdout.write(summary.join('\n'));
  } finally {
    simulator.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
