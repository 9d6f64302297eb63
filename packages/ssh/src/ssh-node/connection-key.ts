/**
 * The key under which SshNode objects share a connection: equal when they name the same
 * destination, reached the same way, with the same credentials and connection settings.
 *
 * Keys, passphrases and passwords go into the key, so the key is an HMAC under a secret drawn
 * at random once per process: it is never written anywhere, and even in memory it does not
 * hold a secret nor a plain hash of one.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { KeySpec } from '../keys.js';
import type { HostKeyPolicy } from '../known-hosts.js';

/** What makes two connections the same. */
export interface ConnectionIdentity {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** The key of the gateway's connection, if reached through one. */
  readonly gateway: string | undefined;
  /** The `keys` option as given; none: the default keys. */
  readonly keys: readonly KeySpec[] | undefined;
  /** The agent socket, resolved (`undefined`: none). */
  readonly agent: string | undefined;
  readonly password: string | undefined;
  readonly hostKeyPolicy: HostKeyPolicy;
  readonly hostKeyAlias: string | undefined;
  readonly knownHosts: string;
  readonly connectTimeout: number;
  readonly keepaliveInterval: number;
  readonly maxSessions: number;
  /** The transport object: two transports are two connections, whatever they do. */
  readonly transport: object;
}

const SECRET = randomBytes(32);

/** A number per object, for the parts of a key known only by identity (loaded keys, transports). */
const objectIds = new WeakMap<object, number>();
let lastObjectId = 0;

function idOf(object: object): number {
  let id = objectIds.get(object);
  if (id === undefined) {
    id = ++lastObjectId;
    objectIds.set(object, id);
  }
  return id;
}

/** A key spec as a value that JSON can hold: strings and bytes by content, a key file by path and passphrase, a loaded key by identity. */
function specPart(spec: KeySpec): unknown {
  if (typeof spec === 'string') return ['text', spec];
  if (Buffer.isBuffer(spec)) return ['bytes', spec.toString('base64')];
  if ('path' in spec) return ['file', spec.path, spec.passphrase ?? null];
  return ['loaded', idOf(spec)];
}

/** The key of a shared connection: `lane` tells apart the connections of a node with `connections: n`. */
export function sharedConnectionKey(identity: ConnectionIdentity, lane: number): string {
  const parts = [
    identity.host,
    identity.port,
    identity.username,
    identity.gateway ?? null,
    identity.keys === undefined || identity.keys.length === 0 ? 'default' : identity.keys.map(specPart),
    identity.agent ?? null,
    identity.password ?? null,
    identity.hostKeyPolicy,
    identity.hostKeyAlias ?? null,
    identity.knownHosts,
    identity.connectTimeout,
    identity.keepaliveInterval,
    identity.maxSessions,
    idOf(identity.transport),
    lane,
  ];
  return `shared:${createHmac('sha256', SECRET).update(JSON.stringify(parts)).digest('base64url')}`;
}

let lastPrivate = 0;

/** A key no other node has, for a node with `shareConnection: false` (its `lane`s told apart). */
export function privateConnectionKeys(lanes: number): string[] {
  const id = ++lastPrivate;
  return Array.from({ length: lanes }, (_, lane) => `private:${id}:${lane}`);
}
