// Runs one ONNX Runtime session off the main thread: onnxruntime-node's run() holds the
// JavaScript thread for the whole inference, which would stall the worker's event loop
// (queue lock renewals, I/O, decoding of the next image). One input at a time: the pool in
// onnx-detector.ts sends the next when this one answers. Plain JS so it loads in any runner.
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

const { modelBytes, options } = workerData;
let session;
try {
  session = await ort.InferenceSession.create(new Uint8Array(modelBytes), options);
  const meta = session.inputMetadata.map((m) => ({ name: m.name, isTensor: m.isTensor, shape: m.isTensor ? [...m.shape] : [] }));
  parentPort.postMessage({ type: 'ready', inputNames: session.inputNames, outputNames: session.outputNames, inputMetadata: meta });
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
    const input = new ort.Tensor('float32', msg.data, msg.dims);
    const t0 = performance.now();
    const results = await session.run({ [session.inputNames[0]]: input });
    const runMs = performance.now() - t0;
    const out = results[session.outputNames[0]];
    const data = out.data;
    parentPort.postMessage({ data, dims: [...out.dims], runMs }, [data.buffer]);
  } catch (err) {
    parentPort.postMessage({ error: String(err?.message ?? err) });
  }
});
