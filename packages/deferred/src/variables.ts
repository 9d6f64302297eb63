/**
 * Variables: the store of values computed during a run (apssh's `Variables`).
 */

import { DeferredError, DeferredErrorCode } from './errors.js';

const RESERVED = new Set(['get', 'set', 'has', 'delete', 'toObject', 'keys', 'constructor']);

/** Throws unless `name` can name a variable: a non-empty string. */
function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '') {
    throw new DeferredError(
      DeferredErrorCode.INVALID_OPTION,
      `Expected a variable name to be a non-empty string, got ${typeof name === 'string' ? 'an empty string' : String(name)}`,
    );
  }
}

/** Throws for a property write of a method's name (`vars.keys = …`): such a variable is set with set(). */
function checkPropertyName(name: string): void {
  if (RESERVED.has(name)) {
    throw new DeferredError(
      DeferredErrorCode.INVALID_OPTION,
      `"${name}" is a method of Variables: set that variable with vars.set(${JSON.stringify(name)}, value), read it with vars.get(${JSON.stringify(name)})`,
    );
  }
}

/**
 * A store of named values, readable and writable as properties too.
 *
 * @example
 * ```ts
 * const vars = new Variables()
 * vars.set('pod', 'web-1')
 * vars.lease = 'L42'            // same as vars.set('lease', 'L42')
 * vars.get('lease') === vars.lease
 * ```
 */
export class Variables {
  readonly #values = new Map<string, unknown>();
  /** What users hold: the Proxy around this store (methods return it, for chaining). */
  #self: Variables = this;
  [name: string]: unknown;

  constructor(initial: Record<string, unknown> = {}) {
    if (typeof initial !== 'object' || initial === null || Array.isArray(initial)) {
      throw new DeferredError(
        DeferredErrorCode.INVALID_OPTION,
        `Expected the initial values of Variables to be an object of names and values, got ${initial === null ? 'null' : Array.isArray(initial) ? 'an array' : typeof initial}`,
      );
    }
    for (const [name, value] of Object.entries(initial)) {
      checkName(name);
      this.#values.set(name, value);
    }
    // A Proxy so that `vars.name` reads and writes the store, as Python attributes do.
    const proxy = new Proxy(this, {
      get(target, property, receiver) {
        if (typeof property === 'string' && !RESERVED.has(property) && target.#values.has(property)) {
          return target.#values.get(property);
        }
        const value: unknown = Reflect.get(target, property, receiver);
        // Methods run on the store itself: through the Proxy they could not reach #values.
        return typeof value === 'function' ? value.bind(target) : value;
      },
      set(target, property, value) {
        if (typeof property !== 'string') return false;
        checkName(property);
        checkPropertyName(property);
        target.#values.set(property, value);
        return true;
      },
      has(target, property) {
        return typeof property === 'string'
          ? target.#values.has(property) || property in target
          : property in target;
      },
      deleteProperty(target, property) {
        return typeof property === 'string' ? target.#values.delete(property) : false;
      },
      ownKeys(target) {
        return [...target.#values.keys()];
      },
      getOwnPropertyDescriptor(target, property) {
        if (typeof property !== 'string' || !target.#values.has(property)) return undefined;
        return { value: target.#values.get(property), writable: true, enumerable: true, configurable: true };
      },
    });
    this.#self = proxy;
    // biome-ignore lint/correctness/noConstructorReturn: the Proxy is the object users get, by design
    return proxy;
  }

  /** The value of `name`, or undefined. */
  get(name: string): unknown {
    return this.#values.get(name);
  }
  /** Sets `name` to `value` (any name, a method's too: `set('keys', …)`). @returns this store @throws DeferredError `ERR_INVALID_OPTION` for a name that is no non-empty string */
  set(name: string, value: unknown): this {
    checkName(name);
    this.#values.set(name, value);
    return this.#self as this;
  }
  /** Whether `name` has been set. */
  has(name: string): boolean {
    return this.#values.has(name);
  }
  /** Removes `name`. @returns whether it was set */
  delete(name: string): boolean {
    return this.#values.delete(name);
  }
  /** The names that are set, in the order they were first set. */
  keys(): string[] {
    return [...this.#values.keys()];
  }
  /** A plain-object copy of the values. */
  toObject(): Record<string, unknown> {
    return Object.fromEntries(this.#values);
  }
}
