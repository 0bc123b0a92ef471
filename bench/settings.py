"""Settings for benchmarks: the app's own, plus the floor endpoints (bench/urls.py)."""

import os

from telehealth.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# bench/layer_churn.py runs the same daphne with channels-redis' own layer and with ours.
if os.environ.get("BENCH_LAYER_BACKEND") and REDIS_URL:  # noqa: F405
    CHANNEL_LAYERS["default"]["BACKEND"] = os.environ["BENCH_LAYER_BACKEND"]  # noqa: F405
