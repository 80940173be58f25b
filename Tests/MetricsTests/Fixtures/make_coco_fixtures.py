"""Reference values for Tests/MetricsTests/COCOEvalTests.swift, produced by pycocotools.

Writes coco_fixtures.json: a list of cases, each with a ground-truth dict, a detection list,
the COCOeval parameters used (useCats, iouThrs) and pycocotools' 12 summary stats. The random
sets mix crowd boxes, all three area ranges, several images and categories, tied scores,
a category without ground truth, an image with detections but no boxes, and one image with
more than 100 detections (maxDets). Also checks the two published hand cases:

  * single box: one GT, one detection with IoU 0.78 -> AP = 6/10 thresholds = 0.6, AP50 = 1.
  * interpolation: 2 GT, detections ranked TP, FP, TP (exact boxes so every IoU threshold agrees):
    precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1 -> COCO 101-point AP = (51 + 50*2/3)/101 = 0.8349835,
    VOC all-point = 1/2*1 + 1/2*2/3 = 0.8333333, VOC 11-point = (6 + 5*2/3)/11 = 0.8484848.

Each random case also carries PASCAL VOC AP per category (all-point and 11-point) from a port of
py-faster-rcnn's voc_eval.py (continuous IoU without the "+1" pixel, crowd boxes treated as
difficult, stable score sort), the conventions Sources/Metrics/VOCEval.swift documents.

Regenerate with: python3 Tests/MetricsTests/Fixtures/make_coco_fixtures.py
"""
import contextlib
import io
import json
import os

import numpy as np
import pycocotools
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

here = os.path.dirname(os.path.abspath(__file__))


def run(gt, dt, use_cats=1, iou_thrs=None):
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = json.loads(json.dumps(gt))
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(json.loads(json.dumps(dt))) if dt else COCO()
        if not dt:
            coco_dt.dataset = {"images": gt["images"], "categories": gt["categories"], "annotations": []}
            coco_dt.createIndex()
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.params.useCats = use_cats
        if iou_thrs is not None:
            ev.params.iouThrs = np.array(iou_thrs)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return [float(s) for s in ev.stats]


def r2(x):
    return round(float(x), 2)


