"""A link emulator for tests: a station and a hospital network namespace routed through a
middle one, where a user-space stage (a TUN device) adds delay, jitter, loss, a rate limit
and outages. See netns.py (the topology), stage.py (the stage), calibrate.py (what it built,
measured) and scenarios.py (the issue's links). Test support only, never the app. Needs root.
"""
