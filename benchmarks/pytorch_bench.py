"""PyTorch (timm) time on this machine, to put next to `zoo bench --model M --batch B [--train] --json`.
Same protocol as zoo bench: random weights and input, warm-up, median of N runs. Inference runs in eval
mode under inference_mode; --train times one step (forward, loss, backward, AdamW (0.9, 0.95) with weight
decay 0.05 off biases and norms). mae_vit_{tiny,small,base}_patch16 are the MAE of He et al. built from
timm's ViT blocks, with the zoo's presets. Needs torch and timm (not needed by CI).
python3 benchmarks/pytorch_bench.py resnet50 1 [threads] [iterations] [--train]"""
import json, statistics, sys, time, torch, timm
from timm.layers import PatchEmbed
from timm.models.vision_transformer import Block

args = [a for a in sys.argv[1:] if a != "--train"]
train = "--train" in sys.argv
name, batch = args[0], int(args[1])
threads = int(args[2]) if len(args) > 2 else 2
iterations = int(args[3]) if len(args) > 3 else 20
torch.set_num_threads(threads)


class MaskedAutoencoder(torch.nn.Module):
    """Encoder on the 25 % kept patches, light decoder on all of them, norm-pix MSE on the removed ones.
    Position embeddings are learnable zeros here; their values do not change the cost."""
    def __init__(self, dim, depth, heads, decoder_dim, decoder_depth, decoder_heads, size=224, patch=16, mask_ratio=0.75):
        super().__init__()
        self.patch, self.mask_ratio = patch, mask_ratio
        self.patch_embed = PatchEmbed(size, patch, 3, dim)
        tokens = self.patch_embed.num_patches
        self.cls_token = torch.nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = torch.nn.Parameter(torch.zeros(1, tokens + 1, dim), requires_grad=False)
        self.blocks = torch.nn.Sequential(*[Block(dim, heads, 4.0, qkv_bias=True) for _ in range(depth)])
        self.norm = torch.nn.LayerNorm(dim, eps=1e-6)
        self.decoder_embed = torch.nn.Linear(dim, decoder_dim)
        self.mask_token = torch.nn.Parameter(torch.zeros(1, 1, decoder_dim))
        self.decoder_pos_embed = torch.nn.Parameter(torch.zeros(1, tokens + 1, decoder_dim), requires_grad=False)
        self.decoder_blocks = torch.nn.Sequential(*[Block(decoder_dim, decoder_heads, 4.0, qkv_bias=True) for _ in range(decoder_depth)])
        self.decoder_norm = torch.nn.LayerNorm(decoder_dim, eps=1e-6)
        self.decoder_pred = torch.nn.Linear(decoder_dim, patch * patch * 3)

    def forward(self, images):
        b, p = images.shape[0], self.patch
        x = self.patch_embed(images) + self.pos_embed[:, 1:]
        tokens, dim = x.shape[1], x.shape[2]
        kept = int(tokens * (1 - self.mask_ratio))
        shuffle = torch.argsort(torch.rand(b, tokens), dim=1)
        restore = torch.argsort(shuffle, dim=1)
        x = torch.gather(x, 1, shuffle[:, :kept, None].expand(-1, -1, dim))
        mask = torch.ones(b, tokens)
        mask[:, :kept] = 0
        mask = torch.gather(mask, 1, restore)
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(b, -1, -1)
        x = self.norm(self.blocks(torch.cat([cls, x], dim=1)))
        x = self.decoder_embed(x)
        filler = self.mask_token.expand(b, tokens - kept, -1)
        body = torch.gather(torch.cat([x[:, 1:], filler], dim=1), 1, restore[..., None].expand(-1, -1, x.shape[2]))
        x = torch.cat([x[:, :1], body], dim=1) + self.decoder_pos_embed
        pred = self.decoder_pred(self.decoder_norm(self.decoder_blocks(x)))[:, 1:]
        g = images.shape[2] // p
        target = images.reshape(b, 3, g, p, g, p).permute(0, 2, 4, 3, 5, 1).reshape(b, g * g, p * p * 3)
        target = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6).sqrt()
        loss = ((pred - target) ** 2).mean(-1)
        return (loss * mask).sum() / mask.sum()


MAE_PRESETS = {
    "mae_vit_tiny_patch16": (192, 12, 3, 128, 4, 4),
    "mae_vit_small_patch16": (384, 12, 6, 256, 4, 8),
    "mae_vit_base_patch16": (768, 12, 12, 512, 8, 16),
}

if name in MAE_PRESETS:
    model, size = MaskedAutoencoder(*MAE_PRESETS[name]), (3, 224, 224)
    loss_of = lambda out: out
else:
    model = timm.create_model(name, pretrained=False)
    size = model.pretrained_cfg["input_size"]
    labels = torch.arange(batch) % model.num_classes
    loss_of = lambda logits: torch.nn.functional.cross_entropy(logits, labels)
x = torch.randn(batch, *size)


def timed(step):
    for _ in range(1 if train else 3): step()
    samples = []
    for _ in range(iterations):
        start = time.perf_counter(); step(); samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


if train:
    model.train()
    decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim > 1 and not n.endswith(".bias")]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and (p.ndim <= 1 or n.endswith(".bias"))]
    optimizer = torch.optim.AdamW([{"params": no_decay, "weight_decay": 0}, {"params": decay, "weight_decay": 0.05}],
                                  lr=1e-4, betas=(0.9, 0.95))

    def step():
        optimizer.zero_grad()
        loss_of(model(x)).backward()
        optimizer.step()
    median = timed(step)
else:
    model.eval()
    with torch.inference_mode():
        median = timed(lambda: model(x))
print(json.dumps({"model": name, "batch": batch, "threads": threads, "mode": "train" if train else "inference",
                  "ms_median": round(median, 2), "images_per_s": round(batch * 1000 / median, 1)}))