def random_case(seed, n_images, n_cats, boxes_per_image, crowd_rate, extra_fp, dense_image=False):
    rng = np.random.default_rng(seed)
    images = [{"id": 10 + 3 * i} for i in range(n_images)]  # non-contiguous, unsorted ids below
    rng.shuffle(images)
    categories = [{"id": c + 1, "name": "class%d" % (c + 1)} for c in range(n_cats)]
    categories.append({"id": 99, "name": "unused"})  # no ground truth: -1 in the tables
    anns, dts = [], []
    ann_id = 1
    for img in images:
        for _ in range(int(rng.integers(0, boxes_per_image + 1))):
            size = float(rng.choice([8, 20, 45, 80, 150, 300]) * rng.uniform(0.7, 1.3))
            w, h = r2(size * rng.uniform(0.5, 1.5)), r2(size * rng.uniform(0.5, 1.5))
            x, y = r2(rng.uniform(0, 600)), r2(rng.uniform(0, 400))
            cat = int(rng.integers(1, n_cats + 1))
            crowd = int(rng.random() < crowd_rate)
            # Segment area differs from the box area, as in real COCO.
            area = r2(w * h * rng.uniform(0.5, 1.0))
            ann = {"id": ann_id, "image_id": img["id"], "category_id": cat,
                   "bbox": [x, y, w, h], "area": area, "iscrowd": crowd}
            if rng.random() < 0.1:
                ann["difficult"] = 1  # VOC only; pycocotools ignores the field
            anns.append(ann)
            ann_id += 1
            for _ in range(int(rng.integers(0, 3))):  # 0-2 detections near each box
                jit = rng.normal(0, 0.12, 4)
                dts.append({"image_id": img["id"], "category_id": cat if rng.random() < 0.9 else int(rng.integers(1, n_cats + 1)),
                            "bbox": [r2(x + jit[0] * w), r2(y + jit[1] * h), r2(max(w * (1 + jit[2]), 1)), r2(max(h * (1 + jit[3]), 1))],
                            "score": round(float(rng.random()), 2)})  # 2 decimals: many ties
        for _ in range(extra_fp):
            w, h = r2(rng.uniform(5, 200)), r2(rng.uniform(5, 200))
            dts.append({"image_id": img["id"], "category_id": int(rng.integers(1, n_cats + 1)),
                        "bbox": [r2(rng.uniform(0, 600)), r2(rng.uniform(0, 400)), w, h],
                        "score": round(float(rng.random()), 2)})
    # An image with detections and no ground truth.
    images.append({"id": 5})
    dts.append({"image_id": 5, "category_id": 1, "bbox": [1, 1, 30, 30], "score": 0.5})
    if dense_image:
        img = images[0]["id"]
        for _ in range(130):
            base = anns[int(rng.integers(0, len(anns)))]["bbox"] if anns else [0, 0, 50, 50]
            jit = rng.normal(0, 0.2, 4)
            dts.append({"image_id": img, "category_id": 1,
                        "bbox": [r2(base[0] + jit[0] * base[2]), r2(base[1] + jit[1] * base[3]),
                                 r2(max(base[2] * (1 + jit[2]), 1)), r2(max(base[3] * (1 + jit[3]), 1))],
                        "score": round(float(rng.random()), 3)})
        for _ in range(6):
            x, y = r2(rng.uniform(0, 500)), r2(rng.uniform(0, 300))
            anns.append({"id": ann_id, "image_id": img, "category_id": 1, "bbox": [x, y, 60.0, 40.0],
                         "area": 2400.0, "iscrowd": 0})
            ann_id += 1
    return {"images": images, "categories": categories, "annotations": anns}, dts


def voc_ap(rec, prec, use_07_metric):
    """voc_eval.py's voc_ap, unchanged."""
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            p = 0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap = ap + p / 11.0
        return ap
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])


def voc_reference(gt, dt, use_07_metric, ovthresh=0.5):
    """voc_eval.py's matching per category; returns {category id: AP} for categories with positives."""
    def xyxy(b):
        return [b[0], b[1], b[0] + b[2], b[1] + b[3]]
    aps = {}
    for cat in gt["categories"]:
        cid = cat["id"]
        class_recs, npos = {}, 0
        for img in gt["images"]:
            anns = [a for a in gt["annotations"] if a["image_id"] == img["id"] and a["category_id"] == cid]
            difficult = np.array([bool(a.get("difficult", 0)) or bool(a["iscrowd"]) for a in anns], dtype=bool)
            npos += int(np.sum(~difficult))
            class_recs[img["id"]] = {"bbox": np.array([xyxy(a["bbox"]) for a in anns]).reshape(-1, 4),
                                     "difficult": difficult, "det": [False] * len(anns)}
        dets = [d for d in dt if d["category_id"] == cid]
        if npos == 0:
            continue
        confidence = np.array([d["score"] for d in dets])
        order = np.argsort(-confidence, kind="stable")
        dets = [dets[i] for i in order]
        nd = len(dets)
        tp, fp = np.zeros(nd), np.zeros(nd)
        for d, det in enumerate(dets):
            R = class_recs[det["image_id"]]
            bb = np.array(xyxy(det["bbox"]))
            ovmax, BBGT = -np.inf, R["bbox"]
            if BBGT.size > 0:
                iw = np.maximum(np.minimum(BBGT[:, 2], bb[2]) - np.maximum(BBGT[:, 0], bb[0]), 0.0)
                ih = np.maximum(np.minimum(BBGT[:, 3], bb[3]) - np.maximum(BBGT[:, 1], bb[1]), 0.0)
                inters = iw * ih
                uni = (bb[2] - bb[0]) * (bb[3] - bb[1]) + (BBGT[:, 2] - BBGT[:, 0]) * (BBGT[:, 3] - BBGT[:, 1]) - inters
                overlaps = inters / uni
                ovmax, jmax = np.max(overlaps), np.argmax(overlaps)
            if ovmax > ovthresh:
                if not R["difficult"][jmax]:
                    if not R["det"][jmax]:
                        tp[d] = 1.0
                        R["det"][jmax] = True
                    else:
                        fp[d] = 1.0
            else:
                fp[d] = 1.0
        fp, tp = np.cumsum(fp), np.cumsum(tp)
        rec = tp / float(npos)
        prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
        aps[str(cid)] = float(voc_ap(rec, prec, use_07_metric))
    return aps


