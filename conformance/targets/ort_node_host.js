// onnxruntime for Node.js, fed by conformance/targets/onnxruntime_node.py through stdin/stdout.
// One JSON object per line each way. Requests:
//   {"op":"prepare","id":N,"model":"<base64 ONNX>"}           -> {"ok":true,"inputs":[..],"outputs":[..]}
//   {"op":"run","id":N,"feeds":{name:{"type","dims","data":"<base64 raw little-endian>"}},"outputs":[names]}
//                                                          -> {"ok":true,"outputs":[{"type","dims","data"}]}
//   {"op":"release","id":N}                                 -> {"ok":true}
// A failure answers {"ok":false,"error":"..."}; the host keeps serving.
'use strict';
const readline = require('readline');
const ort = require('onnxruntime-node');

const ARRAYS = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array,
  bool: Uint8Array, uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array,
  float16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array,   // float16: raw bits
};
const sessions = new Map();

function decode(t) {
  const raw = Buffer.from(t.data, 'base64');
  const Ctor = ARRAYS[t.type];
  if (!Ctor) throw new Error(`unsupported input type ${t.type}`);
  const copy = new Uint8Array(raw.length);   // aligned copy for the typed array view
  copy.set(raw);
  const data = new Ctor(copy.buffer, 0, raw.length / Ctor.BYTES_PER_ELEMENT);
  return new ort.Tensor(t.type, data, t.dims);
}

function encode(t) {
  const d = t.data;
  const buf = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return { type: t.type, dims: Array.from(t.dims, Number), data: buf.toString('base64') };
}

async function handle(req) {
  if (req.op === 'prepare') {
    const session = await ort.InferenceSession.create(Buffer.from(req.model, 'base64'));
    sessions.set(req.id, session);
    return { ok: true, inputs: session.inputNames, outputs: session.outputNames };
  }
  if (req.op === 'run') {
    const session = sessions.get(req.id);
    if (!session) throw new Error(`no session ${req.id}`);
    const feeds = {};
    for (const [name, t] of Object.entries(req.feeds)) feeds[name] = decode(t);
    const results = await session.run(feeds);
    return { ok: true, outputs: req.outputs.map((name) => {
      if (!(name in results)) throw new Error(`runtime returned no output ${name}`);
      return encode(results[name]);
    }) };
  }
  if (req.op === 'release') {
    const session = sessions.get(req.id);
    sessions.delete(req.id);
    if (session && session.release) await session.release();
    return { ok: true };
  }
  throw new Error(`unknown op ${req.op}`);
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
let chain = Promise.resolve();
rl.on('line', (line) => {
  chain = chain.then(async () => {
    let answer;
    try {
      answer = await handle(JSON.parse(line));
    } catch (err) {
      answer = { ok: false, error: String(err && err.message || err) };
    }
    process.stdout.write(JSON.stringify(answer) + '\n');
  });
});
rl.on('close', () => { chain.then(() => process.exit(0)); });
