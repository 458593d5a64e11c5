"""The synchronous endpoint people start from, for comparison: FastAPI + OpenCV DNN, one
process, decode -> letterbox -> forward -> decode + NMS in the request. The network object
is not thread-safe, so inference is serialised with a lock (without it, concurrent requests
corrupt each other's results). Run: python3 fastapi_opencv.py <model.onnx> <port>."""
import sys
import threading

import cv2
import numpy as np
import uvicorn
from fastapi import FastAPI, File, UploadFile

MODEL, PORT = sys.argv[1], int(sys.argv[2])
SIZE = 416
net = cv2.dnn.readNetFromONNX(MODEL)
lock = threading.Lock()
app = FastAPI()

grids, strides = [], []
for s in (8, 16, 32):
    g = SIZE // s
    yv, xv = np.meshgrid(np.arange(g), np.arange(g), indexing="ij")
    grids.append(np.stack((xv, yv), 2).reshape(-1, 2))
    strides.append(np.full((g * g, 1), s))
GRIDS, STRIDES = np.concatenate(grids), np.concatenate(strides)


@app.post("/predict")
def predict(image: UploadFile = File(...)):
    data = np.frombuffer(image.file.read(), np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    h, w = img.shape[:2]
    r = min(SIZE / h, SIZE / w)
    padded = np.full((SIZE, SIZE, 3), 114, np.uint8)
    padded[: int(h * r), : int(w * r)] = cv2.resize(img, (int(w * r), int(h * r)), interpolation=cv2.INTER_LINEAR)
    blob = padded.transpose(2, 0, 1)[None].astype(np.float32)
    with lock:
        net.setInput(blob)
        out = net.forward()[0].copy()
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
    dets = [{"class_id": int(cls[keep][i]), "score": float(conf[keep][i]), "box": [float(v) for v in xywh[i]]} for i in np.array(idx).flatten()]
    return {"status": "succeeded", "detections": dets}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning")
