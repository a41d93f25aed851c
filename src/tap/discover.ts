import type { InvocaClient } from '../invoca/client.js';
import { StreamSchema } from '../stream/schema.js';

/**
 * The stream schema of this account: the documented fields plus its custom (Marketing Data)
 * columns, found with one request of one row. Custom columns come as nullable strings; an empty
 * account has none yet (they are added when they first appear in a sync).
 */
export async function discoverSchema(client: InvocaClient): Promise<StreamSchema> {
  const base = new StreamSchema();
  const page = await client.fetchPage({ limit: 1 });
  const extra = Object.keys(page.rows[0] ?? {}).filter((field) => !base.has(field));
  return new StreamSchema(extra);
}
