"""Trains a 1D-CNN on the first 784 payload bytes of each flow (the dataset dataset.sh wrote),
evaluates it on a held-out split, and exports it as ONNX for `flowseek --plugin model`, with the
normalisation it was trained with and its class names in the model's metadata.

    python train.py DATA_DIR OUT_DIR [--label folder|ndpi] [--epochs 40] [--seed 1]

Writes OUT_DIR/cnn.onnx, OUT_DIR/metrics.json (held-out accuracy, per class, confusion) and
OUT_DIR/held-out.csv (the held-out flows' keys, for evaluate.py to score flowseek's own run).
"""
import argparse
import warnings
import glob
import json
import os

import numpy as np
import onnx
import pandas as pd
import torch
from torch import nn

L = 784
KEY = ["src_ip", "src_port", "dst_ip", "dst_port", "protocol", "bidirectional_first_seen_ms"]


class Cnn(nn.Module):
    """About 95k parameters, 0.33 M multiply-adds a flow."""

    def __init__(self, classes: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(1, 16, kernel_size=16, stride=4), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(16, 32, kernel_size=8, stride=2), nn.ReLU(), nn.MaxPool1d(2),
            nn.Flatten(),
        )
        self.classify = nn.Sequential(nn.Linear(32 * 22, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, classes))

    def forward(self, x):
        return self.classify(self.features(x))


class Deployed(nn.Module):
    """What flowseek runs: the bytes as it gives them (0..1, already normalised), class probabilities out."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.softmax(self.net(x), dim=1)


def load(data: str, label: str) -> pd.DataFrame:
    frames = []
    for f in sorted(glob.glob(os.path.join(data, "*.parquet"))):
        d = pd.read_parquet(f)
        d["folder"] = os.path.splitext(os.path.basename(f))[0]
        frames.append(d)
    df = pd.concat(frames, ignore_index=True)
    # a flow without payload gives the model nothing to go on
    df = df[df.payload_bytes_len > 0].reset_index(drop=True)
    df["label"] = df.folder if label == "folder" else df.application_category_name
    if label == "ndpi":  # categories with too few flows to learn or test are left out
        counts = df.label.value_counts()
        df = df[df.label.isin(counts[counts >= 10].index)].reset_index(drop=True)
    return df


def split(y: np.ndarray, rng: np.random.Generator, test: float = 0.25):
    """Stratified: a quarter of each class held out."""
    train, held = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n = max(1, int(round(len(idx) * test)))
        held += list(idx[:n])
        train += list(idx[n:])
    return np.array(train), np.array(held)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--label", choices=["folder", "ndpi"], default="folder")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.out, exist_ok=True)

    df = load(a.data, a.label)
    classes = sorted(df.label.unique())
    y = df.label.map({c: i for i, c in enumerate(classes)}).to_numpy()
    x = np.stack([np.frombuffer(b, dtype=np.uint8)[:L] for b in df.payload_bytes]).astype(np.float32) / 255.0
    tr, te = split(y, rng)
    mean, std = float(x[tr].mean()), float(x[tr].std())
    xn = ((x - mean) / std)[:, None, :]

    net = Cnn(len(classes))
    params = sum(p.numel() for p in net.parameters())
    # classes weighted by their rarity, so the small ones count
    weight = torch.tensor(len(tr) / (len(classes) * np.bincount(y[tr], minlength=len(classes))), dtype=torch.float32)
    loss_fn = nn.CrossEntropyLoss(weight=weight)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    xt, yt = torch.from_numpy(xn[tr]), torch.from_numpy(y[tr])
    for epoch in range(a.epochs):
        net.train()
        order = torch.randperm(len(tr))
        total = 0.0
        for i in range(0, len(tr), 32):
            b = order[i:i + 32]
            opt.zero_grad()
            loss = loss_fn(net(xt[b]), yt[b])
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        if epoch % 10 == 9:
            print(f"epoch {epoch + 1}: loss {total / len(tr):.3f}")

    net.eval()
    with torch.no_grad():
        pred = net(torch.from_numpy(xn[te])).argmax(1).numpy()
    truth = y[te]
    confusion = np.zeros((len(classes), len(classes)), dtype=int)
    for t, p in zip(truth, pred):
        confusion[t, p] += 1
    metrics = {
        "flows": int(len(df)), "train": int(len(tr)), "held_out": int(len(te)), "parameters": int(params),
        "accuracy": float((pred == truth).mean()),
        "per_class": {c: float((pred[truth == i] == i).mean()) for i, c in enumerate(classes)},
        "classes": classes, "confusion": confusion.tolist(), "label": a.label,
    }
    print(json.dumps({k: metrics[k] for k in ["flows", "train", "held_out", "parameters", "accuracy", "per_class"]}, indent=1))

    path = os.path.join(a.out, "cnn.onnx")
    deployed = Deployed(net).eval()
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the TorchScript exporter: dynamic batch axis by name
    torch.onnx.export(deployed, torch.zeros(1, 1, L), path, input_names=["bytes"], output_names=["probabilities"],
                      dynamic_axes={"bytes": {0: "N"}, "probabilities": {0: "N"}}, opset_version=17, dynamo=False)
    m = onnx.load(path)
    for k, v in {"flowseek.labels": json.dumps(classes),
                 "flowseek.normalization": json.dumps({"bytes": {"mean": mean, "std": std}})}.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, path)
    os.chmod(path, 0o644)

    held = df.iloc[te][KEY + ["folder"]].copy()
    held["label"] = [classes[i] for i in truth]
    held["python_prediction"] = [classes[i] for i in pred]
    held.to_csv(os.path.join(a.out, "held-out.csv"), index=False)
    with open(os.path.join(a.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    print(f"wrote {path} ({params} parameters), {a.out}/metrics.json, {a.out}/held-out.csv")


if __name__ == "__main__":
    main()
