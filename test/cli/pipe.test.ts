import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assertBuilt, hasStackTrace } from './harness.js';

const BIN = fileURLToPath(new URL('../../bin/buildflow.js', import.meta.url));

describe('output to a closed pipe', () => {
  it('when the reader closes stdout early (| head), then the CLI ends quietly with exit 0', async () => {
    assertBuilt();
    const child = spawn(process.execPath, [BIN, 'serve', '--help'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // Close our end before the CLI writes, as `head` does once it has its lines, so every write meets a closed pipe.
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(hasStackTrace(stderr)).toBe(false);
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });
});
