/**
 * `target-invoca sql`: what the loader runs on the configured engine for a stream schema, without
 * connecting to anything. Built from the same functions the warehouse clients call, in the order
 * the Loader calls them: the set-up before the first batch (the client's own statements, then
 * the three tables), then one batch (the stage, the merge in one transaction, the stage dropped).
 * Pure: for warehouse admins to review before they grant a role, and for the offline checks.
 */
import type { LoaderConfig } from '../config/loader-config.js';
import type { JsonSchema } from '../config/validate.js';
import { dataColumns } from './columns.js';
import {
  affectedTables,
  batchSteps,
  createLockTable,
  createStage,
  createTable,
  dropStage,
  LOCK_TABLE,
  STAGE_COLUMNS,
  systemColumns,
  tableColumns,
  createHistoryView,
  TABLES,
  type MergePlan,
  type OutputTable,
} from './plan.js';
import { BIGQUERY_STAGE_FIELDS, bigqueryDialect, mergeScript } from './sql/bigquery.js';
import type { Dialect } from './sql/dialect.js';
import { DUCKDB_STAGE, DUCKDB_TRANSACTION, duckdbDialect, duckdbOpenStatements, duckdbStageStatements } from './sql/duckdb.js';
import {
  createSchema,
  schemaExists,
  sessionSetup,
  snowflakeGuards,
  SNOWFLAKE_STAGE,
  SNOWFLAKE_TRANSACTION,
  snowflakeDialect,
  snowflakeStageInsert,
  snowflakeStageStatements,
  storedName,
  useSchema,
} from './sql/snowflake.js';

export interface DescribedTable {
  /** The table's name as the warehouse stores it. */
  name: string;
  /** Its full name, part by part, as stored: schema and table (DuckDB), project, dataset and table (BigQuery), database, schema and table (Snowflake). */
  path: string[];
  columns: { name: string; type: string }[];
}

export interface SqlDescription {
  engine: LoaderConfig['engine'];
  /** Every table the statements read or write, the stage too. */
  tables: DescribedTable[];
  /** Run before the first batch, in order. */
  setup: string[];
  /** One batch, in the order run, each statement as sent (on BigQuery the transaction script as one string). */
  batch: string[];
}

/** The placeholder run id in a BigQuery stage name; each run of the loader uses a random one. */
export const BIGQUERY_STAGE_EXAMPLE = '_invoca_stage_00000000_1';

export function describeSql(config: LoaderConfig, schema: JsonSchema): SqlDescription {
  switch (config.engine) {
    case 'duckdb': {
      const settings = config.duckdb;
      const dialect = duckdbDialect(settings.schema);
      const plan = planOf(dialect, schema, dialect.quote(DUCKDB_STAGE));
      return {
        engine: 'duckdb',
        tables: [
          ...outputTables(plan, [settings.schema]),
          lockTable(dialect, [settings.schema]),
          stageTable(dialect, ['temp', DUCKDB_STAGE]),
        ],
        setup: [...duckdbOpenStatements(settings.schema), ...createTables(plan)],
        batch: [
          ...duckdbStageStatements(createStage(plan, true)),
          DUCKDB_TRANSACTION.begin,
          ...batchSteps(plan).map((step) => step.sql),
          DUCKDB_TRANSACTION.commit,
          dropStage(plan),
        ],
      };
    }
    case 'bigquery': {
      const project = String(config.bigquery?.['project_id'] ?? '');
      const dataset = String(config.bigquery?.['dataset'] ?? '');
      const dialect = bigqueryDialect(project, dataset);
      const plan = planOf(dialect, schema, dialect.table(BIGQUERY_STAGE_EXAMPLE));
      return {
        engine: 'bigquery',
        tables: [
          ...outputTables(plan, [project, dataset]),
          lockTable(dialect, [project, dataset]),
          {
            name: BIGQUERY_STAGE_EXAMPLE,
            path: [project, dataset, BIGQUERY_STAGE_EXAMPLE],
            columns: BIGQUERY_STAGE_FIELDS.map((field) => ({ ...field })),
          },
          // The script's own temporary tables (the affected step): by name only.
          ...affectedTables(plan).map((table) => ({
            name: table.name,
            path: [table.name],
            columns: table.columns.map((column) => ({ name: column.name, type: dialect.type(column.kind) })),
          })),
        ],
        // The dataset is looked up (and created when missing) through the API, not SQL.
        setup: createTables(plan),
        // The stage is created and filled by a load job (the API), then the merge runs as one script.
        batch: [mergeScript({ steps: batchSteps(plan) }, dialect.callDates?.declare), dropStage(plan)],
      };
    }
    case 'snowflake': {
      const database = String(config.snowflake?.['database'] ?? '');
      const schemaName = String(config.snowflake?.['schema'] ?? '');
      const dialect = snowflakeDialect(database, schemaName);
      const plan = planOf(dialect, schema, dialect.quote(SNOWFLAKE_STAGE));
      const path = [storedName(database), storedName(schemaName)];
      return {
        engine: 'snowflake',
        tables: [...outputTables(plan, path), lockTable(dialect, path), stageTable(dialect, [...path, SNOWFLAKE_STAGE])],
        // CREATE SCHEMA runs only when the SELECT finds no such schema.
        setup: [
          // The run id is random per run: shown as 00000000, as the BigQuery stage's.
          ...sessionSetup(snowflakeGuards(config.snowflake ?? {}, '00000000')),
          schemaExists(database),
          createSchema(database, schemaName),
          useSchema(database, schemaName),
          ...createTables(plan),
        ],
        batch: [
          ...snowflakeStageStatements(createStage(plan, true)),
          snowflakeStageInsert(),
          SNOWFLAKE_TRANSACTION.begin,
          ...batchSteps(plan).map((step) => step.sql),
          SNOWFLAKE_TRANSACTION.commit,
          dropStage(plan),
        ],
      };
    }
  }
}

