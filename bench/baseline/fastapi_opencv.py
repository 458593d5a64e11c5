"""The synchronous endpoint people start from, for comparison: FastAPI + OpenCV DNN, one
process, decode -> letterbox -> forward -> decode + NMS in the request. The network object
is not thread-safe, so inference is serialised with a lock (without it, concurrent requests
corrupt each other's results).

Run:    python3 fastapi_opencv.py <model.onnx> <port>
Stages: python3 fastapi_opencv.py stages <model.onnx> <image>...   (CPU ms per stage, JSON)
"""
import json
import sys
import threading
import time

import cv2
import numpy as np

SIZE = 416

grids, strides = [], []
for s in (8, 16, 32):
    g = SIZE // s
    yv, xv = np.meshgrid(np.arange(g), np.arange(g), indexing="ij")
    grids.append(np.stack((xv, yv), 2).reshape(-1, 2))
    strides.append(np.full((g * g, 1), s))
GRIDS, STRIDES = np.concatenate(grids), np.concatenate(strides)


def decode(data):
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def letterbox(img):
    h, w = img.shape[:2]
    r = min(SIZE / h, SIZE / w)
    padded = np.full((SIZE, SIZE, 3), 114, np.uint8)
    padded[: int(h * r), : int(w * r)] = cv2.resize(img, (int(w * r), int(h * r)), interpolation=cv2.INTER_LINEAR)
    return padded.transpose(2, 0, 1)[None].astype(np.float32), r


def forward(net, blob):
    net.setInput(blob)
    return net.forward()[0].copy()


def postprocess(out, r):
    out[:, :2] = (out[:, :2] + GRIDS) * STRIDES
    out[:, 2:4] = np.exp(out[:, 2:4]) * STRIDES
    scores = out[:, 4:5] * out[:, 5:]
    cls = scores.argmax(1)
    conf = scores.max(1)
    keep = conf >= 0.25
    boxes = out[keep, :4] / r
    xywh = np.stack([boxes[:, 0] - boxes[:, 2] / 2, boxes[:, 1] - boxes[:, 3] / 2, boxes[:, 2], boxes[:, 3]], 1)
    # Class-wise NMS (OpenCV 4.6 has no NMSBoxesBatched): offset each class far apart.
    shifted = xywh.copy()
    shifted[:, :2] += cls[keep][:, None] * 8192
    idx = cv2.dnn.NMSBoxes(shifted.tolist(), conf[keep].tolist(), 0.25, 0.45) if keep.any() else []
    return [{"class_id": int(cls[keep][i]), "score": float(conf[keep][i]), "box": [float(v) for v in xywh[i]]} for i in np.array(idx).flatten()]


def serve(model, port):
    import uvicorn
    from fastapi import FastAPI, File, UploadFile

    net = cv2.dnn.readNetFromONNX(model)
    lock = threading.Lock()
    app = FastAPI()

    @app.post("/predict")
    def predict(image: UploadFile = File(...)):
        blob, r = letterbox(decode(image.file.read()))
        with lock:
            out = forward(net, blob)
        return {"status": "succeeded", "detections": postprocess(out, r)}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def stages(model, files):
    """CPU ms per image of each stage, one image at a time in this process (OpenCV's own
    threads included: the server runs them too)."""
    net = cv2.dnn.readNetFromONNX(model)
    images = [open(f, "rb").read() for f in files]
    sums = {}

    def stage(key, fn):
        c0 = time.process_time()
        out = fn()
        sums[key] = sums.get(key, 0) + time.process_time() - c0
        return out

    def one(data):
        img = stage("decode", lambda: decode(data))
        blob, r = stage("resize + tensor", lambda: letterbox(img))
        out = stage("inference", lambda: forward(net, blob))
        dets = stage("postprocess", lambda: postprocess(out, r))
        stage("JSON", lambda: json.dumps({"status": "succeeded", "detections": dets}))

    for data in images[:8]:
        one(data)
    sums.clear()
    for data in images:
        one(data)
    print(json.dumps({k: round(v * 1000 / len(images), 2) for k, v in sums.items()}))


if __name__ == "__main__":
    if sys.argv[1] == "stages":
        stages(sys.argv[2], sys.argv[3:])
    else:
        serve(sys.argv[1], int(sys.argv[2]))
