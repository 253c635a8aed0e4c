// Lets worker threads started by the code under test run TypeScript source (the SQLite commit
// thread's entry is a .ts file under vitest, see src/core/buildflow.ts). vitest passes it to its
// worker processes (`execArgv` in vitest.config.ts); worker threads inherit execArgv, so each
// thread registers the hooks too. The tests then exercise the source, never a build in dist/.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
