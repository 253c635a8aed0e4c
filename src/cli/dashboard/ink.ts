import type * as Ink from 'ink';

let loaded: typeof Ink | undefined;

/**
 * Ink, imported once before the dashboard renders. Ink is an ES module with top-level await, and
 * the CLI bundle is CommonJS (rollup.config.js), which can load it only through `import()`: a
 * static import would become a `require` that Node refuses. Components take it from {@link ink}.
 */
export async function loadInk(): Promise<typeof Ink> {
  return (loaded ??= await import('ink'));
}

/** Ink, once {@link loadInk} has resolved; components render only after that. */
export function ink(): typeof Ink {
  if (!loaded) throw new Error('Ink is not loaded: await loadInk() before rendering the dashboard');
  return loaded;
}
