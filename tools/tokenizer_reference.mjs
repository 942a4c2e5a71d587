// Reference token ids from an independent JavaScript implementation of Hugging Face tokenizers
// (@lenml/tokenizers, a fork of transformers.js), for the conformance test and the benchmark.
//
//   node tools/tokenizer_reference.mjs --node-modules DIR --tokenizer TOKDIR DATA [--bench]
//
// DIR holds node_modules with @lenml/tokenizers; TOKDIR holds tokenizer.json (and
// tokenizer_config.json). DATA is .jsonl with {"text": ...} records (or .txt, one record).
// Prints {"line": N, "input_ids": [...]} per record, the shape of `moe-recal tokenize --json`;
// with --bench prints only "tokens N seconds S tokens_per_s R" for the encoding itself.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

function args() {
  const a = { bench: false };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === "--node-modules") a.modules = argv[++i];
    else if (argv[i] === "--tokenizer") a.tokenizer = argv[++i];
    else if (argv[i] === "--bench") a.bench = true;
    else a.data = argv[i];
  }
  if (!a.modules || !a.tokenizer || !a.data) {
    console.error("usage: tokenizer_reference.mjs --node-modules DIR --tokenizer TOKDIR DATA");
    process.exit(2);
  }
  return a;
}

function records(file) {
  const raw = fs.readFileSync(file, "utf8");
  if (file.endsWith(".txt")) return [{ line: 1, text: raw }];
  const out = [];
  raw.split("\n").forEach((l, i) => {
    if (l.trim() === "") return;
    const j = JSON.parse(l);
    if (typeof j.text === "string") out.push({ line: i + 1, text: j.text });
  });
  return out;
}

const a = args();
const lib = path.join(a.modules, "node_modules", "@lenml", "tokenizers", "dist", "main.mjs");
const { TokenizerLoader } = await import(pathToFileURL(lib).href);
const readJson = (f) =>
  fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, "utf8")) : {};
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: readJson(path.join(a.tokenizer, "tokenizer.json")),
  tokenizerConfig: readJson(path.join(a.tokenizer, "tokenizer_config.json")),
});
const recs = records(a.data);
if (a.bench) {
  const t0 = process.hrtime.bigint();
  let n = 0;
  for (const r of recs) n += tokenizer.encode(r.text).length;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`tokens ${n} seconds ${s.toFixed(3)} tokens_per_s ${Math.round(n / s)}`);
} else {
  const lines = recs.map((r) => JSON.stringify({ line: r.line, input_ids: tokenizer.encode(r.text) }));
  process.stdout.write(lines.join("\n") + "\n");
}
