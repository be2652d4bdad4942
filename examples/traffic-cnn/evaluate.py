"""Scores flowseek's own predictions (predict.sh) on the held-out flows train.py set aside: the
deployed path — flowseek's columns, the plugin's normalisation, onnxruntime — against the labels,
and against the predictions PyTorch made for the same flows.

    python evaluate.py MODEL_DIR PREDICTIONS_DIR
"""
import glob
import json
import os
import sys

import pandas as pd

KEY = ["src_ip", "src_port", "dst_ip", "dst_port", "protocol", "bidirectional_first_seen_ms"]


def main():
    model_dir, preds_dir = sys.argv[1], sys.argv[2]
    held = pd.read_csv(os.path.join(model_dir, "held-out.csv"))
    rows = []
    for f in sorted(glob.glob(os.path.join(preds_dir, "*.jsonl"))):
        d = pd.read_json(f, lines=True)
        d["folder"] = os.path.splitext(os.path.basename(f))[0]
        rows.append(d[KEY + ["folder", "udps_model_label"]])
    flows = pd.concat(rows, ignore_index=True)
    both = held.merge(flows, on=KEY + ["folder"], how="left")
    missing = int(both.udps_model_label.isna().sum())
    both = both.dropna(subset=["udps_model_label"])
    result = {
        "held_out": int(len(held)), "matched": int(len(both)), "missing": missing,
        "accuracy": float((both.udps_model_label == both.label).mean()),
        "same_as_pytorch": float((both.udps_model_label == both.python_prediction).mean()),
        "per_class": {c: float((g.udps_model_label == c).mean()) for c, g in both.groupby("label")},
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
