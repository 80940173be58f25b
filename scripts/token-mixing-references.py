"""Reference logits for the token-mixing tests that the shared parity fixtures do not reach (Swin's shifted,
padded windows; ViT at an input size other than img_size). The weights are not random but a formula both
sides can evaluate, so no binary fixture is needed: parameter number k (state-dict keys sorted) holds
sin(0.731·i + 1.37·k) · 1/√fan_in (rank ≥ 2) or 0.2·sin(…) (+1 for norm weights and running variances); the input holds sin(0.137·i).
The printed lists are pasted into Tests/ModelsTests/*Tests.swift.   python3 scripts/token-mixing-references.py"""
import math, torch, timm


def formula_weights(model):
    with torch.no_grad():
        for k, (name, t) in enumerate(sorted(model.state_dict(keep_vars=True).items())):
            if not t.dtype.is_floating_point:
                continue
            v = torch.sin(torch.arange(t.numel(), dtype=torch.float64) * 0.731 + 1.37 * k)
            if t.dim() >= 2:
                v = v / math.sqrt(t.numel() / t.shape[0])
            else:
                v = 0.2 * v + (1.0 if ("norm" in name and name.endswith("weight")) or name.endswith("running_var") else 0.0)
            t.copy_(v.reshape(t.shape).float())
    return model


def formula_input(*shape):
    n = math.prod(shape)
    return torch.sin(torch.arange(n, dtype=torch.float64) * 0.137).reshape(shape).float()


CASES = [
    ("swin_shifted_padded", "swin_tiny_patch4_window7_224",
     dict(img_size=56, window_size=4, embed_dim=8, depths=(2, 2, 2), num_heads=(1, 2, 2), num_classes=5), 56),
    ("vit_dynamic_48", "vit_tiny_patch16_224",
     dict(img_size=32, patch_size=8, embed_dim=16, depth=1, num_heads=2, num_classes=5, dynamic_img_size=True), 48),
    ("vit_avg_no_class_token", "vit_tiny_patch16_224",
     dict(img_size=32, patch_size=8, embed_dim=16, depth=2, num_heads=2, num_classes=5, class_token=False, global_pool="avg"), 32),
]

# Full-size models: the first 8 of the 1000 logits, their sum and max |logit| as a fingerprint.
FULL_SIZE = [
    ("swin_tiny_224", "swin_tiny_patch4_window7_224", {}, 224),
    ("swin_tiny_384", "swin_tiny_patch4_window7_224", dict(img_size=384), 384),
    ("vit_small_384", "vit_small_patch16_224", dict(dynamic_img_size=True), 384),
    ("volo_d1_224", "volo_d1_224", {}, 224),
    ("mixer_b16_224", "mixer_b16_224", {}, 224),
    ("poolformer_s12", "poolformer_s12", {}, 224),
]

for name, arch, kwargs, size in CASES + FULL_SIZE:
    model = formula_weights(timm.create_model(arch, **kwargs)).eval()
    with torch.no_grad():
        y = model(formula_input(1, 3, size, size)).flatten()
    if y.numel() > 16:
        print(name, [round(v, 5) for v in y[:8].tolist()], "sum", round(y.double().sum().item(), 4), "max", round(y.abs().max().item(), 4))
    else:
        print(name, [round(v, 6) for v in y.tolist()])
