/**
 * Variables: the store of values computed during a run (apssh's `Variables`).
 */

const RESERVED = new Set(['get', 'set', 'has', 'delete', 'toObject', 'keys', 'constructor']);

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
    for (const [name, value] of Object.entries(initial)) this.#values.set(name, value);
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
        if (typeof property !== 'string' || RESERVED.has(property)) return false;
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
  /** Sets `name` to `value`. @returns this store */
  set(name: string, value: unknown): this {
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
