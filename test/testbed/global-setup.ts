/**
 * vitest globalSetup: starts the test bed once for the whole run and stops it afterwards.
 * Tests get its description with `inject('testbed')`.
 */
import type { TestProject } from 'vitest/node';
import { startTestbed, stopTestbed, type TestbedInfo } from './testbed.js';

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestbedInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const info = await startTestbed({ log });
  project.provide('testbed', info);
  return async () => {
    // Tears the bed down unless another live run (or the CLI's `start`) still uses it.
    await stopTestbed({ log });
  };
}
