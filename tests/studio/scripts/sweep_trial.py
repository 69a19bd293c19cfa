"""A stdlib-only trial of a sweep: its accuracy follows from its arguments (best at lr 0.1 with
adam), logged once per epoch; the last epoch falls back a little, so a child's best value is
not its last one."""

import argparse
import math

from azureml.core.run import Run

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--optimizer", default="sgd")
args = parser.parse_args()

peak = {"sgd": 0.80, "adam": 0.90}[args.optimizer] - abs(math.log10(args.lr) + 1) * 0.1
run = Run.get_context()
for epoch, accuracy in enumerate((peak - 0.2, peak, peak - 0.05)):
    run.log("accuracy", round(accuracy, 4), step=epoch)
    print(f"epoch {epoch} accuracy {accuracy:.4f}", flush=True)
