/**
 * `--about`: the tap's self-description (the shape of the Meltano SDK's --about: https://sdk.meltano.com/en/latest/cli_commands.html), as text, JSON
 * or a Markdown settings table (the README includes that table; a test keeps them equal).
 */
import { TAP_CONFIG_SCHEMA } from '../config/tap-config.js';
import type { JsonSchema } from '../config/validate.js';
import { PACKAGE_VERSION } from '../paths.js';

export const CAPABILITIES = ['catalog', 'discover', 'state', 'about', 'test'] as const;

export function aboutJson(): Record<string, unknown> {
  return {
    name: 'tap-invoca',
    description: 'Singer tap for the Invoca Transactions API: every call, correction, post call event and sale',
    version: PACKAGE_VERSION,
    sdk_version: null,
    supported_python_versions: null,
    capabilities: [...CAPABILITIES],
    settings: TAP_CONFIG_SCHEMA,
  };
}

function settings(): [string, JsonSchema][] {
  return Object.entries(TAP_CONFIG_SCHEMA.properties ?? {});
}

function shownDefault(schema: JsonSchema): string {
  if (schema.default === undefined) return '';
  return Array.isArray(schema.default) ? schema.default.join(',') : String(schema.default);
}

export function aboutMarkdown(): string {
  const required = new Set<string>(TAP_CONFIG_SCHEMA.required);
  const rows = settings().map(([name, schema]) => {
    const cells = [name, required.has(name) ? 'True' : 'False', shownDefault(schema), schema.description ?? ''];
    return `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  });
  return [
    '| Setting | Required | Default | Description |',
    '|:--|:--:|:--|:--|',
    ...rows,
    '',
    `A full list of supported settings and capabilities is available by running: \`tap-invoca --about\``,
    '',
  ].join('\n');
}

export function aboutText(): string {
  const lines = [
    'Name: tap-invoca',
    `Version: ${PACKAGE_VERSION}`,
    `Capabilities: ${CAPABILITIES.join(', ')}`,
    'Settings:',
    ...settings().map(([name, schema]) => {
      const type = Array.isArray(schema.type) ? schema.type.join('|') : String(schema.type);
      return `  - ${name} (${type})${schema.default !== undefined ? ` default ${shownDefault(schema)}` : ''}: ${schema.description ?? ''}`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}
