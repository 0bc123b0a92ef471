"""Settings for benchmarks: the app's own, plus the floor endpoints (bench/urls.py)."""

from telehealth.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
