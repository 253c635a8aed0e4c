import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { constantSchedule, stagedSchedule } from './arrival-schedule.js';
import { runClosedLoop } from './closed-loop.js';
import type { GeneratorConfig, GeneratorMessage } from './generator-config.js';
import { Generator } from './generator.js';
import { runOpenLoop } from './open-loop.js';

// The generator runs in a thread of its own so that the report, history and progress work of the
// main thread never delays a send; records go over in batches.
const FLUSH_MS = 100;

const port = parentPort!;
const config = workerData as GeneratorConfig;
let stopped = false;
port.on('message', (m: { type: string }) => {
  if (m.type === 'stop') stopped = true;
});
const post = (m: GeneratorMessage) => port.postMessage(m);

const gen = new Generator(config);
const flush = setInterval(() => {
  const records = gen.take();
  if (records.length > 0) post({ type: 'records', records });
}, FLUSH_MS);
const elu = performance.eventLoopUtilization();
// No top-level await: the CLI bundle this thread is built into is CommonJS (rollup.config.js).
async function run(): Promise<void> {
  try {
    post({ type: 'started', at: Date.now() });
    const o = { connections: config.model.connections, durationMs: config.durationMs, orders: config.orders, stopped: () => stopped };
    const m = config.model;
    const result =
      m.kind === 'open'
        ? await runOpenLoop(gen, { ...o, schedule: m.stages ? stagedSchedule(m.stages) : constantSchedule(m.rate, config.durationMs) })
        : await runClosedLoop(gen, o);
    post({ type: 'loaded', at: Date.now() });
    await gen.drain();
    const busy = performance.eventLoopUtilization(elu).utilization;
    clearInterval(flush);
    const records = gen.take();
    if (records.length > 0) post({ type: 'records', records });
    post({ type: 'done', busy, ...result });
  } catch (err) {
    clearInterval(flush);
    post({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  } finally {
    await gen.close();
  }
}

void run();
