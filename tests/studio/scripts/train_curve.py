"""A stdlib-only training script that logs what Azure ML's studio charts: a loss per step,
a single accuracy, a list, rows, a table, a confusion matrix and an image."""

import argparse
import math
import os
import struct
import zlib

from azureml.core.run import Run


def write_png(path, width=64, height=48):
    """A small gradient PNG, written with zlib alone."""
    rows = b"".join(b"\x00" + b"".join(bytes(((x * 4) % 256, (y * 5) % 256, 160)) for x in range(width))
                    for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--epochs", type=int, default=30)
args = parser.parse_args()

run = Run.get_context()
for step in range(args.epochs):
    loss = 2.0 * math.exp(-args.lr * step) + 0.05
    run.log("loss", loss, step=step)
    print(f"epoch {step} loss {loss:.4f}", flush=True)
run.log("accuracy", round(0.80 + args.lr, 4))
run.log_list("val_curve", [0.5, 0.62, 0.71, 0.77, 0.8])
for name, precision in (("setosa", 1.0), ("versicolor", 0.91), ("virginica", 0.88)):
    run.log_row("per_class", label=name, precision=precision)
run.log_table("thresholds", {"threshold": [0.1, 0.5, 0.9], "recall": [0.99, 0.9, 0.5]})
run.log_confusion_matrix("confusion", {"schema_type": "confusion_matrix", "schema_version": "1.0.0",
                                       "data": {"class_labels": ["setosa", "versicolor", "virginica"],
                                                "matrix": [[13, 0, 0], [0, 15, 1], [0, 2, 7]]}})
os.makedirs("outputs", exist_ok=True)
write_png("outputs/gradient.png")
run.log_image("sample_image", path="outputs/gradient.png")
run.tag("team", "vision")
with open("outputs/model.txt", "w") as handle:
    handle.write(f"lr={args.lr}\n")
print("done", flush=True)
