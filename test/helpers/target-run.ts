import { Readable } from 'node:stream';
import type { JsonSchema } from '../../src/config/validate.js';
import { Loader } from '../../src/load/loader.js';
import { runTarget } from '../../src/load/target.js';
import type { Warehouse } from '../../src/load/warehouse.js';
import { createMemoryLogger } from './logger.js';

/**
 * One batch of `records` through runTarget into `warehouse`, as Singer lines with a STATE after
 * them: what failed (undefined when it committed) and the states it echoed.
 */
export function targetRun(
  warehouse: Warehouse,
  schema: JsonSchema,
  records: readonly Record<string, unknown>[],
): Promise<{ failure: unknown; states: string[] }> {
  const lines = [
    JSON.stringify({ type: 'SCHEMA', stream: 'transactions', schema, key_properties: ['transaction_id'] }),
    ...records.map((record) => JSON.stringify({ type: 'RECORD', stream: 'transactions', record })),
    JSON.stringify({ type: 'STATE', value: { bookmarks: { transactions: { replication_key_value: 'B', sequence: 3 } } } }),
  ];
  const states: string[] = [];
  return runTarget(Readable.from(lines.map((line) => `${line}\n`)), {
    loader: new Loader(warehouse, createMemoryLogger()),
    logger: createMemoryLogger(),
    batchSizeRows: 1000,
    batchMaxSeconds: 60,
    emitState: async (line) => {
      states.push(line);
    },
  }).then(
    () => ({ failure: undefined, states }),
    (error: unknown) => ({ failure: error, states }),
  );
}
