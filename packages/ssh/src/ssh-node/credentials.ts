/**
 * How a node authenticates: its private keys, its agent, its password — and, when the
 * server refuses them, a message that says what could have worked.
 */
import { SshError, SshErrorCode } from '../errors.js';
import { encryptedDefaultKeys, type KeySpec, loadPrivateKeys, resolveKeys } from '../keys.js';
import type { PrivateKey, Transport } from '../transport/transport.js';

/** One node's credentials, as its options gave them. */
export class Credentials {
  /** The agent socket to try after the keys, if any. */
  readonly agent: string | undefined;
  /** The password to try last, if any. */
  readonly password: string | undefined;
  /** The `agent` option as given: a socket, false for none, undefined for the default. */
  readonly givenAgent: string | false | undefined;
  readonly #specs: readonly KeySpec[] | undefined;
  readonly #transport: Transport;
  #keys: Promise<PrivateKey[]> | undefined;

  /**
   * @param specs - the `keys` option; none (or empty): the default key files, shared by every node
   * @param agent - the `agent` option: a socket, false for none, undefined for `$SSH_AUTH_SOCK`
   */
  constructor(
    specs: readonly KeySpec[] | undefined,
    agent: string | false | undefined,
    password: string | undefined,
    transport: Transport,
  ) {
    this.#specs = specs === undefined ? undefined : [...specs];
    this.givenAgent = agent;
    this.agent = agent === false ? undefined : (agent ?? process.env.SSH_AUTH_SOCK);
    this.password = password;
    this.#transport = transport;
  }

  /** The key files given, by path, in order; undefined with no keys given, or one given in memory. */
  get keyPaths(): readonly string[] | undefined {
    const keys = this.#specs;
    if (keys === undefined || keys.length === 0 || this.keysInMemory) return undefined;
    return keys.map((key) => (typeof key === 'string' ? key : (key as { path: string }).path));
  }

  /** Whether a key was given in memory: key text, bytes, a loaded key. */
  get keysInMemory(): boolean {
    return (this.#specs ?? []).some((key) =>
      typeof key === 'string' ? key.includes('PRIVATE KEY-----') : Buffer.isBuffer(key) || !('path' in key),
    );
  }

  /** Whether the node relies on the default key files (no `keys` given). */
  get usesDefaultKeys(): boolean {
    return this.#specs === undefined || this.#specs.length === 0;
  }

  /** The node's keys, read and parsed once (a failure is retried at the next connect). */
  keys(): Promise<PrivateKey[]> {
    if (this.#specs === undefined || this.#specs.length === 0) return loadPrivateKeys();
    if (this.#keys === undefined) {
      const loading = resolveKeys(this.#specs, this.#transport);
      this.#keys = loading;
      loading.catch(() => {
        if (this.#keys === loading) this.#keys = undefined;
      });
    }
    return this.#keys;
  }

  /**
   * A refused authentication, told which default keys were left out for being encrypted (the
   * commonest reason: the key is fine, but no agent holds it and nobody gave its passphrase).
   * Other errors, and nodes given their own keys, keep their message.
   */
  async explainRefusal(error: SshError): Promise<SshError> {
    if (error.code !== SshErrorCode.AUTH || !this.usesDefaultKeys) return error;
    const encrypted = await encryptedDefaultKeys().catch(() => []);
    if (encrypted.length === 0) return error;
    const files = encrypted.join(', ');
    return new SshError(
      error.code as SshErrorCode,
      `${error.message}; left out for being encrypted: ${files} (load it into ssh-agent with ssh-add, or give it with its passphrase)`,
      error.node === undefined ? { cause: error.cause } : { cause: error.cause, node: error.node },
    );
  }
}
