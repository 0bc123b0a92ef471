"""DEMO DATA ONLY, written by `manage.py seed_demo`: the world (world.py), a living agenda
(agenda.py) and two months of past consults (stories.py, written by history.py).

It reaches into every capability (scheduling, notes, room) and clinics, so it is a package of
its own that nothing but the command imports (the import contracts in pyproject.toml).
"""
