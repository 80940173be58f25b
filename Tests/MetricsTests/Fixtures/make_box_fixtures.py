"""Reference values for Tests/MetricsTests/BoxesTests.swift and NMSTests.swift.

Computes the IoU family, box_convert and nms / batched_nms with torchvision.ops in float64 on
small random box sets and writes boxes_fixture.json. Regenerate with:

    python3 Tests/MetricsTests/Fixtures/make_box_fixtures.py
"""
import json
import os

import torch
import torchvision
from torchvision.ops import (batched_nms, box_convert, box_iou, complete_box_iou,
                             distance_box_iou, generalized_box_iou, nms)

here = os.path.dirname(os.path.abspath(__file__))
g = torch.Generator().manual_seed(7)


def random_boxes(n):
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * 50
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * 30 + 0.5
    return torch.cat([xy, xy + wh], dim=1)


a = random_boxes(6)
b = random_boxes(5)
b[0] = a[0]            # identical pair
b[1] = a[1] + 200      # disjoint pair
cx = random_boxes(4)
out = {
    "torchvision": torchvision.__version__,
    "boxes1": a.tolist(),
    "boxes2": b.tolist(),
    "iou": box_iou(a, b).tolist(),
    "giou": generalized_box_iou(a, b).tolist(),
    "diou": distance_box_iou(a, b).tolist(),
    "ciou": complete_box_iou(a, b).tolist(),
    "convert_xyxy": cx.tolist(),
    "convert_xywh": box_convert(cx, "xyxy", "xywh").tolist(),
    "convert_cxcywh": box_convert(cx, "xyxy", "cxcywh").tolist(),
    "convert_cxcywh_to_xywh": box_convert(box_convert(cx, "xyxy", "cxcywh"), "cxcywh", "xywh").tolist(),
}

# NMS on clustered boxes so that suppression actually happens; scores rounded to force ties.
centres = torch.rand(4, 2, generator=g, dtype=torch.float64) * 60
nb = []
for i in range(40):
    c = centres[i % 4] + torch.randn(2, generator=g, dtype=torch.float64) * 3
    wh = torch.rand(2, generator=g, dtype=torch.float64) * 10 + 10
    nb.append(torch.cat([c - wh / 2, c + wh / 2]))
nb = torch.stack(nb)
scores = torch.round(torch.rand(40, generator=g, dtype=torch.float64) * 10) / 10
classes = torch.randint(0, 3, (40,), generator=g)
out["nms_boxes"] = nb.tolist()
out["nms_scores"] = scores.tolist()
out["nms_classes"] = classes.tolist()
out["nms"] = {str(t): nms(nb, scores, t).tolist() for t in (0.3, 0.5, 0.7)}
out["batched_nms"] = {str(t): batched_nms(nb, scores, classes, t).tolist() for t in (0.3, 0.5)}

with open(os.path.join(here, "boxes_fixture.json"), "w") as f:
    json.dump(out, f, indent=None, separators=(",", ":"))
print("wrote boxes_fixture.json")
