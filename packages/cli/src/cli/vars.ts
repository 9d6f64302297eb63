/**
 * `--var k=v`: values read as YAML (numbers, booleans, flow lists and mappings), else kept as strings;
 * dotted keys (`nodes.amf=fit01`) set nested mappings.
 */
import { parseDocument, visit } from 'yaml';
import { TEMPLATE_SYNTAX } from '../scenario/load.js';
import { UsageError } from './errors.js';

const KEY = /^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*$/;

/** Names that would reach into JavaScript's objects (`__proto__.x=1` would change every object). */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The value of `v`: a number (written as JavaScript writes it back: `2222`, `2.5`, not `1.10`), a
 * boolean, a `[…]` list or `{…}` mapping, or else the string itself.
 */
export function parseVarValue(text: string): unknown {
  // `{{ y }}` reads as a YAML mapping: kept as text, a template the loader then refuses by name
  if (TEMPLATE_SYNTAX.test(text)) return text;
  let value: unknown;
  try {
    const document = parseDocument(text, { logLevel: 'silent', keepSourceTokens: true });
    if (document.errors.length > 0) return text;
    // a number only when it reads back as written: `1.10` (a version), `007`, `0x1F` stay text,
    // in lists and mappings too
    visit(document, {
      Scalar(_key, node) {
        const written =
          node.srcToken !== undefined && 'source' in node.srcToken ? node.srcToken.source : undefined;
        if (typeof node.value === 'number' && written !== undefined && String(node.value) !== written) {
          node.value = written;
        }
      },
    });
    value = document.toJS();
  } catch {
    return text;
  }
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value;
  if (value !== null && typeof value === 'object' && /^\s*[[{]/.test(text)) return value;
  return text;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Adds one `k=v` (or `k.sub=v`) to `variables` (changed in place, and returned). */
export function addVar(assignment: string, variables: Record<string, unknown> = {}): Record<string, unknown> {
  const equal = assignment.indexOf('=');
  if (equal < 0) throw new UsageError(`--var expects NAME=VALUE, got "${assignment}"`);
  const key = assignment.slice(0, equal).trim();
  if (!KEY.test(key)) {
    throw new UsageError(
      `--var: "${key}" is not a variable name (letters, digits, _ and -, dots for nesting)`,
    );
  }
  const path = key.split('.');
  const reserved = path.find((part) => RESERVED.has(part));
  if (reserved !== undefined) {
    throw new UsageError(`--var: "${key}" uses ${reserved}, which is not allowed as a variable name`);
  }
  const last = path.pop() as string;
  let target = variables;
  for (const [depth, part] of path.entries()) {
    // own keys only: `toString.x=1` is a new mapping, not a look into Object.prototype
    const next = Object.hasOwn(target, part) ? target[part] : undefined;
    if (next === undefined) {
      const created: Record<string, unknown> = {};
      target[part] = created;
      target = created;
    } else if (isMapping(next)) {
      target = next;
    } else {
      const prefix = path.slice(0, depth + 1).join('.');
      throw new UsageError(`--var ${key}: ${prefix} is already set to a value that is not a mapping`);
    }
  }
  target[last] = parseVarValue(assignment.slice(equal + 1));
  return variables;
}

/** Every `--var`, in order (a later one wins). */
export function parseVars(assignments: readonly string[]): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  for (const assignment of assignments) addVar(assignment, variables);
  return variables;
}
