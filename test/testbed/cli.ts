/**
 * The test bed by hand, for benchmarks and debugging:
 *
 *   node --import tsx test/testbed/cli.ts start   # starts (or joins) the bed, prints its TestbedInfo JSON; it stays up
 *   node --import tsx test/testbed/cli.ts info    # prints the running bed's TestbedInfo JSON (exit 1 if none)
 *   node --import tsx test/testbed/cli.ts stop    # drops the CLI's hold: tears the bed down unless a vitest run
 *                                                 # still uses it (then that run's teardown does)
 *   node --import tsx test/testbed/cli.ts stop --force   # tears it down whoever uses it
 *
 * While the CLI holds the bed up, vitest runs join it and leave it up.
 *
 * With the bed up: `ssh -F /tmp/jobgraph-testbed/ssh_config jgtb-t1 hostname`.
 */
import { startTestbed, stopTestbed, testbedInfo } from './testbed.js';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function main(command: string | undefined, rest: readonly string[]): Promise<number> {
  switch (command) {
    case 'start': {
      const info = await startTestbed({ detach: true, log });
      process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      return 0;
    }
    case 'stop':
      await stopTestbed({ detach: true, force: rest.includes('--force'), log });
      return 0;
    case 'info': {
      const info = await testbedInfo();
      if (info === null) {
        process.stderr.write('testbed: not running\n');
        return 1;
      }
      process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      return 0;
    }
    default:
      process.stderr.write('usage: node --import tsx test/testbed/cli.ts start | stop [--force] | info\n');
      return 2;
  }
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
