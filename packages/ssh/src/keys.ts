/**
 * Private keys: explicit files, passphrase-protected files, and the default files
 * `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa` — read and parsed once per process and
 * shared by every node (apssh re-reads them for each node: 4 s for 50 nodes). A key file
 * given to nodes by path is parsed once too, and again only if the file changes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readBounded } from '@jobgraph/core';
import { messageOf, SshError, SshErrorCode } from './errors.js';
import { isSsh2LoadFailure, lazySsh2Transport } from './transport/lazy-ssh2.js';
import type { AgentKey, PrivateKey, Transport } from './transport/transport.js';

export type { AgentKey, PrivateKey } from './transport/transport.js';

/** The key files tried when a node is given no keys, in this order, under `~/.ssh/`. */
export const DEFAULT_KEY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'] as const;

/** A key file with its passphrase. */
export interface KeyFile {
  readonly path: string;
  readonly passphrase?: string;
}

/** What a node accepts as a key: a file path, a key file with passphrase, the key's text or bytes, or a loaded key. */
export type KeySpec = string | Buffer | KeyFile | PrivateKey;

function isPrivateKey(value: unknown): value is PrivateKey {
  return typeof value === 'object' && value !== null && 'source' in value && 'key' in value;
}

/** The largest private key file read (an RSA-16384 key in PEM is ~13 KiB). */
const MAX_KEY_FILE_BYTES = 1024 * 1024;

/**
 * Reads and parses one private key file.
 * @throws SshError `ERR_SSH_KEY` when the file is missing, unreadable, encrypted without passphrase, or malformed;
 * `ERR_SSH2_LOAD` when the ssh2 module (which parses keys) cannot be loaded.
 * @example
 * ```ts
 * const key = await importPrivateKey('~/.ssh/lab_ed25519', 'my passphrase')
 * new SshNode({ hostname: 'fit01', keys: [key] })
 * ```
 */
export async function importPrivateKey(
  file: string,
  passphrase?: string,
  transport: Transport = lazySsh2Transport,
): Promise<PrivateKey> {
  const path = expandHome(file);
  let data: Buffer;
  try {
    data = await readBounded(path, MAX_KEY_FILE_BYTES);
  } catch (error) {
    const why = (error as { code?: string }).code === 'ENOENT' ? 'no such file' : messageOf(error);
    throw new SshError(SshErrorCode.KEY, `Cannot load the private key ${path}: ${why}`, { cause: error });
  }
  return transport.parseKey(data, passphrase, path);
}

