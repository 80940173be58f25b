"""Prints timm's facts for every zoo model: parameter count, FLOPs at the default size, and the
default pretrained config. The zoo's registry presets were written from this output
(timm 1.0.31, torch 2.15); run it again to check them: python3 scripts/timm-registry-facts.py"""
import json, os, sys, torch, timm
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zoo_models import NAMES  # noqa: E402

facts = {}
for name in (sys.argv[1:] or NAMES):
    m = timm.create_model(name, pretrained=False).eval()
    cfg = m.pretrained_cfg
    size = cfg["input_size"]
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        m(torch.zeros(1, *size))
    facts[name] = dict(params=sum(p.numel() for p in m.parameters()), gflops=round(counter.get_total_flops() / 1e9, 3),
                       tag=cfg.get("tag"), input_size=list(size), mean=list(cfg["mean"]), std=list(cfg["std"]),
                       crop_pct=cfg["crop_pct"], interpolation=cfg["interpolation"], num_classes=cfg["num_classes"])
    print(name, json.dumps(facts[name]), flush=True)