/** The description as commented SQL: what `--format text` prints. */
export function describeAsText(description: SqlDescription): string {
  const lines = [
    `-- target-invoca sql: what target-invoca runs on ${description.engine}`,
    '--',
    '-- Tables (name as stored: column type, ...):',
  ];
  for (const table of description.tables) {
    lines.push(`--   ${table.path.join('.')}: ${table.columns.map((column) => `${column.name} ${column.type}`).join(', ')}`);
  }
  lines.push('', '-- Set-up, before the first batch:', ...description.setup.map((sql) => `${sql};`));
  lines.push('', '-- One batch, in the order run:', ...description.batch.map((sql) => (sql.endsWith(';') ? sql : `${sql};`)));
  return `${lines.join('\n')}\n`;
}

function planOf(dialect: Dialect, schema: JsonSchema, stage: string): MergePlan {
  return { dialect, columns: dataColumns(schema, dialect), stage };
}

const OUTPUT_TABLES = Object.keys(TABLES) as OutputTable[];

function createTables(plan: MergePlan): string[] {
  return [...createLockTable(plan.dialect), ...OUTPUT_TABLES.map((table) => createTable(plan, table)), ...createHistoryView(plan)];
}

function lockTable(dialect: Dialect, prefix: string[]): DescribedTable {
  const name = dialect.storedName(dialect.name === 'snowflake' ? LOCK_TABLE.toUpperCase() : LOCK_TABLE);
  const columns = [
    { name: dialect.storedName('holder'), type: dialect.type('string') },
    { name: dialect.storedName('locked_at'), type: dialect.type('timestamp') },
  ];
  return { name, path: [...prefix, name], columns };
}

/** The output tables of a plan as the warehouse stores them, under `prefix` (schema, or project and dataset, ...). */
export function outputTables(plan: MergePlan, prefix: string[], tables: readonly OutputTable[] = OUTPUT_TABLES): DescribedTable[] {
  const { dialect } = plan;
  return tables.map((table) => {
    const name = dialect.name === 'snowflake' ? TABLES[table].toUpperCase() : TABLES[table];
    const columns = [
      ...tableColumns(plan, table).map((column) => ({ name: dialect.storedName(column.column), type: dialect.type(column.kind) })),
      ...systemColumns(table).map((column) => ({
        name: dialect.storedName(column.name),
        type: column.kind === 'raw' ? dialect.rawType : dialect.type(column.kind),
      })),
    ];
    return { name, path: [...prefix, name], columns };
  });
}

function stageTable(dialect: Dialect, path: string[]): DescribedTable {
  const columns = STAGE_COLUMNS.map((column) => ({
    name: dialect.storedName(column.name),
    type: column.kind === 'raw' ? dialect.rawType : dialect.type(column.kind),
  }));
  return { name: path.at(-1) ?? '', path, columns };
}
