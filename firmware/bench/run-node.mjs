// run-node.mjs — time an import-free module's `main` export in Node (V8).
// Usage: node [--liftoff-only] run-node.mjs file.wasm  -> prints "result=.. ms=.."
import { readFileSync } from 'node:fs';
const mod = new WebAssembly.Module(readFileSync(process.argv[2]));
const inst = new WebAssembly.Instance(mod, {});
const t0 = performance.now();
const r = inst.exports.main();
const ms = performance.now() - t0;
console.log(`result=${r} ms=${ms.toFixed(2)}`);
