"""Prints timm's facts for every zoo model: parameter count, FLOPs at the default size, and the
default pretrained config. The zoo's registry presets were written from this output
(timm 1.0.31, torch 2.15); run it again to check them: python3 scripts/timm-registry-facts.py"""
import json, sys, torch, timm
from torch.utils.flop_counter import FlopCounterMode

NAMES = """resnet18 resnet34 resnet50 resnet101 resnet152 seresnet50 seresnet101
mobilenetv2_035 mobilenetv2_050 mobilenetv2_075 mobilenetv2_100 mobilenetv2_140
mobilenetv3_small_050 mobilenetv3_small_075 mobilenetv3_small_100 mobilenetv3_large_075 mobilenetv3_large_100
tf_efficientnet_lite0 tf_efficientnet_lite1 tf_efficientnet_lite2 tf_efficientnet_lite3 tf_efficientnet_lite4
densenet121 densenet169 densenet201
vit_tiny_patch16_224 vit_small_patch16_224 vit_base_patch16_224 vit_base_patch32_224
swin_tiny_patch4_window7_224 swin_small_patch4_window7_224 swin_base_patch4_window7_224
mixer_s16_224 mixer_b16_224 poolformer_s12 poolformer_s24 poolformer_s36 volo_d1_224 volo_d2_224""".split()

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
