// Runs one ONNX Runtime session off the main thread: onnxruntime-node's run() holds the
// JavaScript thread for the whole inference, which would stall the worker's event loop
// (queue lock renewals, I/O, decoding of the next image). One run at a time: the pool in
// onnx-detector.ts sends the next when this one answers. Every input a model takes comes in
// (`feeds`: the image and e.g. an int64 size), every output goes back, buffers moved, not
// copied. Plain JS so it loads in any runner.
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

const { modelBytes, options } = workerData;
const describe = (list) => list.map((m) => ({ name: m.name, isTensor: m.isTensor, type: m.isTensor ? m.type : undefined, shape: m.isTensor ? [...m.shape] : [] }));
let session;
try {
  session = await ort.InferenceSession.create(new Uint8Array(modelBytes), options);
  parentPort.postMessage({
    type: 'ready',
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputMetadata: describe(session.inputMetadata),
    outputMetadata: describe(session.outputMetadata),
  });
} catch (err) {
  parentPort.postMessage({ type: 'error', message: String(err?.message ?? err) });
}

parentPort.on('message', async (msg) => {
  if (msg.type === 'close') {
    await session?.release();
    parentPort.close();
    return;
  }
  try {
    const feeds = Object.fromEntries(msg.feeds.map((f) => [f.name, new ort.Tensor(f.type, f.data, f.dims)]));
    const t0 = performance.now();
    const results = await session.run(feeds);
    const runMs = performance.now() - t0;
    const outputs = session.outputNames.map((name) => {
      const t = results[name];
      return { name, type: t.type, data: t.data, dims: [...t.dims] };
    });
    parentPort.postMessage({ outputs, runMs }, [...new Set(outputs.map((o) => o.data.buffer))]);
  } catch (err) {
    parentPort.postMessage({ error: String(err?.message ?? err) });
  }
});