cases = []
for name, seed, kwargs in [
    ("mixed", 1, dict(n_images=6, n_cats=3, boxes_per_image=6, crowd_rate=0.1, extra_fp=2)),
    ("crowded", 2, dict(n_images=4, n_cats=2, boxes_per_image=8, crowd_rate=0.35, extra_fp=3)),
    ("dense", 3, dict(n_images=3, n_cats=2, boxes_per_image=5, crowd_rate=0.1, extra_fp=1, dense_image=True)),
]:
    gt, dt = random_case(seed, **kwargs)
    cases.append({"name": name, "gt": gt, "dt": dt, "useCats": 1, "iouThrs": None, "stats": run(gt, dt),
                  "voc": {"allPoint": voc_reference(gt, dt, False), "elevenPoint": voc_reference(gt, dt, True)}})
    if name == "mixed":
        cases.append({"name": "mixed-pooled", "gt": gt, "dt": dt, "useCats": 0, "iouThrs": None,
                      "stats": run(gt, dt, use_cats=0)})
        cases.append({"name": "mixed-thresholds", "gt": gt, "dt": dt, "useCats": 1, "iouThrs": [0.5, 0.6],
                      "stats": run(gt, dt, iou_thrs=[0.5, 0.6])})

# Published hand cases, checked against pycocotools.
single_gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 100, 100],
                              "area": 10000, "iscrowd": 0}]}
# Detection [0, 0, 100, 78]: IoU = 7800 / 10000 = 0.78.
single_dt = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 100, 78], "score": 0.9}]
s = run(single_gt, single_dt)
assert abs(s[0] - 0.6) < 1e-12 and abs(s[1] - 1.0) < 1e-12, s  # tp / (tp + fp + eps) < 1
cases.append({"name": "single-box", "gt": single_gt, "dt": single_dt, "useCats": 1, "iouThrs": None, "stats": s})

interp_gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 50, 50], "area": 2500, "iscrowd": 0},
                             {"id": 2, "image_id": 1, "category_id": 1, "bbox": [100, 100, 50, 50], "area": 2500, "iscrowd": 0}]}
interp_dt = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 50, 50], "score": 0.9},        # TP
             {"image_id": 1, "category_id": 1, "bbox": [300, 300, 50, 50], "score": 0.8},    # FP
             {"image_id": 1, "category_id": 1, "bbox": [100, 100, 50, 50], "score": 0.7}]    # TP
s = run(interp_gt, interp_dt)
assert round(s[0], 7) == 0.8349835, s
assert round(voc_reference(interp_gt, interp_dt, False)["1"], 7) == 0.8333333
assert round(voc_reference(interp_gt, interp_dt, True)["1"], 7) == 0.8484848
cases.append({"name": "interpolation", "gt": interp_gt, "dt": interp_dt, "useCats": 1, "iouThrs": None, "stats": s})

with open(os.path.join(here, "coco_fixtures.json"), "w") as f:
    json.dump({"pycocotools": pycocotools.__version__ if hasattr(pycocotools, "__version__") else "2.x",
               "cases": cases}, f, separators=(",", ":"))
for c in cases:
    print(c["name"], len(c["gt"]["annotations"]), len(c["dt"]), [round(x, 4) for x in c["stats"]])
