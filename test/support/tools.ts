import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

/** Binaries installed by `npm run setup:tools`; a missing one fails the test run loudly, never skips it. */
export function toolPath(name: 'temporal' | 'stripe-mock'): string {
  const fromEnv = name === 'temporal' ? process.env.TEMPORAL_BIN : process.env.STRIPE_MOCK_BIN;
  const candidate = fromEnv || path.join(root, '.tools', 'bin', name);
  if (!existsSync(candidate)) {
    throw new Error(`${name} not found at ${candidate}: run \`npm run setup:tools\` first`);
  }
  return candidate;
}