/** `~/x` → `$HOME/x`. */
export function expandHome(path: string): string {
  return path === '~' ? homedir() : path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

/** The default keys of a home directory: those loaded, and the encrypted ones left out. */
interface DefaultKeys {
  readonly keys: PrivateKey[];
  readonly encrypted: string[];
}

const defaultKeysCache = new Map<string, Promise<DefaultKeys>>();

function defaultKeys(): Promise<DefaultKeys> {
  const home = homedir();
  let cached = defaultKeysCache.get(home);
  if (cached === undefined) {
    const loading = loadDefaultKeys(home);
    cached = loading;
    defaultKeysCache.set(home, loading);
    // a failure (ssh2 could not be loaded) is not kept: the next call tries again
    loading.catch(() => {
      if (defaultKeysCache.get(home) === loading) defaultKeysCache.delete(home);
    });
  }
  return cached;
}

/**
 * Loads private keys: the given files (every one must load), or else the default files
 * that exist and are not encrypted — those read once per process and shared.
 * @throws SshError `ERR_SSH_KEY` for a given file that does not load; `ERR_SSH2_LOAD` when
 * the ssh2 module (which parses keys) cannot be loaded.
 * @example
 * ```ts
 * const keys = await loadPrivateKeys()            // ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exist
 * const lab = await loadPrivateKeys(['~/.ssh/lab'])
 * ```
 */
export function loadPrivateKeys(files?: readonly (string | KeyFile)[]): Promise<PrivateKey[]> {
  if (files !== undefined && files.length > 0) {
    return Promise.all(
      files.map((file) =>
        typeof file === 'string' ? importPrivateKey(file) : importPrivateKey(file.path, file.passphrase),
      ),
    );
  }
  return defaultKeys().then((loaded) => loaded.keys);
}

/**
 * The default key files that exist but were left out because they are encrypted (no passphrase
 * is asked for): what to tell a user whose authentication is refused.
 * @throws SshError `ERR_SSH2_LOAD` when the ssh2 module (which parses keys) cannot be loaded.
 */
export function encryptedDefaultKeys(): Promise<readonly string[]> {
  return defaultKeys().then((loaded) => loaded.encrypted);
}

async function loadDefaultKeys(home: string): Promise<DefaultKeys> {
  const keys: PrivateKey[] = [];
  const encrypted: string[] = [];
  for (const name of DEFAULT_KEY_FILES) {
    const file = join(home, '.ssh', name);
    try {
      keys.push(await importPrivateKey(file));
    } catch (error) {
      // no key can be parsed without ssh2: that is no absent key
      if (isSsh2LoadFailure(error)) throw error;
      // absent or encrypted default keys are skipped, as OpenSSH does without an agent
      if (/is encrypted/.test(messageOf(error))) encrypted.push(file);
    }
  }
  return { keys, encrypted };
}

/** Turns the `keys` option of a node into loaded keys. */
export async function resolveKeys(specs: readonly KeySpec[], transport: Transport): Promise<PrivateKey[]> {
  return Promise.all(
    specs.map(async (spec) => {
      if (isPrivateKey(spec)) return spec;
      if (Buffer.isBuffer(spec)) return transport.parseKey(spec, undefined, 'a key given as bytes');
      if (typeof spec === 'string') {
        return spec.includes('PRIVATE KEY-----')
          ? transport.parseKey(spec, undefined, 'a key given as text')
          : sharedKeyFile(spec, undefined, transport);
      }
      return sharedKeyFile(spec.path, spec.passphrase, transport);
    }),
  );
}

/** Key files parsed so far, by transport, then by path and passphrase: the file's stamp and the key. */
const keyFiles = new WeakMap<Transport, Map<string, { stamp: string; key: Promise<PrivateKey> }>>();

/** Salt of the passphrases' digests in {@link keyFiles}' keys: no passphrase is kept as it was given. */
const SALT = randomBytes(16);

/**
 * A key file as {@link importPrivateKey} loads it, parsed once per process for every node that
 * names it (50 nodes given one RSA key's path: one parse, not 50), and again when the file
 * changed (its inode, size, mtime or ctime: a chmod too). A failed load is not kept: the next node tries again.
 */
async function sharedKeyFile(
  file: string,
  passphrase: string | undefined,
  transport: Transport,
): Promise<PrivateKey> {
  const path = expandHome(file);
  let stamp: string;
  try {
    const info = await stat(path);
    stamp = `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
  } catch {
    // importPrivateKey says what is wrong with it
    return importPrivateKey(path, passphrase, transport);
  }
  const secret =
    passphrase === undefined ? '' : createHash('sha256').update(SALT).update(passphrase).digest('hex');
  const id = `${path}\0${secret}`;
  let files = keyFiles.get(transport);
  if (files === undefined) {
    files = new Map();
    keyFiles.set(transport, files);
  }
  const known = files.get(id);
  if (known !== undefined && known.stamp === stamp) return known.key;
  const key = importPrivateKey(path, passphrase, transport);
  files.set(id, { stamp, key });
  key.catch(() => {
    if (files.get(id)?.key === key) files.delete(id);
  });
  return key;
}

/**
 * The keys an ssh-agent holds (public halves: type, comment, blob), e.g. to check before a
 * run that the agent is loaded. Nodes use the agent through its socket (the `agent`
 * option, default `$SSH_AUTH_SOCK`), after their explicit or default key files.
 * @returns an empty list when there is no agent or it cannot be reached.
 * @throws SshError `ERR_SSH2_LOAD` when the ssh2 module (which talks to agents) cannot be loaded.
 * @example
 * ```ts
 * if ((await loadAgentKeys()).length === 0) console.warn('no key in the agent: ssh-add first')
 * ```
 */
export async function loadAgentKeys(
  agentPath: string | undefined = process.env.SSH_AUTH_SOCK,
  transport: Transport = lazySsh2Transport,
): Promise<AgentKey[]> {
  if (agentPath === undefined || agentPath === '') return [];
  try {
    return await transport.agentKeys(agentPath);
  } catch (error) {
    if (isSsh2LoadFailure(error)) throw error;
    return [];
  }
}
