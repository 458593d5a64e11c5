"""Reference COCO AP of the zoo detectors, independent of Spotter: each model's pre- and
post-processing as its own project does it (OpenCV / PIL resize, numpy decoding, NMS),
onnxruntime for inference and pycocotools for the metric, on a YOLO-layout dataset.

  python3 zoo_reference.py <dataset dir> <zoo dir> <yolox_nano.onnx> [spotter compare dir]

With a `spotter eval --models` output directory, it also scores Spotter's own predictions
(<dir>/<name>/predictions.json) with pycocotools, so a difference splits into metric and
pre/post-processing. Needs: onnxruntime numpy opencv-python-headless pycocotools Pillow.
"""
import contextlib
import io
import json
import os
import sys

import cv2
import numpy as np
import onnxruntime as ort
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

DATA, ZOO, YOLOX = sys.argv[1], sys.argv[2], sys.argv[3]
COMPARE = sys.argv[4] if len(sys.argv) > 4 else None
CONF, MAX_DET = 0.001, 300


def ground_truth():
    images, anns = [], []
    files = sorted(f for f in os.listdir(os.path.join(DATA, "images")) if f.endswith(".jpg"))
    for f in files:
        h, w = cv2.imread(os.path.join(DATA, "images", f)).shape[:2]
        iid = int(os.path.splitext(f)[0])
        images.append({"id": iid, "file_name": f, "width": w, "height": h})
        path = os.path.join(DATA, "labels", os.path.splitext(f)[0] + ".txt")
        for line in open(path).read().split("\n") if os.path.exists(path) else []:
            p = line.split()
            if len(p) < 5:
                continue
            c, cx, cy, bw, bh = int(p[0]), *map(float, p[1:5])
            box = [(cx - bw / 2) * w, (cy - bh / 2) * h, bw * w, bh * h]
            anns.append({"id": len(anns) + 1, "image_id": iid, "category_id": c, "bbox": box, "area": box[2] * box[3], "iscrowd": 0})
    gt = COCO()
    gt.dataset = {"images": images, "annotations": anns, "categories": [{"id": i} for i in range(80)]}
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
    return gt, files


def ap(gt, results):
    if not results:
        return 0.0
    with contextlib.redirect_stdout(io.StringIO()):
        e = COCOeval(gt, gt.loadRes(results), "bbox")
        e.evaluate(), e.accumulate(), e.summarize()
    return round(float(e.stats[0]), 4)


def nms(boxes, scores, classes, iou):
    """Class-wise NMS (torchvision.batched_nms's offset trick), best first, MAX_DET kept."""
    if len(boxes) == 0:
        return []
    off = boxes + (classes[:, None] * 4096.0)
    order, keep = scores.argsort()[::-1], []
    area = (off[:, 2] - off[:, 0]) * (off[:, 3] - off[:, 1])
    while order.size and len(keep) < MAX_DET:
        i = order[0]
        keep.append(i)
        xx1, yy1 = np.maximum(off[i, 0], off[order[1:], 0]), np.maximum(off[i, 1], off[order[1:], 1])
        xx2, yy2 = np.minimum(off[i, 2], off[order[1:], 2]), np.minimum(off[i, 3], off[order[1:], 3])
        inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
        order = order[1:][inter / (area[i] + area[order[1:]] - inter + 1e-9) <= iou]
    return keep


def letterbox_center(img, size, pad):
    """Ultralytics LetterBox(auto=False): centred, rounded as upstream."""
    h, w = img.shape[:2]
    r = min(size / h, size / w)
    nw, nh = int(round(w * r)), int(round(h * r))
    dw, dh = (size - nw) / 2, (size - nh) / 2
    img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR) if (nw, nh) != (w, h) else img
    top, left = int(round(dh - 0.1)), int(round(dw - 0.1))
    out = cv2.copyMakeBorder(img, top, int(round(dh + 0.1)), left, int(round(dw + 0.1)), cv2.BORDER_CONSTANT, value=(pad, pad, pad))
    return out, r, left, top


def multilabel(boxes, cls_scores):
    """Every (box, class) above CONF, as Ultralytics' validator and NanoDet do."""
    i, j = np.nonzero(cls_scores > CONF)
    return boxes[i], cls_scores[i, j], j


def run_ultralytics(sess, img, end2end):
    lb, r, left, top = letterbox_center(img, 640, 114)
    x = cv2.cvtColor(lb, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)[None].astype(np.float32) / 255
    out = sess.run(None, {sess.get_inputs()[0].name: x})[0][0]
    if end2end:
        out = out[out[:, 4] > CONF]
        boxes, scores, classes = out[:, :4], out[:, 4], out[:, 5].astype(int)
    else:
        out = out.T
        cx, cy, w, h = out[:, 0], out[:, 1], out[:, 2], out[:, 3]
        boxes, scores, classes = multilabel(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1), out[:, 4:])
        keep = nms(boxes, scores, classes, 0.7)
        boxes, scores, classes = boxes[keep], scores[keep], classes[keep]
    boxes = (boxes - [left, top, left, top]) / r
    return boxes, scores, classes


