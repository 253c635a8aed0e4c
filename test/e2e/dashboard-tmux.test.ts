import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ADMIN_KEY, assertBuilt, runCli, startServer, tempDir, type RunningProcess } from '../cli/harness.js';

// A real terminal: tmux (installed by .ci/run) runs `buildflow dashboard` in a shell on a private
// server socket, and the test reads the screen with capture-pane.
const BIN = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'buildflow.js');
const SOCKET = `bf-dash-${randomBytes(4).toString('hex')}`;
const SESSION = 'dash';

const tmp = tempDir('buildflow-dash-tmux-');
let server: (RunningProcess & { url: string }) | undefined;
let load: { stop(): Promise<number> } | undefined;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8' });
}
const screen = (escapes = false) => tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', SESSION);
const type = (text: string) => tmux('send-keys', '-t', SESSION, '-l', text);
const press = (key: string) => tmux('send-keys', '-t', SESSION, key);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function screenWhere(ok: (s: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = screen();
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen:\n${s}`);
    await sleep(100);
  }
}

/** Places orders over HTTP until stopped, a few at a time (loopback, bounded by the test). */
function startLoad(url: string) {
  let running = true;
  let placed = 0;
  const loop = (async () => {
    while (running) {
      await Promise.all(
        Array.from({ length: 5 }, () =>
          fetch(`${url}/v1/orders`, {
            method: 'POST',
            headers: { authorization: `Bearer ${CLI_ADMIN_KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify({ items: [{ sku: 'PT-DRL-18V', quantity: 1 }] }),
          }).then((r) => (r.ok ? (placed += 1) : undefined), () => undefined),
        ),
      );
      await sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return placed;
    },
  };
}

/** A foreground colour (not the reset to the default, 39). */
const COLOUR = /\u001b\[(?:[0-9;]*;)?(?:3[0-7]|9[0-7]|38;[0-9;]+)m/;
const placedOf = (s: string) => Number(/funnel\s+placed (\d+)/.exec(s)?.[1] ?? NaN);
const pipelineOf = (s: string) => s.split('\n').filter((l) => /^(reserve|pay|confirm|notify) /.test(l)).join('\n');

beforeAll(async () => {
  assertBuilt();
  if (spawnSync('tmux', ['-V']).status !== 0) throw new Error('tmux is not installed: apt-get install tmux (.ci/run does)');
  expect((await runCli(['seed', '--data-dir', tmp.dir])).code).toBe(0);
  // Slow payments keep work in the pay queue, so depths move while orders arrive.
  server = await startServer(tmp.dir, [], { BUILDFLOW_PAYMENT_LATENCY_MS: '150', BUILDFLOW_LOG_LEVEL: 'warn' });
  tmux('new-session', '-d', '-s', SESSION, '-x', '100', '-y', '30', 'env', '-i', `PATH=${process.env.PATH}`, 'LANG=C.UTF-8', `HOME=${tmp.dir}`, 'TERM=xterm-256color', 'PS1=$ ', 'bash', '--norc', '--noprofile');
});

afterAll(async () => {
  await load?.stop();
  spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
  await server?.stop();
  tmp.remove();
});

describe('buildflow dashboard in a terminal', () => {
  it('when orders flow, then frames change; p freezes them; q exits 0 and the shell is usable again', async () => {
    const env = `BUILDFLOW_ADMIN_KEY=${CLI_ADMIN_KEY} BUILDFLOW_CONFIG_DIR=${tmp.dir}`;
    type(`${env} node ${BIN} dashboard --url ${server!.url} --interval 1s; echo "exit=$?"`);
    press('Enter');
    await screenWhere((s) => s.includes('funnel') && s.includes('workers 1 alive'), 'the first frame');

    load = startLoad(server!.url);
    const first = await screenWhere((s) => placedOf(s) > 0, 'orders to show');
    const second = await screenWhere((s) => placedOf(s) >= placedOf(first) + 20, 'the count to move on');
    expect(placedOf(second)).toBeGreaterThan(placedOf(first));
    expect(pipelineOf(second)).not.toBe(pipelineOf(first));
    expect(second.trimEnd().split('\n').length).toBeLessThanOrEqual(29);

    press('p');
    const frozen = await screenWhere((s) => s.startsWith('buildflow PAUSED'), 'the pause');
    await sleep(2500); // orders keep arriving meanwhile
    expect(screen()).toBe(frozen);
    press('p');
    const resumed = await screenWhere((s) => !s.includes('PAUSED') && placedOf(s) > placedOf(frozen), 'the resume');
    expect(placedOf(resumed)).toBeGreaterThan(placedOf(frozen));
    expect(await load.stop()).toBeGreaterThan(0);
    load = undefined;

    // Colour on a terminal by default.
    expect(screen(true)).toMatch(COLOUR);

    press('q');
    await screenWhere((s) => s.includes('exit=0'), 'the dashboard to exit 0');
    type('echo usable-$((40+2))');
    press('Enter');
    await screenWhere((s) => s.includes('usable-42'), 'the shell to answer');
  });

  it('when NO_COLOR is set, then the screen has no colour', async () => {
    press('C-l');
    type(`NO_COLOR=1 BUILDFLOW_ADMIN_KEY=${CLI_ADMIN_KEY} BUILDFLOW_CONFIG_DIR=${tmp.dir} node ${BIN} dashboard --url ${server!.url}; echo "exit=$?"`);
    press('Enter');
    await screenWhere((s) => s.includes('funnel'), 'the first frame');
    expect(screen(true)).not.toMatch(COLOUR);
    press('q');
    await screenWhere((s) => s.includes('exit=0'), 'the dashboard to exit 0');
  });
});
