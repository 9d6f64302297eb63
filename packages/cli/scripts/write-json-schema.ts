/**
 * Writes docs/scenario.schema.json, the JSON Schema of scenario files derived from the zod schema.
 *   pnpm --filter @jobgraph/cli write-json-schema
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarioJsonSchema } from '../src/scenario/schema.js';

/** Where the JSON Schema goes. */
export const JSON_SCHEMA_PATH = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../docs/scenario.schema.json',
);

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The text of docs/scenario.schema.json: the JSON Schema, formatted by Biome as `biome ci` expects. */
export function jsonSchemaText(): string {
  const json = `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
  return execFileSync(
    resolve(ROOT, 'node_modules/.bin/biome'),
    ['format', `--stdin-file-path=${JSON_SCHEMA_PATH}`],
    {
      cwd: ROOT,
      input: json,
      encoding: 'utf8',
    },
  );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await writeFile(JSON_SCHEMA_PATH, jsonSchemaText());
  process.stdout.write(`wrote ${JSON_SCHEMA_PATH}\n`);
}
