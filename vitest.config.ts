import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  ssr: {
    resolve: {
      // Resolve @jobgraph/* packages to their TypeScript sources: no build step before tests.
      conditions: ['@jobgraph/source', ...defaultServerConditions],
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    // The SSH test bed (real sshd on loopback and in network namespaces), shared by the whole run:
    // tests get its description with inject('testbed'). See test/testbed/testbed.ts.
    globalSetup: ['test/testbed/global-setup.ts'],
    // Enough for a first-time apt-get install of openssh-server.
    hookTimeout: 600_000,
  },
});
