"""The server a careful Python engineer would write instead of Spotter, for comparison:
FastAPI + onnxruntime, one uvicorn worker process per core, one single-threaded onnxruntime
session in each, OpenCV decoding (reduced by 2, 4 or 8 in the JPEG decoder when the picture
is that much larger than the model's input), numpy YOLOX decode and class-wise NMS, the same
thresholds (score 0.25, IoU 0.45, 300 boxes) and the same JSON answer as Spotter's job.

Run:    python fastapi_onnxruntime.py serve <model.onnx> <port> <workers>
Stages: python fastapi_onnxruntime.py stages <model.onnx> <image>...   (CPU ms per stage, JSON)
"""
import json
import os
import sys
import time
import uuid

import cv2
import numpy as np
import onnxruntime as ort

SIZE = 416
MIN_SCORE, IOU, MAX_DETECTIONS = 0.25, 0.45, 300
LABELS = ["person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush"]  # noqa: E501
# One process per core does the parallelism: OpenCV must not start threads of its own.
cv2.setNumThreads(1)

_grids, _strides = [], []
for s in (8, 16, 32):
    g = SIZE // s
    yv, xv = np.meshgrid(np.arange(g), np.arange(g), indexing="ij")
    _grids.append(np.stack((xv, yv), 2).reshape(-1, 2))
    _strides.append(np.full((g * g, 1), s))
GRIDS, STRIDES = np.concatenate(_grids).astype(np.float32), np.concatenate(_strides).astype(np.float32)
REDUCED = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


def load_session(model):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


def jpeg_size(data):
    """Width and height from a JPEG's frame header, or None."""
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big")
        i += 2 + length
    return None


def decode(data):
    """BGR pixels (EXIF orientation applied by OpenCV), JPEGs reduced in the decoder when the
    picture is at least 2x larger than the input, and the original size as displayed."""
    flags, factor = cv2.IMREAD_COLOR, 1
    size = jpeg_size(data)
    if size:
        shrink = max(size) / SIZE
        factor = next((f for f in (8, 4, 2) if shrink >= f), 1)
        flags = REDUCED.get(factor, cv2.IMREAD_COLOR)
    img = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if img is None:
        raise ValueError("the image cannot be decoded")
    h, w = img.shape[:2]
    if size:
        # The original's size as displayed (rotated like the pixels).
        big, small = max(size), min(size)
        w, h = (big, small) if w >= h else (small, big)
    return img, w, h


def letterbox(img, w, h):
    r = min(SIZE / w, SIZE / h)
    fw, fh = max(1, int(w * r)), max(1, int(h * r))
    padded = np.full((SIZE, SIZE, 3), 114, np.uint8)
    padded[:fh, :fw] = cv2.resize(img, (fw, fh), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(padded.transpose(2, 0, 1)[None], dtype=np.float32), r


def nms(boxes, scores, iou):
    order = scores.argsort()[::-1]
    keep = []
    while order.size and len(keep) < MAX_DETECTIONS:
        i = order[0]
        keep.append(i)
        xx1 = np.maximum(boxes[i, 0], boxes[order[1:], 0])
        yy1 = np.maximum(boxes[i, 1], boxes[order[1:], 1])
        xx2 = np.minimum(boxes[i, 2], boxes[order[1:], 2])
        yy2 = np.minimum(boxes[i, 3], boxes[order[1:], 3])
        inter = np.maximum(0, xx2 - xx1) * np.maximum(0, yy2 - yy1)
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        ovr = inter / (area[i] + area[order[1:]] - inter + 1e-9)
        order = order[1:][ovr <= iou]
    return keep


def postprocess(out, r, w, h):
    out = out[0]
    scores = out[:, 4:5] * out[:, 5:]
    cls = scores.argmax(1)
    conf = scores[np.arange(len(cls)), cls]
    keep = conf >= MIN_SCORE
    p, cls, conf = out[keep], cls[keep], conf[keep]
    xy = (p[:, :2] + GRIDS[keep]) * STRIDES[keep]
    wh = np.exp(p[:, 2:4]) * STRIDES[keep]
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], 1) / r
    # Class-wise NMS in one pass: each class's boxes offset far from the others'.
    idx = nms(boxes + cls[:, None] * 8192.0, conf, IOU)
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, w)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, h)
    return [
        {"label": LABELS[int(cls[i])], "class_id": int(cls[i]), "score": round(float(conf[i]), 4),
         "box": {"x1": round(float(boxes[i, 0]), 2), "y1": round(float(boxes[i, 1]), 2), "x2": round(float(boxes[i, 2]), 2), "y2": round(float(boxes[i, 3]), 2)}}
        for i in idx
    ]


def answer(detections, w, h, timings):
    """The same shape as a Spotter job."""
    return {"id": str(uuid.uuid4()), "status": "succeeded", "model": "yolox_nano", "timings_ms": timings,
            "result": {"image": {"width": w, "height": h}, "model": {"name": "yolox_nano", "version": "onnx"}, "detections": detections},
            "error": None}


def create_app(model):
    from fastapi import FastAPI, File, HTTPException, UploadFile

    session = load_session(model)
    name = session.get_inputs()[0].name
    app = FastAPI()

    @app.post("/predict")
    def predict(image: UploadFile = File(...)):
        t0 = time.perf_counter()
        try:
            img, w, h = decode(image.file.read())
        except ValueError as err:
            raise HTTPException(400, str(err))
        blob, r = letterbox(img, w, h)
        t1 = time.perf_counter()
        out = session.run(None, {name: blob})[0]
        t2 = time.perf_counter()
        detections = postprocess(out, r, w, h)
        t3 = time.perf_counter()
        ms = lambda a, b: round((b - a) * 1000, 2)  # noqa: E731
        return answer(detections, w, h, {"decode": ms(t0, t1), "inference": ms(t1, t2), "postprocess": ms(t2, t3)})

    return app


def stages(model, files):
    """CPU ms per image of each stage, one image at a time in this process."""
    session = load_session(model)
    name = session.get_inputs()[0].name
    images = [open(f, "rb").read() for f in files]
    sums = {}

    def stage(key, fn):
        c0 = time.process_time()
        out = fn()
        sums[key] = sums.get(key, 0) + time.process_time() - c0
        return out

    def one(data):
        img, w, h = stage("decode", lambda: decode(data))
        blob, r = stage("resize + tensor", lambda: letterbox(img, w, h))
        out = stage("inference", lambda: session.run(None, {name: blob})[0])
        dets = stage("postprocess", lambda: postprocess(out, r, w, h))
        stage("JSON", lambda: json.dumps(answer(dets, w, h, {})))

    for data in images[:8]:
        one(data)
    sums.clear()
    for data in images:
        one(data)
    print(json.dumps({k: round(v * 1000 / len(images), 2) for k, v in sums.items()}))


if __name__ == "__main__":
    mode, model = sys.argv[1], sys.argv[2]
    if mode == "stages":
        stages(model, sys.argv[3:])
    else:
        import uvicorn

        os.environ["SPOTTER_BASELINE_MODEL"] = model
        port, workers = int(sys.argv[3]), int(sys.argv[4])
        uvicorn.run("fastapi_onnxruntime:make_app", factory=True, host="127.0.0.1", port=port, workers=workers, log_level="warning")


def make_app():
    """uvicorn's factory: each worker process loads its own session."""
    return create_app(os.environ["SPOTTER_BASELINE_MODEL"])
