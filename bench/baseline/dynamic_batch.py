"""Does dynamic batching pay on CPU for YOLOX-nano? Makes a variant of the model with a
symbolic batch dimension (the file's own graph computes its reshapes from Shape ops, so only
the input and output dims change), checks that a batch gives the single-image output, and
prints CPU ms per image at batch 1, 2, 4 and 8 on one single-threaded onnxruntime session,
interleaved twice. Run: bench/baseline/.venv/bin/python bench/baseline/dynamic_batch.py models/yolox_nano.onnx
(the venv comes from `npm run bench -- --versus`)."""
import os
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort

model = onnx.load(sys.argv[1])
for value in (model.graph.input[0], *model.graph.output):
    value.type.tensor_type.shape.dim[0].dim_param = "N"
del model.graph.value_info[:]
path = os.path.join(tempfile.mkdtemp(), "dynamic.onnx")
onnx.save(model, path)

opts = ort.SessionOptions()
opts.intra_op_num_threads = opts.inter_op_num_threads = 1
single = ort.InferenceSession(sys.argv[1], opts, providers=["CPUExecutionProvider"])
batched = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
x = np.random.RandomState(0).randint(0, 255, (8, 3, 416, 416)).astype(np.float32)
diff = np.abs(single.run(None, {"images": x[:1]})[0][0] - batched.run(None, {"images": x[:4]})[0][0]).max()
print(f"batch of 4, first output against batch 1: max difference {diff}")
for batch in (1, 2, 4, 8, 1, 2, 4, 8):
    for _ in range(2):
        batched.run(None, {"images": x[:batch]})
    n = max(8, 32 // batch)
    c0 = time.process_time()
    for _ in range(n):
        batched.run(None, {"images": x[:batch]})
    print(f"batch {batch}: {(time.process_time() - c0) * 1000 / (n * batch):.2f} CPU ms per image")
