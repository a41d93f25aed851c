/**
 * The config schemas: the one definition of each config's shape. ajv validates against them
 * (validate.ts), the config types are derived from them (json-schema-to-ts's FromSchema, types
 * only), the Airbyte spec and the secrets to redact are read from them (`secret: true`). The
 * files in schemas/, which the package ships for other tools, are written from these by
 * `npm run schemas`, and a unit test keeps them equal.
 */
import type { ExtendedJSONSchema, FromExtendedSchema } from 'json-schema-to-ts';

/**
 * Our own keywords: `secret: true` marks a value that never appears in a log, an error or stdout;
 * `mustBe` words the error for a wrong value ("config field 'x' must be <mustBe> (got ...)").
 */
type Keywords = { secret: boolean; mustBe: string };
type Schema = ExtendedJSONSchema<Keywords>;
/** The value a schema describes, after ajv has filled in its defaults. */
export type FromConfigSchema<S extends Schema> = FromExtendedSchema<Keywords, S>;

export const TAP_CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'tap-invoca config',
  type: 'object',
  additionalProperties: true,
  required: ['api_token', 'account_id'],
  properties: {
    api_token: {
      type: 'string',
      minLength: 1,
      pattern: '^\\S+$',
      mustBe: 'a token without spaces or line breaks (a trailing newline from a secret file?)',
      secret: true,
      writeOnly: true,
      title: 'API token',
      description:
        'Invoca API token (Integrations > Manage Integrations > Invoca APIs). Sent raw in the Authorization header, never in a URL or log.',
    },
    account_id: {
      type: ['string', 'integer'],
      minLength: 1,
      title: 'Account id',
      description: 'The network, advertiser or affiliate id the token belongs to.',
    },
    account_type: {
      type: 'string',
      enum: ['network', 'advertiser', 'affiliate'],
      default: 'network',
      title: 'Account type',
      description: 'Which Transactions endpoint to read: network, advertiser or affiliate.',
    },
    base_url: {
      type: 'string',
      pattern: '^https?://[^\\s]+$',
      mustBe: 'an https URL of a host only, such as https://invoca.net or https://yourcompany.invoca.net',
      default: 'https://invoca.net',
      title: 'Base URL',
      description: 'https://invoca.net, your vanity host (https://yourcompany.invoca.net), or a local simulator.',
    },
    api_version: {
      type: 'string',
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
      mustBe: 'a version date such as 2020-10-01',
      default: '2020-10-01',
      title: 'API version',
      description: 'Transactions API version in the URL. Versions before 2020-10-01 return Signal rows instead of Post Call Event rollups.',
    },
    page_size: {
      type: 'integer',
      minimum: 1,
      maximum: 4000,
      default: 4000,
      title: 'Page size',
      description: "Rows per request (Invoca's limit), 1 to 4000.",
    },
    start_date: {
      type: 'string',
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?)?$',
      mustBe: 'a date as YYYY-MM-DD or RFC 3339, e.g. 2026-01-31 or 2026-01-31T00:00:00Z',
      title: 'Start date',
      description:
        'First sync only: start with the calls of this date (YYYY-MM-DD or RFC 3339). Without it the first sync reads the whole history Invoca keeps.',
    },
    backfill_concurrency: {
      type: 'integer',
      minimum: 1,
      maximum: 16,
      title: 'Backfill concurrency',
      description:
        'First sync with start_date only: fetch the history in this many parallel date windows, then continue on the cursor. Unset: walk the cursor from start_date.',
    },
    include_columns: {
      type: 'array',
      items: {
        type: 'string',
        minLength: 1,
      },
      default: ['$invoca_default_columns', '$invoca_custom_columns', 'custom_data'],
      title: 'Include columns',
      description:
        'Columns to request; the $invoca_default_columns, $invoca_custom_columns and $invoca_custom_source_columns constants are allowed. Affiliates get what their role allows.',
    },
    exclude_columns: {
      type: 'array',
      items: {
        type: 'string',
        minLength: 1,
      },
      default: [],
      title: 'Exclude columns',
      description:
        'Columns (or $invoca_* constants, and $invoca_personal_columns: the caller\'s personal data, README "Personal data") not to request. The columns the correction merge needs are requested anyway.',
    },
    hash_columns: {
      type: 'array',
      items: {
        type: 'string',
        minLength: 1,
      },
      default: [],
      title: 'Hash columns',
      description:
        'Columns whose values the tap replaces by HMAC-SHA-256(hash_key, value) in hex before anything is written, in the record and in custom_data: names, custom (Marketing Data) columns, or $invoca_personal_columns (README "Personal data"). Phone numbers are hashed as digits with their country code.',
    },
    hash_key: {
      type: 'string',
      minLength: 1,
      secret: true,
      writeOnly: true,
      title: 'Hash key',
      description:
        'The HMAC key of hash_columns: 32 to 64 bytes (e.g. `openssl rand -hex 32`). Keep it like a password; a new key changes every hash, so joins across the change need both.',
    },
    phone_country_code: {
      type: ['string', 'integer'],
      pattern: '^[1-9][0-9]{0,2}$',
      minimum: 1,
      maximum: 999,
      mustBe: 'a country calling code of 1 to 3 digits, such as 1 or 44',
      default: '1',
      title: 'Phone country code',
      description:
        "hash_columns: the country calling code of the account's numbers, put before a number that carries none (1: the US and Canada).",
    },
    transaction_types: {
      type: 'array',
      items: {
        type: 'string',
        minLength: 1,
      },
      default: [],
      title: 'Transaction types',
      description:
        "Only these transaction types (empty: all): Call, PostCallEvent, Sale, Signal, in any case; the FAQ's spellings too (post call event, post_call_event, reported conversion).",
    },
    request_timeout_seconds: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 300,
      title: 'Request timeout (s)',
      description: "Give up on one request after this long and retry it; above Invoca's own 120 s server timeout.",
    },
    max_retries: {
      type: 'integer',
      minimum: 0,
      maximum: 100,
      default: 5,
      title: 'Max retries',
      description:
        'Retries of one request on 429, 5xx, timeouts, resets and unreadable bodies, with exponential backoff (Retry-After honoured).',
    },
    retry_initial_delay_seconds: {
      type: 'number',
      minimum: 0,
      default: 1,
      title: 'First retry delay (s)',
      description: 'First backoff step; each retry doubles it, with jitter, up to 60 s.',
    },
    max_response_mb: {
      type: 'integer',
      minimum: 1,
      // One response is one string, and V8 caps a string at ~512 MiB.
      maximum: 500,
      default: 256,
      title: 'Largest response (MB)',
      description:
        "The most one API response may hold; a larger or endless one ends the request with an error. Invoca's largest page (4,000 rows of every column) is far below the default.",
    },
    min_poll_interval_seconds: {
      type: 'integer',
      minimum: 0,
      default: 300,
      title: 'Minimum poll interval (seconds)',
      description:
        'A run with a cursor that starts sooner than this after the last poll started waits for the rest when it is at most 60 s, else makes no request and exits 0 (Invoca: poll at most every five minutes). At least 300 against invoca.net; any value against other hosts (the simulator). Also the interval of --follow.',
    },
    metrics_port: {
      type: 'integer',
      minimum: 1,
      maximum: 65535,
      title: 'Metrics port',
      description:
        'tap-invoca --follow serves Prometheus metrics at /metrics and a health check at /healthz on this port (all interfaces). Unset: none.',
    },
    health_max_age_seconds: {
      type: 'integer',
      minimum: 1,
      title: 'Health max age (s)',
      description: '/healthz answers 503 when the last successful poll is older than this. Unset: three poll intervals, at least 900.',
    },
    max_consecutive_failed_polls: {
      type: 'integer',
      minimum: 1,
      maximum: 100000,
      title: 'Failed polls before --follow gives up',
      description:
        '--follow ends with exit 1 after this many polls in a row failed (each after its retries), so a supervisor restarts it and someone is told. Unset: an hour of polls at min_poll_interval_seconds (12 at 300 s). An auth or permission error ends it at once.',
    },
  },
} as const satisfies Schema;

