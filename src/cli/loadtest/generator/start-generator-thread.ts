import { Worker } from 'node:worker_threads';
import type { GeneratorConfig } from './generator-config.js';

/**
 * Starts the generator thread. It lives beside generator-thread.ts because the thread is started by
 * path: the same relative path holds in the compiled tree and in the flat bundle, where rollup puts
 * the thread's entry next to the chunk that starts it.
 */
export function startGeneratorThread(config: GeneratorConfig): Worker {
  return new Worker(new URL('./generator-thread.js', import.meta.url), { workerData: config });
}
