/**
 * The tap's baseline: the cheapest loop over the same pages the tap reads (the same URLs, the
 * same HTTP client): request, JSON.parse, write each object as one line, next cursor. No
 * normalisation, no schema, no state, no prefetch, no ASCII escaping.
 *
 *   node dist/bench/baseline-tap.js <base_url> <token> <account_id>
 */
import { Agent, request } from 'undici';
import { resolveColumns } from '../src/invoca/columns.js';
import { transactionsUrl } from '../src/invoca/url.js';

const [baseUrl = '', token = '', accountId = ''] = process.argv.slice(2);
const agent = new Agent();
const columns = resolveColumns(['$invoca_default_columns', '$invoca_custom_columns', 'custom_data'], [], 'network');
const settings = { baseUrl, apiVersion: '2020-10-01', accountType: 'network' as const, accountId };
const limit = 4000;
let cursor: string | undefined;
for (;;) {
  const url = transactionsUrl(settings, {
    limit,
    startAfterTransactionId: cursor,
    includeColumns: columns.include,
    excludeColumns: columns.exclude,
    transactionTypes: [],
  });
  const response = await request(url, { dispatcher: agent, headers: { authorization: token } });
  const rows = JSON.parse(await response.body.text()) as Record<string, unknown>[];
  let text = '';
  for (const row of rows) text += `${JSON.stringify(row)}\n`;
  if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  if (rows.length < limit) break;
  cursor = String(rows.at(-1)?.['transaction_id']);
}
await agent.close();
