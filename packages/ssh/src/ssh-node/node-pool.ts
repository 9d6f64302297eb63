/**
 * The connection pool of one SshNode, made from its resolved options: the identity that decides
 * which node objects share a connection (one key per lane), the dial through the gateway, and
 * what opening a connection takes.
 */
import type { KeySpec } from '../keys.js';
import type { HostKeyPolicy } from '../known-hosts.js';
import type { Transport } from '../transport/transport.js';
import { privateConnectionKeys, sharedConnectionKey } from './connection-key.js';
import { ConnectionPool } from './connection-pool.js';
import { registry } from './connection-registry.js';
import type { Credentials } from './credentials.js';
import { throughGateway } from './gateway-tunnel.js';
import type { EventSource } from './node-events.js';

/** The node's options, resolved (an SshNode is one). */
export type PoolNode = EventSource & {
  readonly hostname: string;
  readonly username: string;
  readonly port: number;
  readonly hostKeyPolicy: HostKeyPolicy;
  readonly hostKeyAlias: string | undefined;
  readonly knownHosts: string;
  readonly connectTimeout: number;
  readonly keepaliveInterval: number;
  readonly maxSessions: number;
  readonly connections: number;
  readonly maxConnections: number;
  readonly idleClose: number;
  readonly shareConnection: boolean;
  distance(): number;
};

/** The node's gateway: its pool (where tunnels start), and whether it turns Nagle off first. */
export interface PoolGateway {
  readonly pool: ConnectionPool;
  readonly tunnelNoDelay: boolean;
}

/** What the node was given beside its resolved options. */
export interface PoolInputs {
  readonly credentials: Credentials;
  readonly keys: KeySpec[] | undefined;
  readonly maxHandshakes: number | undefined;
  readonly transport: Transport;
}

/** The pool of `node`'s connections, shared with the node objects of the same identity unless `shareConnection` is false. */
export function makeNodePool(
  node: PoolNode,
  gateway: PoolGateway | undefined,
  inputs: PoolInputs,
): ConnectionPool {
  const { credentials, transport } = inputs;
  // where and how: what decides the sharing of a connection, and what opening one takes
  const destination = {
    host: node.hostname,
    port: node.port,
    username: node.username,
    hostKeyPolicy: node.hostKeyPolicy,
    hostKeyAlias: node.hostKeyAlias,
    knownHosts: node.knownHosts,
    connectTimeout: node.connectTimeout,
    keepaliveInterval: node.keepaliveInterval,
    maxSessions: node.maxSessions,
    transport,
  };
  const identity = {
    ...destination,
    gateway: gateway?.pool.firstKey,
    keys: inputs.keys,
    agent: credentials.agent,
    password: credentials.password,
  };
  const keys = node.shareConnection
    ? Array.from({ length: node.maxConnections }, (_, lane) => sharedConnectionKey(identity, lane))
    : privateConnectionKeys(node.maxConnections);
  const dial =
    gateway === undefined
      ? undefined
      : throughGateway(
          () => gateway.pool.tunnelEnd(),
          node.hostname,
          node.port,
          () => node.toString(),
          gateway.tunnelNoDelay,
        );
  return new ConnectionPool({
    node,
    keys,
    registry,
    gateway: gateway?.pool,
    spread: node.connections,
    idleClose: node.idleClose,
    open: () => ({
      ...destination,
      name: node,
      depth: node.distance(),
      credentials,
      dial,
      via: gateway?.pool.firstKey,
      maxHandshakes: inputs.maxHandshakes,
    }),
  });
}
