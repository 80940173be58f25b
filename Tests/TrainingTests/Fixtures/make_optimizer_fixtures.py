"""Reference optimizer trajectories from PyTorch for Tests/TrainingTests/OptimizerTests.swift.
A least-squares problem, loss = sum((X @ W + b - Y)^2); parameters after each of 5 steps.
SAM follows the reference algorithm (Foret et al.; davda54/sam): climb by rho*g/||g||, recompute
the gradient there, return, and step the base optimizer.  Run: python3 make_optimizer_fixtures.py"""
import json, os, torch
torch.manual_seed(0)
X, Y = torch.randn(4, 3), torch.randn(4, 2)
W0, b0 = torch.randn(3, 2), torch.randn(2)

def run(make, sam_rho=None, steps=5):
    W, b = W0.clone().requires_grad_(), b0.clone().requires_grad_()
    opt = make([{"params": [b], "weight_decay": 0.0}, {"params": [W]}])
    loss_fn = lambda: ((X @ W + b - Y) ** 2).sum()
    out = []
    for _ in range(steps):
        opt.zero_grad(); loss_fn().backward()
        if sam_rho is not None:
            with torch.no_grad():
                norm = torch.norm(torch.stack([p.grad.norm(2) for p in (b, W)]), 2)
                eps = [sam_rho * p.grad / (norm + 1e-12) for p in (b, W)]
                for p, e in zip((b, W), eps): p.add_(e)
            opt.zero_grad(); loss_fn().backward()
            with torch.no_grad():
                for p, e in zip((b, W), eps): p.sub_(e)
        opt.step()
        out.append({"W": W.detach().flatten().tolist(), "b": b.detach().tolist()})
    return out

cases = {
    "sgd_momentum": run(lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9, weight_decay=0.01)),
    "sgd_nesterov": run(lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "adamw": run(lambda g: torch.optim.AdamW(g, lr=0.1, betas=(0.9, 0.95), weight_decay=0.05)),
    "sam_sgd": run(lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9, weight_decay=0.01), sam_rho=0.05),
}
json.dump({"X": X.flatten().tolist(), "Y": Y.flatten().tolist(), "W0": W0.flatten().tolist(), "b0": b0.tolist(), "cases": cases},
          open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizers.json"), "w"))
