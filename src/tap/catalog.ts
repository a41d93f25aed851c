/**
 * The Singer catalog: built for `--discover`, read from `--catalog`, and the selection rules of
 * the Singer spec / Meltano SDK (`_breadcrumb_is_selected`): automatic fields are always emitted,
 * unsupported never, otherwise `selected`, then `selected-by-default`, then the parent's choice.
 */
import { firstSchemaProblem, type JsonSchema } from '../config/validate.js';
import { CatalogError } from '../errors.js';
import { MERGE_API_COLUMNS } from '../stream/merge-fields.js';
import { KEY_PROPERTIES, REPLICATION_KEY, SEQUENCE_FIELD, STREAM } from '../stream/contract.js';
import { BASE_SCHEMA } from '../stream/schema.js';

export interface MetadataEntry {
  breadcrumb: string[];
  metadata: Record<string, unknown>;
}

export interface CatalogStream {
  tap_stream_id: string;
  stream: string;
  schema: JsonSchema;
  key_properties: string[];
  replication_key?: string;
  replication_method?: string;
  metadata: MetadataEntry[];
  [legacy: string]: unknown;
}

export interface Catalog {
  streams: CatalogStream[];
}

/** Fields a user cannot deselect: the key, the merge's columns and the version sequence. */
export const AUTOMATIC_FIELDS: ReadonlySet<string> = new Set([...KEY_PROPERTIES, ...MERGE_API_COLUMNS, SEQUENCE_FIELD]);

export function buildCatalog(schema: JsonSchema): Catalog {
  const fields = Object.keys(schema.properties ?? {});
  return {
    streams: [
      {
        tap_stream_id: STREAM,
        stream: STREAM,
        schema,
        key_properties: [...KEY_PROPERTIES],
        replication_key: REPLICATION_KEY,
        replication_method: 'INCREMENTAL',
        metadata: [
          {
            breadcrumb: [],
            metadata: {
              inclusion: 'available',
              selected: true,
              'selected-by-default': true,
              'table-key-properties': [...KEY_PROPERTIES],
              'valid-replication-keys': [REPLICATION_KEY],
              'forced-replication-method': 'INCREMENTAL',
              'replication-method': 'INCREMENTAL',
              'replication-key': REPLICATION_KEY,
            },
          },
          ...fields.map((field) => ({
            breadcrumb: ['properties', field],
            metadata: AUTOMATIC_FIELDS.has(field) ? { inclusion: 'automatic' } : { inclusion: 'available', 'selected-by-default': true },
          })),
        ],
      },
    ],
  };
}

export interface Selection {
  streamSelected: boolean;
  /** Fields of the catalog's schema beyond the documented ones (the account's custom columns). */
  catalogFields: string[];
  /** Fields the catalog deselects: not requested from Invoca and not emitted. */
  deselectedFields: Set<string>;
}

/** A catalog as the tap reads it: a list of streams; only the tap's own stream is read further. */
const CATALOG_SCHEMA = { type: 'object', required: ['streams'], properties: { streams: { type: 'array' } } } as const;
/** The metadata of the tap's stream: entries of a breadcrumb and its metadata. */
const METADATA_SCHEMA = {
  type: 'array',
  items: {
    type: 'object',
    required: ['breadcrumb', 'metadata'],
    properties: { breadcrumb: { type: 'array' }, metadata: { type: ['object', 'array'] } },
  },
} as const;

/** The selection a catalog file makes; throws CatalogError for a catalog that is not one. */
export function selectionFromCatalog(raw: unknown): Selection {
  if (firstSchemaProblem(CATALOG_SCHEMA, raw, 'catalog') !== undefined) {
    throw new CatalogError("the catalog must be an object with a 'streams' list; regenerate it with --discover");
  }
  const streams = (raw as { streams: unknown[] }).streams;
  const entry = streams.find(
    (stream): stream is CatalogStream =>
      !!stream && typeof stream === 'object' && ((stream as CatalogStream).tap_stream_id ?? (stream as CatalogStream).stream) === STREAM,
  );
  if (!entry) return { streamSelected: false, catalogFields: [], deselectedFields: new Set() };
  const catalogFields = Object.keys(entry.schema?.properties ?? {});
  const metadata = Array.isArray(entry.metadata) ? entry.metadata : [];
  if (metadata.length === 0) {
    // No metadata at all: selected, unless a legacy "selected" key on the stream or schema says no.
    const legacy = entry['selected'] ?? entry.schema?.['selected'];
    return { streamSelected: legacy !== false, catalogFields, deselectedFields: new Set() };
  }
  if (firstSchemaProblem(METADATA_SCHEMA, metadata, 'metadata') !== undefined) {
    throw new CatalogError(`the catalog's ${STREAM} stream has a metadata entry without breadcrumb and metadata`);
  }
  const byPath = new Map<string, Record<string, unknown>>();
  for (const item of metadata) byPath.set(item.breadcrumb.join('\u0000'), item.metadata);
  const streamMetadata = byPath.get('') ?? {};
  const streamSelected = isSelected(streamMetadata, entry['selected'] !== false);
  const deselectedFields = new Set<string>();
  for (const field of catalogFields) {
    if (AUTOMATIC_FIELDS.has(field)) continue;
    const fieldMetadata = byPath.get(['properties', field].join('\u0000'));
    if (fieldMetadata && !isSelected(fieldMetadata, streamSelected)) deselectedFields.add(field);
  }
  return { streamSelected, catalogFields, deselectedFields };
}

function isSelected(metadata: Record<string, unknown>, parentSelected: boolean): boolean {
  if (metadata['inclusion'] === 'unsupported') return false;
  if (metadata['inclusion'] === 'automatic') return true;
  if (typeof metadata['selected'] === 'boolean') return metadata['selected'];
  if (typeof metadata['selected-by-default'] === 'boolean') return metadata['selected-by-default'];
  return parentSelected;
}

/**
 * The selection an Airbyte configured catalog makes: the stream if it is listed; with
 * `full_refresh` the state is ignored; a trimmed json_schema deselects the fields it leaves out.
 */
export function selectionFromAirbyteCatalog(raw: unknown): Selection & { fullRefresh: boolean } {
  if (firstSchemaProblem(CATALOG_SCHEMA, raw, 'catalog') !== undefined) {
    throw new CatalogError("the configured catalog must be an object with a 'streams' list");
  }
  const configured = (raw as { streams: unknown[] }).streams.find(
    (item) => !!item && typeof item === 'object' && (item as { stream?: { name?: unknown } }).stream?.name === STREAM,
  ) as { stream: { json_schema?: JsonSchema }; sync_mode?: unknown } | undefined;
  if (!configured) return { streamSelected: false, catalogFields: [], deselectedFields: new Set(), fullRefresh: false };
  const properties = configured.stream.json_schema?.properties;
  const catalogFields = Object.keys(properties ?? {});
  const deselectedFields = new Set<string>();
  if (properties && catalogFields.length > 0) {
    for (const field of Object.keys(BASE_SCHEMA.properties ?? {})) {
      if (!(field in properties) && !AUTOMATIC_FIELDS.has(field)) deselectedFields.add(field);
    }
  }
  return { streamSelected: true, catalogFields, deselectedFields, fullRefresh: configured.sync_mode === 'full_refresh' };
}