export const LOADER_CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'target-invoca config',
  type: 'object',
  additionalProperties: true,
  properties: {
    engine: {
      type: 'string',
      enum: ['duckdb', 'bigquery', 'snowflake'],
      default: 'duckdb',
      description: 'The warehouse: duckdb (embedded, the default), bigquery or snowflake.',
    },
    duckdb: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        path: {
          type: 'string',
          minLength: 1,
          default: 'invoca.duckdb',
          description: 'The DuckDB database file.',
        },
        schema: {
          type: 'string',
          minLength: 1,
          default: 'main',
          description: 'Schema of the three tables.',
        },
        memory_limit: {
          type: 'string',
          pattern: '^[0-9]+(\\.[0-9]+)? ?[KkMmGgTt][iI]?[Bb]$',
          mustBe: 'a size such as 1GB or 512MB',
          default: '1GB',
          description:
            "The most memory the target process should hold (default 1GB, least 400MB; KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024). DuckDB's buffer pool gets 60% of it, the rest is Node's and what DuckDB takes outside its pool; a batch is committed early, whatever batch_size_rows says, once its rows fill what that pool can merge in one transaction (at 1GB: ~46,600 records of 1.8 KB with the catalog's 185 fields, fewer when records are larger or have more fields). Measured peaks at 1GB: 0.8-1.2 GB loading 100k rows, 1.27-1.37 GB at 1M, 1.39 GB at 5M (docs/performance.md). A batch that still does not fit is rolled back and loaded in halves.",
        },
        threads: {
          type: 'integer',
          minimum: 1,
          description: 'DuckDB threads.',
        },
      },
    },
    bigquery: {
      type: 'object',
      additionalProperties: false,
      properties: {
        project_id: {
          type: 'string',
          minLength: 1,
        },
        dataset: {
          type: 'string',
          pattern: '^([a-z][a-z0-9.:-]{0,127}\\.)?[A-Za-z0-9_]{1,1024}$',
          mustBe: 'a dataset id (letters, digits and underscores, up to 1,024) or project.dataset, such as invoca or my-project.invoca',
          description:
            'The dataset of the three tables: its id (letters, digits, underscores), or project.dataset with the project of project_id.',
        },
        location: {
          type: 'string',
          description: "Where the dataset is (e.g. EU); unset: the existing dataset's own location, and BigQuery's default for a new one.",
        },
        credentials_path: {
          type: 'string',
          description: 'Service account key file; else credentials_json, else application default credentials.',
        },
        credentials_json: {
          type: 'string',
          secret: true,
          writeOnly: true,
          description:
            "The service account key file's contents (JSON text), as containers and secret stores hand it over; instead of credentials_path.",
        },
        api_endpoint: {
          type: 'string',
          description: 'Another endpoint, e.g. an emulator on http://127.0.0.1:9050 (http only for this machine).',
        },
        maximum_bytes_billed: {
          type: 'integer',
          // BigQuery bills at least 10 MB per table a query reads: a lower cap fails every query.
          minimum: 10485760,
          mustBe: 'an integer of bytes, at least 10485760 (10 MB, the least BigQuery bills)',
          description:
            "Each query job's maximum_bytes_billed (a batch's merge script is one job): BigQuery refuses a job that would bill more, and the error says what to raise. At least 10485760. Unset: no limit (the project's own quotas apply).",
        },
        job_timeout_seconds: {
          type: 'integer',
          minimum: 1,
          maximum: 21600,
          default: 3600,
          description:
            'Each job is cancelled by BigQuery after this long (jobTimeoutMs); the batch is rolled back and retried on the next run.',
        },
      },
    },
    snowflake: {
      type: 'object',
      additionalProperties: false,
      properties: {
        account: {
          type: 'string',
          pattern: '^[A-Za-z][A-Za-z0-9_-]{0,254}(\\.[A-Za-z0-9_-]{1,64}){0,3}$',
          mustBe: 'a Snowflake account identifier such as myorg-myaccount (or a locator such as xy12345.us-east-2.aws)',
          description:
            'The account identifier: orgname-accountname (preferred), or the legacy locator with its region (xy12345.us-east-2.aws). Not a URL.',
        },
        user: {
          type: 'string',
          minLength: 1,
        },
        private_key_path: {
          type: 'string',
          description: 'A PKCS#8 private key file (PEM) for key-pair auth; it may be encrypted (then set private_key_passphrase).',
        },
        private_key: {
          type: 'string',
          secret: true,
          writeOnly: true,
          description:
            'The PKCS#8 private key itself (PEM text, newlines as they are or as \\n), as containers and secret stores hand it over; instead of private_key_path.',
        },
        private_key_passphrase: {
          type: 'string',
          secret: true,
          writeOnly: true,
          description: 'The passphrase of an encrypted private_key_path or private_key.',
        },
        password: {
          type: 'string',
          secret: true,
          writeOnly: true,
        },
        warehouse: {
          type: 'string',
        },
        database: {
          type: 'string',
          minLength: 1,
        },
        schema: {
          type: 'string',
          minLength: 1,
        },
        role: {
          type: 'string',
        },
        host: {
          type: 'string',
          pattern: '^[A-Za-z0-9.:\\[\\]-]{1,253}$',
          mustBe: 'a host name without https://, such as myorg-myaccount.privatelink.snowflakecomputing.com',
          description: 'Another host than <account>.snowflakecomputing.com (PrivateLink; a local emulator).',
        },
        port: {
          type: 'integer',
          minimum: 1,
          maximum: 65535,
        },
        protocol: {
          type: 'string',
          enum: ['http', 'https'],
          description: 'https (the default); http only with a host on this machine (127.0.0.1, ::1, localhost), such as a local emulator.',
        },
        statement_timeout_seconds: {
          type: 'integer',
          minimum: 1,
          maximum: 604800,
          default: 3600,
          description:
            "STATEMENT_TIMEOUT_IN_SECONDS of the loader's sessions: Snowflake cancels a statement that runs longer (its default is two days).",
        },
        lock_timeout_seconds: {
          type: 'integer',
          minimum: 0,
          maximum: 43200,
          default: 900,
          description:
            "LOCK_TIMEOUT of the loader's sessions: a batch waits this long for another loader's lock, then fails with exit 1 and its next run loads it (0: fail at once; Snowflake's default is 12 hours).",
        },
      },
    },
    batch_size_rows: {
      type: 'integer',
      minimum: 1,
      default: 100000,
      description: 'Rows per batch: each batch is staged and merged in one transaction.',
    },
    batch_max_seconds: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 60,
      description:
        'A batch is committed at the latest this long after its first row arrived, even when no more input comes (a timer), and its state echoed.',
    },
    metrics_port: {
      type: 'integer',
      minimum: 1,
      maximum: 65535,
      description:
        'target-invoca serves Prometheus metrics at /metrics and a health check at /healthz on this port (all interfaces). Unset: none.',
    },
    health_max_age_seconds: {
      type: 'integer',
      minimum: 1,
      description: '/healthz answers 503 when the last commit is older than this. Unset: three batch_max_seconds, at least 900.',
    },
    source_table: {
      type: 'string',
      minLength: 1,
      // Echoed in merge's messages: a table name, not a document.
      maxLength: 1024,
      mustBe: 'a table name or schema.table of at most 1,024 characters',
      description:
        'target-invoca merge only: the table another loader wrote (a Singer target, an Airbyte destination final or raw table), as table or schema.table.',
    },
  },
} as const satisfies Schema;

export type TapConfigFile = FromConfigSchema<typeof TAP_CONFIG_SCHEMA>;
export type LoaderConfigFile = FromConfigSchema<typeof LOADER_CONFIG_SCHEMA>;
