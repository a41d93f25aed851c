/**
 * A loopback stand-in for Snowflake's REST API that records what the real snowflake-sdk sends.
 * It is a recorder, not an engine: no emulator serves the Node driver's JSON result format, so
 * the SQL itself is executed on fakesnow (snowflake.test.ts) and this proves the driver wiring:
 * login (password or key-pair JWT), statements, column-wise binds, and the PUT/COPY sequence
 * (PUT is answered with a LOCAL_FS stage, so the driver copies the file into a local folder).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface RecordedQuery {
  sqlText: string;
  bindings: Record<string, { type: string; value: unknown }> | undefined;
}

export interface SnowflakeRecorder {
  port: number;
  logins: Record<string, unknown>[];
  queries: RecordedQuery[];
  /** Where PUT files land. */
  stageDirectory: string;
  close(): Promise<void>;
}

const STATEMENT_TYPE: [RegExp, number][] = [
  [/^\s*INSERT/i, 0x3100],
  [/^\s*UPDATE/i, 0x3200],
  [/^\s*DELETE/i, 0x3300],
  [/^\s*MERGE/i, 0x3400],
  [/^\s*SELECT/i, 0x1000],
];

async function body(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  let buffer = Buffer.concat(chunks);
  if (request.headers['content-encoding'] === 'gzip') buffer = gunzipSync(buffer);
  return buffer.length === 0 ? {} : (JSON.parse(buffer.toString('utf8')) as Record<string, unknown>);
}

function column(name: string, type: string): Record<string, unknown> {
  return {
    name,
    database: '',
    schema: '',
    table: '',
    type,
    nullable: true,
    byteLength: 16777216,
    length: 16777216,
    scale: 0,
    precision: 38,
  };
}

/** `schemas`: the schemas that exist (their INFORMATION_SCHEMA.SCHEMATA count is 1). */
export async function startSnowflakeRecorder(stageDirectory: string, schemas: readonly string[] = []): Promise<SnowflakeRecorder> {
  const logins: Record<string, unknown>[] = [];
  // Tables the loader created, with their columns: enough to answer INFORMATION_SCHEMA.COLUMNS.
  const tables = new Map<string, string[]>();
  const queries: RecordedQuery[] = [];
  let queryNumber = 0;
  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://recorder');
      const payload = await body(request);
      const send = (value: unknown): void => {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      };
      if (url.pathname === '/session/v1/login-request') {
        logins.push((payload['data'] ?? {}) as Record<string, unknown>);
        send({
          success: true,
          code: null,
          message: null,
          data: {
            token: 'session-token',
            masterToken: 'master-token',
            validityInSeconds: 3600,
            masterValidityInSeconds: 14400,
            sessionId: 1,
            parameters: [],
            sessionInfo: { databaseName: 'ANALYTICS', schemaName: 'INVOCA', warehouseName: 'WH', roleName: 'LOADER' },
          },
        });
        return;
      }
      if (url.pathname === '/queries/v1/query-request') {
        const sqlText = String(payload['sqlText'] ?? '');
        const bindings = payload['bindings'] as RecordedQuery['bindings'];
        queries.push({ sqlText, bindings });
        const created = /^CREATE TABLE IF NOT EXISTS "[^"]+"\."[^"]+"\."([^"]+)" \((.*)\)$/s.exec(sqlText);
        if (created)
          tables.set(
            created[1] ?? '',
            [...(created[2] ?? '').matchAll(/"((?:[^"]|"")+)" [A-Z_]+/g)].map((match) => (match[1] ?? '').replace(/""/g, '"')),
          );
        const queryId = `q-${++queryNumber}`;
        if (/^\s*PUT /i.test(sqlText)) {
          const source = /file:\/\/(\S+?)'?\s/.exec(sqlText)?.[1] ?? '';
          send({
            success: true,
            data: {
              command: 'UPLOAD',
              src_locations: [source],
              autoCompress: false,
              sourceCompression: 'gzip',
              parallel: 1,
              overwrite: true,
              stageInfo: { locationType: 'LOCAL_FS', location: `${stageDirectory}/`, path: '', region: null, creds: {} },
              encryptionMaterial: null,
              rowtype: [],
              rowset: [],
              queryId,
              statementTypeId: 0x7000,
            },
          });
          return;
        }
        if (/INFORMATION_SCHEMA\.SCHEMATA/i.test(sqlText)) {
          const exists = schemas.includes(String(bindings?.['1']?.value));
          send({
            success: true,
            data: {
              parameters: [],
              rowtype: [column('N', 'fixed')],
              rowset: [[exists ? '1' : '0']],
              total: 1,
              returned: 1,
              queryId,
              statementTypeId: 0x1000,
              queryResultFormat: 'json',
              version: 1,
            },
          });
          return;
        }
        const isColumns = /INFORMATION_SCHEMA\.COLUMNS/i.test(sqlText);
        const type = STATEMENT_TYPE.find(([pattern]) => pattern.test(sqlText))?.[1] ?? 0x6000;
        const dml = type >= 0x3000 && type < 0x4000;
        send({
          success: true,
          data: {
            parameters: [],
            rowtype: isColumns
              ? [column('COLUMN_NAME', 'text')]
              : dml
                ? [column('number of rows inserted', 'fixed')]
                : [column('status', 'text')],
            rowset: isColumns ? (tables.get(String(bindings?.['2']?.value)) ?? []).map((name) => [name]) : dml ? [['0']] : [['ok']],
            total: 1,
            returned: 1,
            queryId,
            statementTypeId: type,
            queryResultFormat: 'json',
            version: 1,
          },
        });
        return;
      }
      // telemetry, session close, anything else: acknowledged.
      send({ success: true, data: {} });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    logins,
    queries,
    stageDirectory,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
