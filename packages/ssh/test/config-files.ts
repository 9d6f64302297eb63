/**
 * Config files for the ssh_config tests: a temporary directory made before the file's tests
 * and removed after them, and a writer of numbered config files in it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export interface ConfigFiles {
  /** The directory (set once the file's tests start). */
  readonly dir: string;
  /** Writes a config file of these lines and returns its path. */
  config(...lines: string[]): Promise<string>;
}

/** Registers the directory's hooks; call at the top of a test file. */
export function configFiles(prefix: string): ConfigFiles {
  let dir = '';
  let count = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    async config(...lines) {
      const file = join(dir, `config-${++count}`);
      await writeFile(file, `${lines.join('\n')}\n`);
      return file;
    },
  };
}
