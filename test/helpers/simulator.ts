import { InvocaClient, type InvocaClientOptions } from '../../src/invoca/client.js';
import { createMemoryLogger } from './logger.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator/server.js';

/** A token that is easy to find if it leaks into any output. */
export const TEST_TOKEN = 'tok_SECRET_c0ffee_4242';
export const TEST_ACCOUNT = '4321';

export async function simulator(options: Partial<SimulatorOptions> = {}): Promise<RunningSimulator> {
  return startSimulator({ token: TEST_TOKEN, accountId: TEST_ACCOUNT, rows: 100, seed: 7, ...options });
}

export function clientFor(
  sim: RunningSimulator,
  overrides: Partial<InvocaClientOptions> = {},
): { client: InvocaClient; logger: ReturnType<typeof createMemoryLogger> } {
  const logger = createMemoryLogger();
  const client = new InvocaClient({
    baseUrl: sim.url,
    apiVersion: '2020-10-01',
    accountType: 'network',
    accountId: TEST_ACCOUNT,
    apiToken: TEST_TOKEN,
    pageSize: 4000,
    includeColumns: ['$invoca_default_columns', '$invoca_custom_columns', 'custom_data'],
    excludeColumns: [],
    transactionTypes: [],
    requestTimeoutMs: 5000,
    maxResponseBytes: 256 * 1024 * 1024,
    maxRetries: 3,
    retryInitialDelayMs: 5,
    logger,
    ...overrides,
  });
  return { client, logger };
}

/** Every row of every page, in order. */
export async function readAll(client: InvocaClient, start: Parameters<InvocaClient['pages']>[0] = {}) {
  const rows: Record<string, unknown>[] = [];
  let pages = 0;
  for await (const page of client.pages(start)) {
    pages++;
    rows.push(...page.rows);
  }
  return { rows, pages };
}
