#!/usr/bin/env node
// The CLI as bundled by `npm run build` (rollup.config.js says why), CommonJS like this file
// (bin/package.json): one file for the HTTP commands.
const { main } = require('../dist/cli/main.js');

// A reader that stops early (`buildflow … | head`) closes the pipe: that ends the output, not in a crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