def run_yolox(sess, img):
    h, w = img.shape[:2]
    r = min(416 / h, 416 / w)
    padded = np.full((416, 416, 3), 114, np.uint8)
    padded[: int(h * r), : int(w * r)] = cv2.resize(img, (int(w * r), int(h * r)), interpolation=cv2.INTER_LINEAR)
    out = sess.run(None, {sess.get_inputs()[0].name: padded.transpose(2, 0, 1)[None].astype(np.float32)})[0][0]
    grids = [np.stack(np.meshgrid(np.arange(416 // s), np.arange(416 // s)), 2).reshape(-1, 2) for s in (8, 16, 32)]
    strides = np.concatenate([np.full((len(g), 1), s) for g, s in zip(grids, (8, 16, 32))])
    xy, wh = (out[:, :2] + np.concatenate(grids)) * strides, np.exp(out[:, 2:4]) * strides
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], 1)
    # YOLOX's postprocess: one class per box, score = objectness x class score.
    cls = out[:, 5:].argmax(1)
    scores = out[:, 4] * out[np.arange(len(out)), 5 + cls]
    m = scores > CONF
    boxes, scores, cls = boxes[m], scores[m], cls[m]
    keep = nms(boxes, scores, cls, 0.65)
    return boxes[keep] / r, scores[keep], cls[keep]


def run_deim(sess, img):
    h, w = img.shape[:2]
    # DEIM's tools/inference: PIL RGB, T.Resize((320, 320)) (bilinear), ToTensor (0..1).
    pil = Image.fromarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB)).resize((320, 320), Image.BILINEAR)
    x = (np.asarray(pil, np.float32) / 255).transpose(2, 0, 1)[None]
    labels, boxes, scores = sess.run(None, {"images": x, "orig_target_sizes": np.array([[w, h]], np.int64)})
    m = scores[0] > CONF
    return boxes[0][m], scores[0][m], labels[0][m].astype(int)


def run_nanodet(sess, img):
    # As the zoo README says: letterbox centred with 0, BGR, (v - mean) / std; GFL decode.
    lb, r, left, top = letterbox_center(img, 320, 0)
    x = ((lb.astype(np.float32) - [103.53, 116.28, 123.675]) / [57.375, 57.12, 58.395]).transpose(2, 0, 1)[None].astype(np.float32)
    outs = sess.run(None, {sess.get_inputs()[0].name: x})
    maps = sorted(outs, key=lambda o: -o.shape[-2])
    all_boxes, all_scores = [], []
    for s in (8, 16, 32):
        n = (320 // s) ** 2
        cls = next(o for o in maps if o.shape[-2] == n and o.shape[-1] == 80).reshape(n, 80)
        reg = next(o for o in maps if o.shape[-2] == n and o.shape[-1] == 32).reshape(n, 4, 8)
        e = np.exp(reg - reg.max(2, keepdims=True))
        d = (e / e.sum(2, keepdims=True) * np.arange(8)).sum(2) * s
        ys, xs = np.divmod(np.arange(n), 320 // s)
        cx, cy = (xs + 0.5) * s, (ys + 0.5) * s
        all_boxes.append(np.stack([cx - d[:, 0], cy - d[:, 1], cx + d[:, 2], cy + d[:, 3]], 1))
        all_scores.append(cls)
    boxes, scores, classes = multilabel(np.concatenate(all_boxes), np.concatenate(all_scores))
    keep = nms(boxes, scores, classes, 0.6)
    return (boxes[keep] - [left, top, left, top]) / r, scores[keep], classes[keep]


MODELS = {
    "yolox_nano": (YOLOX, run_yolox),
    "yolov8n_int8": (os.path.join(ZOO, "yolov8n_int8.onnx"), lambda s, i: run_ultralytics(s, i, False)),
    "yolo26n_int8": (os.path.join(ZOO, "yolo26n_int8.onnx"), lambda s, i: run_ultralytics(s, i, True)),
    "deimv2": (os.path.join(ZOO, "deimv2_atto_320.onnx"), run_deim),
    "nanodet_m_320": (os.path.join(ZOO, "nanodet_m_320.onnx"), run_nanodet),
}

gt, files = ground_truth()
opts = ort.SessionOptions()
opts.intra_op_num_threads = 1
rows = {}
for name, (model, run) in MODELS.items():
    sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    results = []
    for f in files:
        img = cv2.imread(os.path.join(DATA, "images", f))
        h, w = img.shape[:2]
        boxes, scores, classes = run(sess, img)
        for b, s, c in zip(boxes, scores, classes):
            x1, y1, x2, y2 = np.clip(b[0], 0, w), np.clip(b[1], 0, h), np.clip(b[2], 0, w), np.clip(b[3], 0, h)
            results.append({"image_id": int(os.path.splitext(f)[0]), "category_id": int(c), "bbox": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)], "score": float(s)})
    row = {"reference_ap": ap(gt, results)}
    spotter = os.path.join(COMPARE, name, "predictions.json") if COMPARE else None
    if spotter and os.path.exists(spotter):
        row["spotter_predictions_pycocotools_ap"] = ap(gt, json.load(open(spotter)))
    rows[name] = row
    print(name, row, flush=True)
print(json.dumps(rows))
