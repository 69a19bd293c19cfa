"""What the studio computes from run history, without a browser: downsampling keeps spikes,
hyperparameters come from script arguments, and a running studio is what run links point at."""

import random

from amlocal.studio.data import parse_params
from amlocal.studio.downsample import min_max_buckets
from amlocal.studio import links


def test_a_spike_logged_once_survives_downsampling_of_100000_points():
    rng = random.Random(7)
    xs = list(range(100_000))
    ys = [rng.uniform(0.0, 1.0) for _ in xs]
    ys[73_412] = 50.0
    ys[12_345] = -20.0
    out_x, out_y = min_max_buckets(xs, ys, 1000)
    assert len(out_x) <= 2002
    assert (73_412, 50.0) in zip(out_x, out_y) and (12_345, -20.0) in zip(out_x, out_y)
    assert out_x == sorted(out_x) and out_x[0] == 0 and out_x[-1] == 99_999


def test_short_series_are_left_alone_and_gaps_are_skipped():
    assert min_max_buckets([0, 1, 2], [1.0, None, 3.0], 1000) == ([0, 1, 2], [1.0, None, 3.0])
    xs = list(range(10_000))
    ys = [None if i % 2 else float(i % 7) for i in xs]
    out_x, out_y = min_max_buckets(xs, ys, 100)
    assert None not in out_y[1:-1]


def test_hyperparameters_are_read_from_script_arguments():
    assert parse_params(["--kernel", "linear", "--penalty", "1.0", "--epochs", "3", "--verbose", "--lr=0.01",
                         "--shift", "-2", "data.csv"]) == \
        {"kernel": "linear", "penalty": 1.0, "epochs": 3, "verbose": True, "lr": 0.01, "shift": -2}


def test_run_links_point_at_the_running_studio_or_say_how_to_start_it(tmp_path):
    assert links.run_url(tmp_path, "exp_1_a") == "http://127.0.0.1:8765/runs/exp_1_a"
    assert "amlocal ui" in links.web_view_text(tmp_path, "exp_1_a")
    links.record_studio(tmp_path, "127.0.0.1", 9999, token_required=False)
    assert links.run_url(tmp_path, "exp/1") == "http://127.0.0.1:9999/runs/exp%2F1"
    assert links.web_view_text(tmp_path, "exp_1_a") == "http://127.0.0.1:9999/runs/exp_1_a"
    links.forget_studio(tmp_path)
    assert links.running_studio(tmp_path) is None
